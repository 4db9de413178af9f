/**
 * The sigma shift of the Wan flow-matching schedules (shared/docs/wan-architecture.md §8.1):
 * `shift(σ) = s·σ / (1 + (s − 1)·σ)`, evaluated in float64 in the official operation order
 * (`shift * sigmas / (1 + (shift - 1) * sigmas)` on numpy float64 arrays).
 * Reference: Wan-Video/Wan2.1 @9737cba, wan/utils/fm_solvers.py and fm_solvers_unipc.py.
 */
import { ReelError } from "../errors.ts";

/** Throws unless `shift` is a finite number > 0. */
export function checkShift(shift: number): void {
  if (!Number.isFinite(shift) || shift <= 0)
    throw new ReelError("E_CONFIG_INVALID", `sampler: shift must be a finite number > 0, got ${shift}`);
}

/** shift(σ) in float64. Maps 0 → 0 and 1 → 1; shift 1 is the identity, s > 1 moves σ toward 1. */
export function shiftSigma(sigma: number, shift: number): number {
  return (shift * sigma) / (1 + (shift - 1) * sigma);
}

/** shift(σ) for every entry, in float64. */
export function shiftSigmas(sigmas: Float64Array, shift: number): Float64Array {
  checkShift(shift);
  return sigmas.map((s) => shiftSigma(s, shift));
}
