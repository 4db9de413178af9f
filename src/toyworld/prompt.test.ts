import { describe, expect, it } from "vitest";
import { parsePrompt } from "./parse.ts";
import { namedObjectCount } from "./prompt.ts";

describe("namedObjectCount", () => {
  it("adds up the groups a prompt names, and gives undefined where a count is not stated", () => {
    const count = (p: string) => namedObjectCount(parsePrompt(p));
    expect(count("a red ball moves left")).toBe(1);
    expect(count("a red ball and two blue stars stay still")).toBe(3);
    expect(count("three small green squares spin")).toBe(3);
    expect(count("blue stars spin")).toBeUndefined(); // a bare plural
    expect(count("a plain white background")).toBeUndefined(); // no object
  });
});
