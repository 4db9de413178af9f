/**
 * Paired comparison of two evaluations of the same prompts (e.g. two releases on the same
 * held-out set, seed = index): the mean per-prompt score difference with its standard error,
 * how many prompts went up / down, and per-attribute accuracy deltas. Prompts are paired by
 * item id; an id in one report only is an error, since an unpaired item would bias the mean.
 */
import { ReelError } from "../errors.ts";
import { ATTRIBUTES, type Attribute, type EvaluationReport } from "./evaluate.ts";

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
}

type Comparable = Pick<EvaluationReport, "items" | "overall"> & {
  readonly attributes: Record<Attribute, { readonly accuracy: number | null }>;
};

export function comparePaired(a: Comparable, b: Comparable): PairedComparison {
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
  for (const it of a.items) {
    const other = byId.get(it.id)!;
    if (it.prompt !== other.prompt)
      throw new ReelError(
        "E_INPUT_INVALID",
        `item ${it.id} has different prompts: "${it.prompt}" vs "${other.prompt}"`,
      );
    if (it.score !== null && other.score !== null) diffs.push(other.score - it.score);
  }
  const n = diffs.length;
  const meanDiff = n ? diffs.reduce((s, d) => s + d, 0) / n : 0;
  const variance = n > 1 ? diffs.reduce((s, d) => s + (d - meanDiff) ** 2, 0) / (n - 1) : 0;
  const attributes = Object.fromEntries(
    ATTRIBUTES.map((k) => {
      const x = a.attributes[k].accuracy;
      const y = b.attributes[k].accuracy;
      return [k, x === null || y === null ? null : y - x];
    }),
  ) as Record<Attribute, number | null>;
  return {
    pairs: n,
    meanDiff,
    standardError: n ? Math.sqrt(variance / n) : 0,
    up: diffs.filter((d) => d > 0).length,
    down: diffs.filter((d) => d < 0).length,
    same: diffs.filter((d) => d === 0).length,
    attributes,
    overall: { a: a.overall, b: b.overall },
  };
}
