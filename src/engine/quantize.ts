/**
 * Weight transforms computed once per checkpoint and cached on disk (engine/compile.ts):
 * symmetric per-output-channel int8 for Linear weights, laid out for
 * `com.microsoft.DynamicQuantizeMatMul` (B is [in, out]).
 */
import type { DeriveKind } from "./graph.ts";
import type { TypedData } from "./tensor.ts";

/**
 * W [out, in] float32 → q [in, out] int8 and scale [out], with W[o, i] ≈ q[i, o]·scale[o],
 * scale = max|W[o, :]| / qmax, q = round(W/scale) (ties away from zero). qmax is 127, or 63
 * where the CPU's int8 kernels would saturate (engine/cpu.ts).
 */
export function quantizeInt8ColumnWise(
  w: Float32Array,
  outF: number,
  inF: number,
  qmax = 127,
): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(outF * inF);
  const scale = new Float32Array(outF);
  for (let o = 0; o < outF; o++) {
    let mx = 0;
    const row = o * inF;
    for (let i = 0; i < inF; i++) mx = Math.max(mx, Math.abs(w[row + i]!));
    const s = mx > 0 ? mx / qmax : 1;
    scale[o] = s;
    const inv = 1 / s;
    for (let i = 0; i < inF; i++) {
      const v = Math.round(w[row + i]! * inv);
      q[i * outF + o] = Math.max(-qmax, Math.min(qmax, v));
    }
  }
  return { q, scale };
}

/** Computes every derive kind of one source tensor W [out, in]; int8 weights within ±qmax. */
export function deriveAll(w: Float32Array, shape: readonly number[], qmax = 127): Record<DeriveKind, TypedData> {
  const [outF, inF] = shape as [number, number];
  const { q, scale } = quantizeInt8ColumnWise(w, outF, inF, qmax);
  return { int8_t: q, int8_scale: scale };
}
