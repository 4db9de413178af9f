import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isReelError } from "./errors.ts";
import { describeIssues, parseWith } from "./validate.ts";

const Schema = z.object({ seed: z.number().int().max(10), shots: z.array(z.object({ prompt: z.string() })) }).strict();

describe("parseWith", () => {
  it("returns the parsed value", () => {
    expect(parseWith(Schema, { seed: 3, shots: [] }, "E_INPUT_INVALID", "request")).toEqual({ seed: 3, shots: [] });
  });

  it("names every bad field, nested ones by path, in the message and in details", () => {
    let err: unknown;
    try {
      parseWith(Schema, { seed: 11, shots: [{ prompt: 4 }], extra: 1 }, "E_CONFIG_INVALID", "model.json");
    } catch (e) {
      err = e;
    }
    expect(isReelError(err)).toBe(true);
    const e = err as { code: string; message: string; details: { issues: { path: string }[] } };
    expect(e.code).toBe("E_CONFIG_INVALID");
    expect(e.message).toMatch(/^model\.json: /);
    expect(e.message).toMatch(/seed: Too big/);
    expect(e.message).toMatch(/shots\.0\.prompt: /);
    expect(e.message).toMatch(/\(root\): Unrecognized key/);
    expect(e.details.issues.map((i) => i.path).sort()).toEqual(["", "seed", "shots.0.prompt"]);
  });

  it("describes issues without a path as the root", () => {
    expect(describeIssues([{ path: [], message: "bad" }])).toBe("(root): bad");
  });
});
