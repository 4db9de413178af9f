import { describe, expect, it } from "vitest";
import { ReelError } from "../errors.ts";
import { comparePaired } from "./compare.ts";
import { ATTRIBUTES } from "./evaluate.ts";

const report = (scores: (number | null)[], colour: number | null) => ({
  overall: 0.5,
  items: scores.map((score, i) => ({ id: String(i), prompt: `p${i}`, score })),
  attributes: Object.fromEntries(ATTRIBUTES.map((k) => [k, { accuracy: k === "colour" ? colour : 0.5 }])) as Record<
    (typeof ATTRIBUTES)[number],
    { accuracy: number | null }
  >,
});

describe("comparePaired", () => {
  it("gives the mean paired difference, its standard error and the up/down counts", () => {
    const c = comparePaired(report([0.5, 0.5, 1, 0, null], 0.6), report([1, 0.5, 0.5, 0.5, 1], 0.75));
    // Diffs over the 4 items scored in both (the null is left out): +0.5, 0, −0.5, +0.5, mean 0.125;
    // sample sd from the deviations 0.375, −0.125, −0.625, 0.375, standard error sd / √4.
    expect(c.pairs).toBe(4);
    expect(c.meanDiff).toBeCloseTo(0.125, 12);
    const sd = Math.sqrt((0.375 ** 2 * 2 + 0.125 ** 2 + 0.625 ** 2) / 3);
    expect(c.standardError).toBeCloseTo(sd / 2, 12);
    expect([c.up, c.down, c.same]).toEqual([2, 1, 1]);
    expect(c.attributes.colour).toBeCloseTo(0.15, 12);
    expect(c.attributes.motion).toBe(0);
  });

  it("gives the same per group of prompts when asked to group them", () => {
    const a = report([0, 0.5, 1, 0.5], 0.5);
    const b = report([1, 0.5, 0.5, 1], 0.5);
    // p0 and p2 in one group (diffs +1, −0.5), p1 and p3 in the other (0, +0.5).
    const c = comparePaired(a, b, (p) => (p === "p0" || p === "p2" ? "even" : "odd"));
    expect(Object.keys(c.groups)).toEqual(["even", "odd"]);
    expect(c.groups.even).toMatchObject({ pairs: 2, a: 0.5, b: 0.75 });
    expect(c.groups.even!.meanDiff).toBeCloseTo(0.25, 12);
    expect(c.groups.even!.standardError).toBeCloseTo(Math.sqrt((0.75 ** 2 * 2) / 1 / 2), 12);
    expect(c.groups.odd!.meanDiff).toBeCloseTo(0.25, 12);
    expect(comparePaired(a, b).groups).toEqual({});
  });

  it("refuses reports of different prompts", () => {
    const b = report([1, 1], 0.5);
    expect(() => comparePaired(report([1, 1, 1], 0.5), b)).toThrow(ReelError);
    const renamed = { ...b, items: b.items.map((it) => ({ ...it, prompt: "other" })) };
    expect(() => comparePaired(report([1, 1], 0.5), renamed)).toThrow(/different prompts/);
  });
});
