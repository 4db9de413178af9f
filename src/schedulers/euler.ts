/**
 * Flow-matching Euler sampler: x_{k+1} = x_k + (σ_{k+1} − σ_k)·v_k
 * (shared/docs/wan-architecture.md §8.3, last paragraph). reel's addition: the official Wan
 * code has no Euler sampler and there is no official fixture. It runs on the DPM++ table
 * (σ_0 = 1, see schedule.ts), so the first sample is pure noise.
 *
 * Precision: Δσ comes from the float32 sigma table and is exact in float64; each element is
 * computed in float64 and rounded to float32 once.
 */
import { checkStepArgs } from "./step-check.ts";
import type { EulerState, Schedule } from "./types.ts";

export class EulerSolver {
  readonly name = "euler";
  state: EulerState = { stepIndex: 0 };

  constructor(readonly schedule: Schedule) {}

  get steps(): number {
    return this.schedule.timesteps.length;
  }

  reset(): void {
    this.state = { stepIndex: 0 };
  }

  step(modelOutput: Float32Array, k: number, sample: Float32Array): Float32Array {
    checkStepArgs(this.name, modelOutput, k, sample, this.state.stepIndex, this.steps, null);
    const dSigma = this.schedule.sigmas[k + 1]! - this.schedule.sigmas[k]!;
    const out = new Float32Array(sample.length);
    for (let j = 0; j < out.length; j++) out[j] = sample[j]! + dSigma * modelOutput[j]!;
    this.state.stepIndex++;
    return out;
  }
}
