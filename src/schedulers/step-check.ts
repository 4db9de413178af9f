/** Argument checks shared by the samplers' `step`. */
import { ReelError } from "../errors.ts";

export function checkStepArgs(
  name: string,
  modelOutput: Float32Array,
  k: number,
  sample: Float32Array,
  expected: number,
  steps: number,
  previousLength: number | null,
): void {
  if (k !== expected || k >= steps)
    throw new ReelError(
      "E_INPUT_INVALID",
      k >= steps
        ? `${name}: step ${k} is past the last step ${steps - 1}; call reset() to sample again`
        : `${name}: step ${k} called, but the next step is ${expected} (steps run in order 0..${steps - 1}; reset() restarts)`,
    );
  if (modelOutput.length !== sample.length)
    throw new ReelError(
      "E_INPUT_INVALID",
      `${name}: model output has ${modelOutput.length} values but the sample has ${sample.length}; they must match`,
    );
  if (previousLength !== null && previousLength !== sample.length)
    throw new ReelError(
      "E_INPUT_INVALID",
      `${name}: the sample has ${sample.length} values but earlier steps had ${previousLength}; call reset() between samples of different sizes`,
    );
}
