import { describe, expect, it } from "vitest";
import { hasImageBranch, parseWanConfig, preset, WAN_PRESETS } from "./config.ts";
import { wanParams } from "./model.ts";

describe("WanModel config", () => {
  it("presets give the released parameter counts (wan-architecture.md §2)", () => {
    const count = (name: keyof typeof WAN_PRESETS) =>
      [...wanParams(preset(name)).values()].reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(count("t2v-1.3B")).toBe(1_418_996_800);
    expect(count("t2v-14B")).toBe(14_288_491_584);
    expect(count("i2v-14B")).toBe(16_394_878_784);
    expect(count("flf2v-14B")).toBe(16_395_536_704);
    expect(count("ti2v-5B")).toBe(4_999_787_712);
    expect(count("i2v-A14B")).toBe(14_288_901_184);
  });

  it("the CLIP branch exists only for Wan 2.1 i2v/flf2v", () => {
    expect(hasImageBranch(preset("i2v-14B"))).toBe(true);
    expect(hasImageBranch(preset("i2v-A14B"))).toBe(false);
    expect(hasImageBranch(preset("ti2v-5B"))).toBe(false);
  });

  it("invalid configs name the field and the rule", () => {
    const base = { ...WAN_PRESETS["t2v-1.3B"] };
    expect(() => parseWanConfig({ ...base, num_heads: 7 }, "cfg.json")).toThrow(
      /cfg\.json: .*dim 1536 is not divisible by num_heads 7/,
    );
    expect(() => parseWanConfig({ ...base, window_size: [4, 4] }, "x")).toThrow(/only global attention/);
    expect(() => parseWanConfig({ ...base, model_type: "t3v" }, "x")).toThrow(/model_type/);
    expect(() => parseWanConfig({ ...base, dim: -1 }, "x")).toThrow(/dim/);
  });
});
