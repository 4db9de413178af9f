import { describe, expect, it } from "vitest";
import { sha256, WAN_DEFAULTS, WAN_NEGATIVE_PROMPT, WAN_NEGATIVE_PROMPT_SHA256 } from "./defaults.ts";

describe("Wan defaults", () => {
  it("carries the official negative prompt byte for byte", () => {
    expect([...WAN_NEGATIVE_PROMPT]).toHaveLength(137);
    expect(sha256(WAN_NEGATIVE_PROMPT)).toBe(WAN_NEGATIVE_PROMPT_SHA256);
  });
  it("frame counts are 4n + 1 and sizes are multiples of 16", () => {
    for (const d of Object.values(WAN_DEFAULTS)) {
      expect((d.frames - 1) % 4).toBe(0);
      for (const [w, h] of d.sizes) expect([w % 16, h % 16]).toEqual([0, 0]);
    }
  });
});
