/**
 * UniPC multistep sampler for flow matching, as Wan's default `--sample_solver unipc`
 * (shared/docs/wan-architecture.md §8.2). Reference: Wan-Video/Wan2.1 @9737cba,
 * wan/utils/fm_solvers_unipc.py, class FlowUniPCMultistepScheduler (`step`,
 * `convert_model_output`, `multistep_uni_p_bh_update`, `multistep_uni_c_bh_update`) with the
 * arguments of wan/text2video.py: solver_order 2, predict_x0, solver_type "bh2",
 * lower_order_final, no disabled corrector, final_sigmas_type "zero", flow_prediction.
 *
 * Precision as the official code: every scalar (α, λ, h, φ, B_h, r, b, ρ) and every
 * elementwise operation is float32, each operation rounded (f32.ts). The 2×2 system of the
 * order-2 corrector is solved by LU with partial pivoting in float32, as LAPACK `sgesv`.
 *
 * Deviations:
 * - The step index is passed explicitly and must follow 0, 1, …, N − 1 (the official looks
 *   up the first timestep in its table and counts from there; with distinct timesteps it is
 *   the same).
 * - Only solver order 2 (Wan's setting): the predictor uses ρ = 0.5 for order 2, as the
 *   reference's "simplified version", and the general order-p solve is not needed.
 */
import { alphaF32, fr, lambdaF32, x0Prediction } from "./f32.ts";
import { checkStepArgs } from "./step-check.ts";
import type { Schedule, UniPCState } from "./types.ts";

const SOLVER_ORDER = 2;

export function initialUniPCState(): UniPCState {
  return { stepIndex: 0, modelOutputs: [null, null], lastSample: null, thisOrder: 0, lowerOrderNums: 0 };
}

/** Solves [[a00, a01], [a10, a11]]·x = b in float32 like LAPACK sgesv (sgetrf2 + sgetrs). */
export function solve2x2F32(
  a: readonly [number, number, number, number],
  b: readonly [number, number],
): [number, number] {
  let [a00, a01, a10, a11] = a;
  let [b0, b1] = b;
  if (Math.abs(a10) > Math.abs(a00)) {
    [a00, a01, a10, a11] = [a10, a11, a00, a01];
    [b0, b1] = [b1, b0];
  }
  const l = fr(a10 * fr(1 / a00));
  const u11 = fr(a11 - fr(l * a01));
  const y1 = fr(b1 - fr(l * b0));
  const x1 = fr(y1 / u11);
  const x0 = fr(fr(b0 - fr(a01 * x1)) / a00);
  return [x0, x1];
}

/** The scalars of one UniPC update from σ_s0 to σ_t (float32). `r` is only read for order 2. */
interface Coefficients {
  /** σ_t / σ_s0 */
  readonly ratio: number;
  /** α_t·hφ_1 with hφ_1 = expm1(−h) */
  readonly aPhi: number;
  /** α_t·B_h with B_h = expm1(−h) (bh2) */
  readonly aB: number;
  /** r = (λ_s1 − λ_s0)/h, the step ratio to the older point (order 2) */
  readonly r: number;
  /** −h and φ = expm1(−h), for the corrector's b vector */
  readonly hh: number;
  readonly phi: number;
}

function coefficients(sigmaT: number, sigmaS0: number, sigmaS1: number | undefined): Coefficients {
  const alphaT = alphaF32(sigmaT);
  const lambdaS0 = lambdaF32(sigmaS0);
  const h = fr(lambdaF32(sigmaT) - lambdaS0);
  const hh = -h;
  const phi = fr(Math.expm1(hh));
  const r = sigmaS1 === undefined ? Number.NaN : fr(fr(lambdaF32(sigmaS1) - lambdaS0) / h);
  return { ratio: fr(sigmaT / sigmaS0), aPhi: fr(alphaT * phi), aB: fr(alphaT * phi), r, hh, phi };
}

