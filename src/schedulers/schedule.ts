/**
 * Sigma and timestep tables of the Wan samplers, built exactly as the official code does
 * (shared/docs/wan-architecture.md §8.1). Reference: Wan-Video/Wan2.1 @9737cba,
 * wan/utils/fm_solvers_unipc.py (`FlowUniPCMultistepScheduler.__init__`, `set_timesteps`),
 * wan/utils/fm_solvers.py (`get_sampling_sigmas`, `retrieve_timesteps`,
 * `FlowDPMSolverMultistepScheduler.set_timesteps`), wan/text2video.py (how they are called).
 *
 * - UniPC: built with shift 1, so σ_max = float32(1 − 1/1000) and σ_min = 0; then
 *   `set_timesteps(N, shift=s)`: σ_k = shift(linspace(σ_max, 0, N + 1)[k]), k < N, in float64.
 * - DPM++: σ_k = shift(linspace(1, 0, N + 1)[k]) (`get_sampling_sigmas`), handed to
 *   `set_timesteps(sigmas=…)`, which applies the constructor's shift 1 again (an exact identity).
 * - Both: t_k = int64(1000·σ_k) truncated; the solver's table is float32([σ_0..σ_{N−1}, 0]).
 * - Euler (reel's addition; Wan has none): the DPM++ table, so sampling starts at σ = 1.
 *
 * numpy's `linspace(a, b, n)` is reproduced operation for operation (`k·step + a` with
 * `step = (b − a)/(n − 1)`), so the truncated timesteps agree with the official ones exactly.
 */
import { ReelError } from "../errors.ts";
import { checkShift, shiftSigma } from "./shift.ts";
import type { Schedule, ScheduleOptions, SolverKind } from "./types.ts";

const NUM_TRAIN_TIMESTEPS = 1000;

/** σ_max of `FlowUniPCMultistepScheduler(shift=1)`: float32(1 − 1/1000) = 0.9990000128746033. */
export const UNIPC_SIGMA_MAX = Math.fround(1 - 1 / NUM_TRAIN_TIMESTEPS);

/** Throws unless steps is an integer in [1, 1000] and shift a finite number > 0. */
export function checkScheduleOptions(o: ScheduleOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > NUM_TRAIN_TIMESTEPS)
    throw new ReelError(
      "E_CONFIG_INVALID",
      `sampler: steps must be an integer from 1 to ${NUM_TRAIN_TIMESTEPS}, got ${o.steps}`,
    );
  checkShift(o.shift);
}

/** numpy.linspace(start, stop, num) with endpoint, in float64, operation for operation. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const y = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let k = 0; k < num; k++) y[k] = k * step + start;
  if (num > 1) y[num - 1] = stop;
  return y;
}

/** Turns the N shifted float64 sigmas into the solver's table: integer timesteps and float32 sigmas + 0. */
function toSchedule(shifted: Float64Array): Schedule {
  const n = shifted.length;
  const timesteps = new Int32Array(n);
  const sigmas = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    timesteps[k] = Math.trunc(shifted[k]! * NUM_TRAIN_TIMESTEPS);
    sigmas[k] = Math.fround(shifted[k]!);
  }
  sigmas[n] = 0;
  return { sigmas, timesteps };
}

/** `FlowUniPCMultistepScheduler(shift=1).set_timesteps(steps, shift=shift)`. */
export function unipcSchedule(o: ScheduleOptions): Schedule {
  checkScheduleOptions(o);
  const base = linspace(UNIPC_SIGMA_MAX, 0, o.steps + 1).subarray(0, o.steps);
  return toSchedule(base.map((s) => shiftSigma(s, o.shift)));
}

/** `retrieve_timesteps(FlowDPMSolverMultistepScheduler(shift=1), sigmas=get_sampling_sigmas(steps, shift))`. */
export function dpmppSchedule(o: ScheduleOptions): Schedule {
  checkScheduleOptions(o);
  const sampling = linspace(1, 0, o.steps + 1)
    .subarray(0, o.steps)
    .map((s) => shiftSigma(s, o.shift));
  // set_timesteps(sigmas=…) shifts again with the constructor's shift = 1: exact, kept for fidelity.
  return toSchedule(sampling.map((s) => shiftSigma(s, 1)));
}

/** The table that each sampler kind uses. */
export function scheduleFor(kind: SolverKind, o: ScheduleOptions): Schedule {
  switch (kind) {
    case "unipc":
      return unipcSchedule(o);
    case "dpm++":
    case "euler":
      return dpmppSchedule(o);
  }
}
