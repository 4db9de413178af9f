/**
 * The flow-matching samplers of Wan behind one small interface (shared/docs/wan-architecture.md
 * §8): `createSampler(kind, {steps, shift})` gives the schedule (the integer timesteps for the
 * model and the sigma table) and `step(modelOutput, k, sample)`, which returns the sample for
 * step k + 1. Multistep state lives in the sampler object, inspectable as `state`; `reset()`
 * clears it for a new sample. Pure TypeScript on Float32Array, no ORT.
 *
 * The loop (§8.4): for k = 0..N−1, v = model(x, timesteps[k]) (with guidance), then
 * x = sampler.step(v, k, x). After the last step x is the clean latent.
 */
import { ReelError } from "../errors.ts";
import { DpmppSolver } from "./dpmpp.ts";
import { EulerSolver } from "./euler.ts";
import { scheduleFor } from "./schedule.ts";
import {
  type DpmppState,
  type EulerState,
  SOLVER_KINDS,
  type Schedule,
  type ScheduleOptions,
  type SolverKind,
  type UniPCState,
} from "./types.ts";
import { UniPCSolver } from "./unipc.ts";

export * from "./types.ts";
export { dpmppSchedule, linspace, scheduleFor, unipcSchedule, UNIPC_SIGMA_MAX } from "./schedule.ts";
export { shiftSigma, shiftSigmas } from "./shift.ts";

export interface Sampler {
  readonly kind: SolverKind;
  readonly schedule: Schedule;
  /** N, the number of steps (model evaluations). */
  readonly steps: number;
  /** The solver's multistep state after the last step (read it; do not change it). */
  readonly state: Readonly<UniPCState | DpmppState | EulerState>;
  /**
   * Step k (0-based, in order): takes the model's velocity prediction at (sample, timesteps[k])
   * and returns the new sample at σ_{k+1}. Inputs are not modified.
   */
  step(modelOutput: Float32Array, k: number, sample: Float32Array): Float32Array;
  /** Forgets the multistep state, so that step 0 can run again. */
  reset(): void;
  /** Continues from a saved state (a copy of `state` after some step): the next step is state.stepIndex. */
  restore(state: UniPCState | DpmppState | EulerState): void;
}

/** Creates a sampler of a kind with its schedule for (steps, shift). */
export function createSampler(kind: SolverKind, o: ScheduleOptions): Sampler {
  if (!SOLVER_KINDS.includes(kind))
    throw new ReelError(
      "E_CONFIG_INVALID",
      `sampler: unknown kind "${String(kind)}"; use one of ${SOLVER_KINDS.join(", ")}`,
    );
  const schedule = scheduleFor(kind, o);
  const solver =
    kind === "unipc"
      ? new UniPCSolver(schedule)
      : kind === "dpm++"
        ? new DpmppSolver(schedule)
        : new EulerSolver(schedule);
  return {
    kind,
    schedule,
    steps: schedule.timesteps.length,
    get state() {
      return solver.state;
    },
    step: (modelOutput, k, sample) => solver.step(modelOutput, k, sample),
    reset: () => solver.reset(),
    restore: (st) => {
      if (st.stepIndex < 0 || st.stepIndex > schedule.timesteps.length)
        throw new ReelError("E_CONFIG_INVALID", `sampler: cannot restore to step ${st.stepIndex}`);
      (solver as { state: typeof st }).state = structuredClone(st);
    },
  };
}
