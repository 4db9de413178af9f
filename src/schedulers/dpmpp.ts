/**
 * DPM-Solver++ (2M, midpoint) for flow matching, Wan's `--sample_solver dpm++`
 * (shared/docs/wan-architecture.md §8.3). Reference: Wan-Video/Wan2.1 @9737cba,
 * wan/utils/fm_solvers.py, class FlowDPMSolverMultistepScheduler (`step`,
 * `convert_model_output`, `dpm_solver_first_order_update`,
 * `multistep_dpm_solver_second_order_update`) with its defaults: solver_order 2,
 * algorithm_type "dpmsolver++", solver_type "midpoint", lower_order_final, final_sigmas_type
 * "zero", flow_prediction.
 *
 * Order 1 at step 0 (warm-up) and at the last step (the final σ is 0), order 2 otherwise.
 * σ_0 = 1 gives λ_0 = −∞: step 0 becomes x_1 = σ_1·x_0 + α_1·m_0 and step 1 has D1 = 0, as
 * IEEE arithmetic gives in the reference.
 *
 * Precision as the official code: scalars and elementwise operations in float32, each
 * operation rounded (f32.ts).
 *
 * Deviation: the step index is passed explicitly and must follow 0, 1, …, N − 1.
 */
import { alphaF32, fr, lambdaF32, x0Prediction } from "./f32.ts";
import { checkStepArgs } from "./step-check.ts";
import type { DpmppState, Schedule } from "./types.ts";

const SOLVER_ORDER = 2;

export function initialDpmppState(): DpmppState {
  return { stepIndex: 0, modelOutputs: [null, null], lowerOrderNums: 0 };
}

export class DpmppSolver {
  readonly name = "dpm++";
  state: DpmppState = initialDpmppState();

  constructor(readonly schedule: Schedule) {}

  get steps(): number {
    return this.schedule.timesteps.length;
  }

  reset(): void {
    this.state = initialDpmppState();
  }

  step(modelOutput: Float32Array, k: number, sample: Float32Array): Float32Array {
    const s = this.state;
    checkStepArgs(this.name, modelOutput, k, sample, s.stepIndex, this.steps, s.modelOutputs[1]?.length ?? null);
    const sig = this.schedule.sigmas;
    const m0 = x0Prediction(sample, modelOutput, sig[k]!);
    s.modelOutputs = [s.modelOutputs[1], m0];
    const m1 = s.modelOutputs[0];
    const lowerOrderFinal = k === this.steps - 1; // final_sigmas_type "zero"
    const firstOrder = s.lowerOrderNums < 1 || lowerOrderFinal;

    const sigmaT = sig[k + 1]!;
    const sigmaS0 = sig[k]!;
    const alphaT = alphaF32(sigmaT);
    const lambdaS0 = lambdaF32(sigmaS0);
    const h = fr(lambdaF32(sigmaT) - lambdaS0);
    const ratio = fr(sigmaT / sigmaS0);
    const aE = fr(alphaT * fr(fr(Math.exp(-h)) - 1)); // α_t·(e^{−h} − 1)
    const out = new Float32Array(sample.length);
    if (firstOrder || m1 === null) {
      for (let j = 0; j < out.length; j++) out[j] = fr(ratio * sample[j]!) - fr(aE * m0[j]!);
    } else {
      const h0 = fr(lambdaS0 - lambdaF32(sig[k - 1]!));
      const invR0 = fr(1 / fr(h0 / h));
      const half = fr(0.5 * aE);
      for (let j = 0; j < out.length; j++) {
        const d1 = fr(invR0 * fr(m0[j]! - m1[j]!));
        out[j] = fr(fr(ratio * sample[j]!) - fr(aE * m0[j]!)) - fr(half * d1);
      }
    }
    if (s.lowerOrderNums < SOLVER_ORDER) s.lowerOrderNums++;
    s.stepIndex++;
    return out;
  }
}
