import { describe, expect, it } from "vitest";
import { intFlag, numberFlag, precisionFlag } from "./flags.ts";

describe("command-line flags", () => {
  it("intFlag: the default when absent, the value when a whole number in range", () => {
    expect(intFlag("count", undefined, 7, 1, 10)).toBe(7);
    expect(intFlag("count", "10", 7, 1, 10)).toBe(10);
    expect(intFlag("seed", "0", 1, 0, Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(() => intFlag("seed", " ", 1, 0, 9)).toThrow(/--seed {2}: a whole number from 0 to 9/); // not 0
  });

  it("intFlag: fractions, words and values out of range name the flag and the range", () => {
    for (const bad of ["0", "11", "2.5", "ten", ""])
      expect(() => intFlag("count", bad, 7, 1, 10)).toThrow(
        expect.objectContaining({ code: "E_INPUT_INVALID", message: `--count ${bad}: a whole number from 1 to 10` }),
      );
  });

  it("numberFlag and precisionFlag", () => {
    expect(numberFlag("shift", undefined)).toBeUndefined();
    expect(numberFlag("shift", "2.5")).toBe(2.5);
    expect(() => numberFlag("shift", "x")).toThrow(/--shift x: not a number/);
    expect(precisionFlag("int8")).toBe("int8");
    expect(() => precisionFlag("fp16")).toThrow(/allowed are f32, int8/);
  });
});
