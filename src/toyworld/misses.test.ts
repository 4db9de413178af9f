import { describe, expect, it } from "vitest";
import { analyzeVideo } from "./analyze.ts";
import { scoreAnalysis } from "./evaluate.ts";
import { formatMisses, missesOf } from "./misses.ts";
import { fullAttrs } from "./prompt.ts";
import { sampleScene } from "./sample.ts";

describe("missesOf", () => {
  it("tallies what was detected where an attribute was wrong", () => {
    const samples = Array.from({ length: 6 }, (_, i) => sampleScene(300_000 + i));
    const analyses = samples.map((s) => analyzeVideo(s.frames));
    const right = samples.map((s, i) => scoreAnalysis(analyses[i]!, fullAttrs(s.scene)));
    // Video i scored against scene i+1's attributes: what is detected is video i's truth.
    const shifted = samples.map((_, i) => scoreAnalysis(analyses[i]!, fullAttrs(samples[(i + 1) % 6]!.scene)));
    const m = missesOf(shifted, "background");
    expect(m.total).toBe(6);
    const wrongTruth = samples
      .filter((s, i) => s.scene.background !== samples[(i + 1) % 6]!.scene.background)
      .map((s) => s.scene.background);
    expect(wrongTruth.length).toBeGreaterThan(0);
    expect(m.wrong).toBe(wrongTruth.length);
    expect(m.seen.reduce((a, s) => a + s.count, 0)).toBe(m.wrong);
    expect(m.seen.map((s) => s.detected).sort()).toEqual([...new Set(wrongTruth)].sort());
    for (let i = 1; i < m.seen.length; i++) expect(m.seen[i - 1]!.count).toBeGreaterThanOrEqual(m.seen[i]!.count);
    expect(missesOf(right, "background")).toMatchObject({ total: 6, wrong: 0, seen: [] });
    expect(formatMisses(missesOf(right, "background"))).toBe("none wrong of 6");
  });

  it("formats the most frequent values and sums the rest", () => {
    const m = {
      attribute: "motion" as const,
      total: 10,
      wrong: 7,
      seen: [
        { detected: "grow", count: 3 },
        { detected: "none", count: 2 },
        { detected: "stay", count: 1 },
        { detected: "move-left", count: 1 },
      ],
    };
    expect(formatMisses(m)).toBe("grow 3, none 2, stay 1, move-left 1 (7 wrong of 10)");
    expect(formatMisses(m, 2)).toBe("grow 3, none 2, other 2 (7 wrong of 10)");
  });
});
