/**
 * Scalar float32 arithmetic as the official solvers do it on 0-d float32 torch tensors:
 * every operation rounds its result to float32. Transcendentals are evaluated in float64 and
 * rounded once, which is the correctly rounded float32 result but for rare ties (torch's
 * float32 `log`/`exp`/`expm1` are within 1 ulp of it).
 */

export const fr = Math.fround;

/** α = 1 − σ in float32 (`_sigma_to_alpha_sigma_t`). */
export function alphaF32(sigma: number): number {
  return fr(1 - sigma);
}

/** λ(σ) = log(α) − log(σ) in float32; −∞ at σ = 1 and +∞ at σ = 0, as IEEE arithmetic gives. */
export function lambdaF32(sigma: number): number {
  return fr(fr(Math.log(alphaF32(sigma))) - fr(Math.log(sigma)));
}

/** x0 prediction m = x − σ·v (`convert_model_output`, flow_prediction), elementwise in float32. */
export function x0Prediction(sample: Float32Array, modelOutput: Float32Array, sigma: number): Float32Array {
  const out = new Float32Array(sample.length);
  for (let j = 0; j < out.length; j++) out[j] = sample[j]! - fr(sigma * modelOutput[j]!);
  return out;
}