/** ρ of the corrector: 0.5 for order 1; for order 2 the solution of [[1, 1], [r, 1]]·ρ = [b1, b2]. */
function correctorRhos(c: Coefficients, order: number): [number, number] {
  if (order === 1) return [0, 0.5];
  // hφ_k ← hφ_k/hh − 1/k!, b_k = hφ_k·k!/B_h (B_h = φ for bh2)
  let hPhiK = fr(fr(c.phi / c.hh) - 1);
  const b1 = fr(hPhiK / c.phi);
  hPhiK = fr(fr(hPhiK / c.hh) - 0.5);
  const b2 = fr(fr(hPhiK * 2) / c.phi);
  return solve2x2F32([1, 1, c.r, 1], [b1, b2]);
}

export class UniPCSolver {
  readonly name = "unipc";
  state: UniPCState = initialUniPCState();

  constructor(readonly schedule: Schedule) {}

  get steps(): number {
    return this.schedule.timesteps.length;
  }

  reset(): void {
    this.state = initialUniPCState();
  }

  /** One step k: corrects x_k with the new model output (k > 0), then predicts x_{k+1}. */
  step(modelOutput: Float32Array, k: number, sample: Float32Array): Float32Array {
    const s = this.state;
    checkStepArgs(this.name, modelOutput, k, sample, s.stepIndex, this.steps, s.modelOutputs[1]?.length ?? null);
    const sig = this.schedule.sigmas;
    const m = x0Prediction(sample, modelOutput, sig[k]!);
    let x = sample;
    if (k > 0 && s.lastSample !== null) x = this.correct(m, k, s.lastSample, s.thisOrder);
    s.modelOutputs = [s.modelOutputs[1], m];
    // lower_order_final: the last step is order 1; warm-up: order ≤ steps run so far + 1.
    s.thisOrder = Math.min(SOLVER_ORDER, this.steps - k, s.lowerOrderNums + 1);
    s.lastSample = x === sample ? sample.slice() : x;
    const out = this.predict(k, x, s.thisOrder);
    if (s.lowerOrderNums < SOLVER_ORDER) s.lowerOrderNums++;
    s.stepIndex++;
    return out;
  }

  /** UniP (`multistep_uni_p_bh_update`): from σ_k to σ_{k+1}, reading m_k (and m_{k−1} for order 2). */
  private predict(k: number, x: Float32Array, order: number): Float32Array {
    const sig = this.schedule.sigmas;
    const [m1, m0] = this.state.modelOutputs as [Float32Array | null, Float32Array];
    const c = coefficients(sig[k + 1]!, sig[k]!, order === 2 ? sig[k - 1] : undefined);
    const out = new Float32Array(x.length);
    for (let j = 0; j < out.length; j++) out[j] = fr(c.ratio * x[j]!) - fr(c.aPhi * m0[j]!);
    if (order === 2 && m1 !== null) {
      for (let j = 0; j < out.length; j++) {
        const d1 = fr(fr(m1[j]! - m0[j]!) / c.r);
        out[j] = out[j]! - fr(c.aB * fr(0.5 * d1));
      }
    }
    return out;
  }

  /** UniC (`multistep_uni_c_bh_update`): corrects x_k from x̂_{k−1} with m_k, m_{k−1} (and m_{k−2}). */
  private correct(mT: Float32Array, k: number, last: Float32Array, order: number): Float32Array {
    const sig = this.schedule.sigmas;
    const [m1, m0] = this.state.modelOutputs as [Float32Array | null, Float32Array];
    const c = coefficients(sig[k]!, sig[k - 1]!, order === 2 ? sig[k - 2] : undefined);
    const [rho0, rhoT] = correctorRhos(c, order);
    const out = new Float32Array(mT.length);
    for (let j = 0; j < out.length; j++) {
      const base = fr(fr(c.ratio * last[j]!) - fr(c.aPhi * m0[j]!));
      const corrRes = order === 2 && m1 !== null ? fr(rho0 * fr(fr(m1[j]! - m0[j]!) / c.r)) : 0;
      const corr = fr(corrRes + fr(rhoT * fr(mT[j]! - m0[j]!)));
      out[j] = base - fr(c.aB * corr);
    }
    return out;
  }
}
