import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { COLOURS, SHAPES } from "./vocab.ts";
import { wordClasses } from "./word-classes.ts";

describe("wordClasses", () => {
  const groups = wordClasses();

  it("is what training/word_classes.json holds (rewrite it with scripts/toy/word-classes.ts)", () => {
    const file = resolve(import.meta.dirname, "../../training/word_classes.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(groups);
  });

  it("puts each word in one class only", () => {
    const seen = new Map<string, string>();
    for (const [group, classes] of Object.entries(groups))
      for (const [value, words] of Object.entries(classes))
        for (const w of words) {
          expect(seen.get(w), `${w}: ${group}:${value}`).toBeUndefined();
          seen.set(w, `${group}:${value}`);
        }
  });

  it("names every shape and colour with its synonyms, directions by component, motions by verb", () => {
    expect(Object.keys(groups.shape!)).toEqual([...SHAPES]);
    expect(Object.keys(groups.colour!).sort()).toEqual([...COLOURS].sort());
    expect(groups.shape!.ball).toEqual(expect.arrayContaining(["ball", "balls", "circle", "orb"]));
    expect(groups.shape!.cross).toContain("plus"); // "plus sign"
    expect(groups.colour!.purple).toEqual(["purple", "violet"]);
    expect(groups.direction!.up).toEqual(expect.arrayContaining(["up", "upward", "top", "rises"]));
    expect(groups.motion!.spin).toEqual(expect.arrayContaining(["spins", "rotates", "twirling"]));
    // Heads two kinds share, or that say nothing by themselves, have no class.
    const all = Object.values(groups).flatMap((c) => Object.values(c).flat());
    for (const w of ["gets", "scales", "is", "does", "not"]) expect(all).not.toContain(w);
  });
});
