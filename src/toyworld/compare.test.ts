import { describe, expect, it } from "vitest";
import { ReelError } from "../errors.ts";
import { byObjectsNamed, comparePaired, groupAccuracies } from "./compare.ts";
import { ATTRIBUTES, type Check, type ScoredVideo } from "./evaluate.ts";

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

describe("groupAccuracies", () => {
  const check = (attribute: Check["attribute"], expected: string, correct: boolean): Check => ({
    attribute,
    object: 0,
    expected,
    detected: correct ? expected : null,
    correct,
  });
  const video = (prompt: string, checks: Check[], directions: ScoredVideo["directions"] = []): ScoredVideo => ({
    prompt,
    checks,
    directions,
    score: checks.filter((c) => c.correct).length / checks.length,
    quality: { stability: 1, sharpness: 1 },
    detected: { objects: [] },
  });
  it("splits every attribute, direction and binding by the prompt's group", () => {
    const one = "A red ball moves left.";
    const two = "A red ball and a blue square.";
    expect([byObjectsNamed(one), byObjectsNamed(two), byObjectsNamed("A plain white background.")]).toEqual([
      "one object",
      "2+ objects",
      "count not stated",
    ]);
    const g = groupAccuracies(
      [
        video(
          one,
          [check("colour", "red", true), check("shape", "ball", false)],
          [{ object: 0, expected: "left", detected: "left", correct: true }],
        ),
        video(two, [check("colour", "red", true), check("colour", "blue", false)]),
        video(one, [check("colour", "red", false)], [{ object: 0, expected: "left", detected: null, correct: false }]),
        video(two, [check("colour", "red", true), check("colour", "blue", true)]),
      ],
      byObjectsNamed,
    );
    expect(Object.keys(g)).toEqual(["one object", "2+ objects"]);
    expect(g["one object"]).toMatchObject({
      prompts: 2,
      attributes: { colour: { correct: 1, total: 2, accuracy: 0.5 }, shape: { correct: 0, total: 1, accuracy: 0 } },
      direction: { correct: 1, total: 2, accuracy: 0.5 },
      binding: { correct: 0, total: 0, accuracy: null },
    });
    expect(g["one object"]!.attributes.motion.accuracy).toBeNull();
    // Binding: prompts of two or more named colours showing every one (the second only).
    expect(g["2+ objects"]).toMatchObject({
      prompts: 2,
      attributes: { colour: { correct: 3, total: 4, accuracy: 0.75 } },
      binding: { correct: 1, total: 2, accuracy: 0.5 },
    });
  });
});
