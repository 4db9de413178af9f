import { describe, expect, it } from "vitest";
import {
  decoderDim,
  parseWanVaeConfig,
  spatialFactor,
  temporalFactor,
  vaePreset,
  WAN_VAE_PRESETS,
  WAN21_LATENTS_MEAN,
  WAN22_LATENTS_STD,
} from "./vae-config.ts";
import { decodedFrameCount, encodedFrameCount, latentFrameCount, wanVaeParams } from "./vae-runner.ts";

const count = (name: keyof typeof WAN_VAE_PRESETS) =>
  [...wanVaeParams(vaePreset(name)).values()].reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);

describe("Wan VAE config", () => {
  it("presets describe the released VAEs", () => {
    const v21 = vaePreset("wan2.1");
    const v22 = vaePreset("wan2.2");
    expect([v21.version, v21.z_dim, spatialFactor(v21), temporalFactor(v21), decoderDim(v21)]).toEqual([
      "2.1",
      16,
      8,
      4,
      96,
    ]);
    expect([v22.version, v22.z_dim, spatialFactor(v22), temporalFactor(v22), decoderDim(v22)]).toEqual([
      "2.2",
      48,
      16,
      4,
      256,
    ]);
    expect(WAN21_LATENTS_MEAN).toHaveLength(16);
    expect(WAN22_LATENTS_STD).toHaveLength(48);
    // Wan2.1_VAE.pth: 127M parameters (the Wan report's figure); Wan2.2_VAE.pth: 705M (2.8 GB in fp32).
    expect(count("wan2.1")).toBe(126_892_531);
    expect(count("wan2.2")).toBe(704_688_668);
    expect(wanVaeParams(vaePreset("wan2.1")).size).toBe(194);
    expect(wanVaeParams(vaePreset("wan2.2")).size).toBe(196);
  });

  it("frame-count rules: encode drops frames after 1 + 4⌊(T−1)/4⌋, decode gives 1 + 4(T'−1)", () => {
    const c = vaePreset("wan2.1");
    expect([1, 2, 5, 6, 7, 8, 9, 81].map(encodedFrameCount)).toEqual([1, 1, 5, 5, 5, 5, 9, 81]);
    expect([1, 2, 5, 7, 9, 81].map((t) => latentFrameCount(c, t))).toEqual([1, 1, 2, 2, 3, 21]);
    expect([1, 2, 3, 21].map((t) => decodedFrameCount(c, t))).toEqual([1, 5, 9, 81]);
  });

  it("invalid configs name the field and the rule", () => {
    const base = { ...WAN_VAE_PRESETS["wan2.1"] };
    expect(() => parseWanVaeConfig({ ...base, attn_scales: [0.5] }, "2.1", "cfg")).toThrow(
      /cfg: invalid Wan 2\.1 VAE config: attn_scales: .*only \[\] is supported/,
    );
    expect(() => parseWanVaeConfig({ ...base, temperal_downsample: [true] }, "2.1", "cfg")).toThrow(
      /temperal_downsample has 1 entries, dim_mult \[1,2,4,4\] needs 3/,
    );
    expect(() => parseWanVaeConfig({ ...base, dim_mult: [1, 2, 4, 4, 4] }, "2.1", "cfg")).toThrow(/dim_mult/);
    expect(() => parseWanVaeConfig(base, "2.2", "cfg")).toThrow(/dec_dim/);
    expect(() => parseWanVaeConfig({ ...base, dim: 0 }, "2.1", "cfg")).toThrow(
      expect.objectContaining({ code: "E_CONFIG_INVALID" }),
    );
    // dropout and attn_scales default as in the reference.
    const { dropout: _d, attn_scales: _a, ...minimal } = base;
    expect(parseWanVaeConfig(minimal, "2.1", "cfg")).toMatchObject({ dropout: 0, attn_scales: [] });
  });
});
