/** Tensor comparison with the fixtures' tolerance: |got − want| ≤ atol + rtol·|want| elementwise. */
import type { TypedData } from "../engine/tensor.ts";

export const FIXTURE_ATOL = 2e-5;
export const FIXTURE_RTOL = 1e-4;

export interface Comparison {
  readonly fixture: string;
  readonly tensor: string;
  readonly ok: boolean;
  /** max |got − want| */
  readonly maxAbs: number;
  /** max |got − want| / max |want| */
  readonly maxRel: number;
  /** Set when the tensor could not be compared at all (size mismatch, not produced). */
  readonly problem?: string;
}

/** A tensor that could not be compared at all (not produced, wrong shape): a failure saying why. */
export function failedComparison(fixture: string, tensor: string, problem: string): Comparison {
  return { fixture, tensor, ok: false, maxAbs: Number.NaN, maxRel: Number.NaN, problem };
}

export function compareTensor(
  fixture: string,
  tensor: string,
  got: TypedData,
  want: TypedData,
  tol = { atol: FIXTURE_ATOL, rtol: FIXTURE_RTOL },
): Comparison {
  if (got.length !== want.length)
    return failedComparison(fixture, tensor, `${got.length} values, expected ${want.length}`);
  const exact = want instanceof BigInt64Array;
  let maxAbs = 0;
  let maxWant = 0;
  let ok = true;
  for (let i = 0; i < want.length; i++) {
    const w = Number(want[i]!);
    const g = Number(got[i]!);
    const d = Math.abs(g - w);
    if (!(d <= (exact ? 0 : tol.atol + tol.rtol * Math.abs(w)))) ok = false; // NaN fails
    if (d > maxAbs || Number.isNaN(d)) maxAbs = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    maxWant = Math.max(maxWant, Math.abs(w));
  }
  return { fixture, tensor, ok, maxAbs, maxRel: maxWant > 0 ? maxAbs / maxWant : maxAbs };
}

export function formatComparison(c: Comparison): string {
  const num = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : String(x));
  const status = c.ok ? "ok" : "FAIL";
  const extra = c.problem ? `  (${c.problem})` : "";
  return `${c.fixture.padEnd(18)} ${c.tensor.padEnd(24)} max_abs ${num(c.maxAbs).padStart(9)}  max_rel ${num(c.maxRel).padStart(9)}  ${status}${extra}`;
}
