/**
 * Types of the flow-matching samplers (shared/docs/wan-architecture.md §8).
 *
 * Convention (rectified flow, as Wan): x_σ = (1 − σ)·x0 + σ·noise, the model predicts the
 * velocity v = dx/dσ = noise − x0, and sampling runs σ from about 1 down to 0.
 */

export type SolverKind = "unipc" | "dpm++" | "euler";

export const SOLVER_KINDS: readonly SolverKind[] = ["unipc", "dpm++", "euler"];

export interface ScheduleOptions {
  /** Number of sampling steps N (model evaluations). */
  readonly steps: number;
  /** Sigma shift s of `shift(σ) = s·σ / (1 + (s − 1)·σ)`; 1 leaves the schedule unshifted. */
  readonly shift: number;
}

export interface Schedule {
  /**
   * The solver's sigma table σ_0..σ_N (N + 1 entries, the last one 0). The values are the
   * float32 numbers the official solver reads, held as float64.
   */
  readonly sigmas: Float64Array;
  /** The integer timesteps t_0..t_{N−1} given to the model (`int64(1000·σ_k)`, truncated). */
  readonly timesteps: Int32Array;
}

/** State of the UniPC multistep solver after the last call to `step` (all of it, nothing hidden). */
export interface UniPCState {
  /** The step index k that the next call to `step` must have. */
  stepIndex: number;
  /** The x0 predictions of the two latest steps, oldest first: [m_{k−2}, m_{k−1}]. */
  modelOutputs: [Float32Array | null, Float32Array | null];
  /** x̂_{k−1}: the (corrected) sample that was the predictor's input at the previous step. */
  lastSample: Float32Array | null;
  /** The predictor order used at the previous step; the corrector uses it at this step. */
  thisOrder: number;
  /** How many steps have run, capped at the solver order (the warm-up counter). */
  lowerOrderNums: number;
}

/** State of the DPM-Solver++ multistep solver. */
export interface DpmppState {
  /** The step index k that the next call to `step` must have. */
  stepIndex: number;
  /** The x0 predictions of the two latest steps, oldest first: [m_{k−2}, m_{k−1}]. */
  modelOutputs: [Float32Array | null, Float32Array | null];
  /** How many steps have run, capped at the solver order (the warm-up counter). */
  lowerOrderNums: number;
}

/** State of the Euler sampler: only where it is in the schedule. */
export interface EulerState {
  /** The step index k that the next call to `step` must have. */
  stepIndex: number;
}
