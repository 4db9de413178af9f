/**
 * Paired comparison of two evaluations of the same prompts (e.g. two releases on the same
 * held-out set, seed = index): the mean per-prompt score difference with its standard error,
 * how many prompts went up / down, and per-attribute accuracy deltas. Prompts are paired by
 * item id; an id in one report only is an error, since an unpaired item would bias the mean.
 * With a grouping of prompts (e.g. by how many objects they name) the same is given per group.
 * `groupAccuracies` splits the per-check details (`reel eval --details`) the same way, so a change
 * that helps prompts naming two objects and hurts those naming one shows in each attribute.
 */
import { ReelError } from "../errors.ts";
import { parsePrompt } from "./parse.ts";
import { namedObjectCount } from "./prompt.ts";
import { ATTRIBUTES, type Attribute, aggregate, type EvaluationReport, type ScoredVideo } from "./evaluate.ts";

export interface PairedComparison {
  /** Items scored in both (items with a null score in either are left out). */
  readonly pairs: number;
  /** Mean of (b − a) per item, and its standard error (sample sd / √pairs). */
  readonly meanDiff: number;
  readonly standardError: number;
  readonly up: number;
  readonly down: number;
  readonly same: number;
  /** b − a in accuracy per attribute (null where either report has no check of it). */
  readonly attributes: Record<Attribute, number | null>;
  readonly overall: { readonly a: number | null; readonly b: number | null };
  /** Per group of prompts (only with a `groupOf`), in order of first appearance. */
  readonly groups: Record<string, GroupComparison>;
}

export interface GroupComparison {
  readonly pairs: number;
  /** Mean per-prompt score of each report over the group's paired items. */
  readonly a: number;
  readonly b: number;
  readonly meanDiff: number;
  readonly standardError: number;
}

/** Mean and standard error (sample sd / √n) of paired differences. */
function meanAndError(diffs: readonly number[]): { meanDiff: number; standardError: number } {
  const n = diffs.length;
  const meanDiff = n ? diffs.reduce((s, d) => s + d, 0) / n : 0;
  const variance = n > 1 ? diffs.reduce((s, d) => s + (d - meanDiff) ** 2, 0) / (n - 1) : 0;
  return { meanDiff, standardError: n ? Math.sqrt(variance / n) : 0 };
}

type Comparable = Pick<EvaluationReport, "items" | "overall"> & {
  readonly attributes: Record<Attribute, { readonly accuracy: number | null }>;
};

export function comparePaired(a: Comparable, b: Comparable, groupOf?: (prompt: string) => string): PairedComparison {
  const byId = new Map(b.items.map((it) => [it.id, it]));
  const onlyA = a.items.filter((it) => !byId.has(it.id)).map((it) => it.id);
  const ids = new Set(a.items.map((it) => it.id));
  const onlyB = b.items.filter((it) => !ids.has(it.id)).map((it) => it.id);
  if (onlyA.length || onlyB.length)
    throw new ReelError(
      "E_INPUT_INVALID",
      `the two evaluations are not of the same items (in the first only: ${onlyA.slice(0, 5).join(", ") || "none"}; in the second only: ${onlyB.slice(0, 5).join(", ") || "none"}); evaluate both on one prompt file with the same --seed`,
    );
  const diffs: number[] = [];
  const grouped = new Map<string, [number, number][]>(); // group -> (a, b) scores
  for (const it of a.items) {
    const other = byId.get(it.id)!;
    if (it.prompt !== other.prompt)
      throw new ReelError(
        "E_INPUT_INVALID",
        `item ${it.id} has different prompts: "${it.prompt}" vs "${other.prompt}"`,
      );
    if (it.score === null || other.score === null) continue;
    diffs.push(other.score - it.score);
    if (groupOf) {
      const g = groupOf(it.prompt);
      const pairs = grouped.get(g) ?? [];
      pairs.push([it.score, other.score]);
      grouped.set(g, pairs);
    }
  }
  const groups = Object.fromEntries(
    [...grouped].map(([g, s]) => [
      g,
      {
        pairs: s.length,
        a: s.reduce((t, [x]) => t + x, 0) / s.length,
        b: s.reduce((t, [, y]) => t + y, 0) / s.length,
        ...meanAndError(s.map(([x, y]) => y - x)),
      },
    ]),
  );
  const attributes = Object.fromEntries(
    ATTRIBUTES.map((k) => {
      const x = a.attributes[k].accuracy;
      const y = b.attributes[k].accuracy;
      return [k, x === null || y === null ? null : y - x];
    }),
  ) as Record<Attribute, number | null>;
  return {
    pairs: diffs.length,
    ...meanAndError(diffs),
    up: diffs.filter((d) => d > 0).length,
    down: diffs.filter((d) => d < 0).length,
    same: diffs.filter((d) => d === 0).length,
    attributes,
    overall: { a: a.overall, b: b.overall },
    groups,
  };
}

/** Right checks of one kind in a group, and their share (null: none checked). */
export interface Counts {
  readonly correct: number;
  readonly total: number;
  readonly accuracy: number | null;
}

/** One group's accuracies: every attribute, plus the report-only direction and binding. */
export interface GroupAccuracy {
  readonly prompts: number;
  readonly attributes: Record<Attribute, Counts>;
  readonly direction: Counts;
  readonly binding: Counts;
}

/** Per-check details of one evaluation, split by `groupOf(prompt)`, groups in order of first appearance. */
export function groupAccuracies(
  details: readonly ScoredVideo[],
  groupOf: (prompt: string) => string,
): Record<string, GroupAccuracy> {
  const grouped = new Map<string, ScoredVideo[]>();
  for (const d of details) {
    const g = groupOf(d.prompt);
    const members = grouped.get(g);
    if (members) members.push(d);
    else grouped.set(g, [d]);
  }
  const counts = ({ correct, total, accuracy }: Counts): Counts => ({ correct, total, accuracy });
  return Object.fromEntries(
    [...grouped].map(([g, ds]) => {
      const r = aggregate(ds);
      const attributes = Object.fromEntries(ATTRIBUTES.map((k) => [k, counts(r.attributes[k])])) as Record<
        Attribute,
        Counts
      >;
      return [g, { prompts: ds.length, attributes, direction: counts(r.direction), binding: counts(r.binding) }];
    }),
  );
}

/** "one object", "2+ objects", or "count not stated" (none named, or a bare plural), as the evaluator parses the prompt. */
export function byObjectsNamed(prompt: string): string {
  const n = namedObjectCount(parsePrompt(prompt));
  return n === undefined ? "count not stated" : n === 1 ? "one object" : "2+ objects";
}
