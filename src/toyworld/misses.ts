/**
 * What the evaluator saw where a check failed: for one attribute, the detected values of its
 * wrong checks, most frequent first ("none" where nothing was detected). It tells a model that
 * draws the wrong thing from one that draws nothing, e.g. motion read as grow/shrink (objects
 * that change size) versus stay (objects that do not move) versus another direction.
 */
import type { Attribute, VideoEvaluation } from "./evaluate.ts";

export interface Miss {
  readonly detected: string;
  readonly count: number;
}

export interface Misses {
  readonly attribute: Attribute;
  /** Checks of this attribute, and how many of them failed. */
  readonly total: number;
  readonly wrong: number;
  /** Detected values of the failed checks, most frequent first (ties by name). */
  readonly seen: readonly Miss[];
}

export function missesOf(evals: readonly VideoEvaluation[], attribute: Attribute): Misses {
  const tally = new Map<string, number>();
  let total = 0;
  let wrong = 0;
  for (const e of evals)
    for (const c of e.checks) {
      if (c.attribute !== attribute) continue;
      total++;
      if (c.correct) continue;
      wrong++;
      const key = c.detected === null ? "none" : String(c.detected);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
  const seen = [...tally.entries()]
    .map(([detected, count]) => ({ detected, count }))
    .sort((a, b) => b.count - a.count || a.detected.localeCompare(b.detected));
  return { attribute, total, wrong, seen };
}

/** "grow 40, shrink 25, stay 20, move-left 9 (94 wrong of 120)" – at most `top` values, the rest summed. */
export function formatMisses(m: Misses, top = 6): string {
  if (m.wrong === 0) return `none wrong of ${m.total}`;
  const shown = m.seen.slice(0, top).map((s) => `${s.detected} ${s.count}`);
  const rest = m.seen.slice(top).reduce((a, s) => a + s.count, 0);
  if (rest > 0) shown.push(`other ${rest}`);
  return `${shown.join(", ")} (${m.wrong} wrong of ${m.total})`;
}
