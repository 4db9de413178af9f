/**
 * The one-object prompts on which the embedded-model test (test/e2e/embedded-model.test.ts)
 * checks the shipped reel-toy's colours, with the colour each must show. A candidate release is
 * checked on the same prompts beforehand with `node bin/run-ts.js scripts/toy/fixed-prompts.ts
 * MODEL_DIR`, so the test and the release check cannot drift apart.
 */
import type { Colour } from "./vocab.ts";

export const FIXED_COLOUR_PROMPTS: readonly (readonly [prompt: string, colour: Colour])[] = [
  ["a red ball moves to the right against a plain white background", "red"],
  ["a blue square moves left against a plain white background", "blue"],
  ["a yellow star moves up against a clear blue sky", "yellow"],
  ["a green heart moves down on a plain black background", "green"],
];

/** Seeds the test generates at, and how many of those clips must show the right colour. */
export const FIXED_COLOUR_SEEDS = ["0", "1"] as const;
export const FIXED_COLOUR_MIN_RIGHT = 7;
