/**
 * The one-object prompts on which the embedded-model test (test/e2e/embedded-model.test.ts)
 * checks the shipped reel-toy, with the colour and the direction of travel each names. A
 * candidate release is checked on the same prompts beforehand with `node bin/run-ts.js
 * scripts/toy/fixed-prompts.ts MODEL_DIR`, so the test and the release check cannot drift apart.
 */
import { direction, MOVE_MIN } from "./classify-motion.ts";
import type { Colour, Direction } from "./vocab.ts";

export interface FixedPrompt {
  readonly prompt: string;
  readonly colour: Colour;
  readonly direction: Direction;
}

export const FIXED_PROMPTS: readonly FixedPrompt[] = [
  { prompt: "a red ball moves to the right against a plain white background", colour: "red", direction: "right" },
  { prompt: "a blue square moves left against a plain white background", colour: "blue", direction: "left" },
  { prompt: "a yellow star moves up against a clear blue sky", colour: "yellow", direction: "up" },
  { prompt: "a green heart moves down on a plain black background", colour: "green", direction: "down" },
];

/** Seeds the test generates at, and how many of those clips must pass each check. */
export const FIXED_SEEDS = ["0", "1"] as const;
export const FIXED_MIN_RIGHT = 7;

interface Moved {
  readonly colour: string | null;
  readonly dx: number;
  readonly dy: number;
}

/**
 * The direction check: the evaluator's tracked object of the named colour (or, with none of
 * that colour, the first it found) moved at least MOVE_MIN frame heights, and the compass
 * direction of its net displacement is the named one. Unlike the evaluator's motion label, this
 * does not ask whether the object also changed size on the way (there a label of grow or shrink
 * takes precedence over a move).
 */
export function movedAsNamed(objects: readonly Moved[], fixed: FixedPrompt): boolean {
  const o = objects.find((x) => x.colour === fixed.colour) ?? objects[0];
  if (!o) return false;
  return Math.hypot(o.dx, o.dy) >= MOVE_MIN && direction(o.dx, o.dy) === fixed.direction;
}
