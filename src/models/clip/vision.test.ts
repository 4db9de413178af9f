/**
 * The CLIP vision tower graph: config validation, the real ViT-H/14 parameter counts, and
 * parity on the clip-tiny fixture's pixel_values (every intermediate, both cases), with
 * checks that running all blocks or applying post_norm would fail the tolerance.
 */
import { describe, expect, it } from "vitest";
import { fixturePath, missingFixtures } from "../../../test/helpers/fixtures.ts";
import * as ref from "../../../test/ref/naive.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { readHeader, readTensor } from "../../engine/safetensors.ts";
import { compareTensor, formatComparison } from "../../parity/compare.ts";
import { CLIP_PRESETS, clipPreset, parseClipVisionConfig, tokenCount, wanBlocks } from "./config.ts";
import { ClipVisionEncoder, clipWeightMap } from "./model.ts";
import { clipTapNames, clipVisionParams } from "./vision.ts";

const count = (m: Map<string, { shape: readonly number[] }>) =>
  [...m.values()].reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);

describe("CLIP VisionTransformer config and parameters", () => {
  it("the ViT-H/14 preset: 257 tokens, 31 of 32 blocks, 611,086,080 of 632,076,800 parameters used", () => {
    const c = clipPreset("vit-h-14");
    expect(tokenCount(c)).toBe(257);
    expect(wanBlocks(c)).toBe(31);
    const { used, unused } = clipVisionParams(c);
    expect(count(used)).toBe(611_086_080);
    expect(count(used) + count(unused)).toBe(632_076_800);
    expect(used.get("visual.transformer.30.attn.to_qkv.weight")?.shape).toEqual([3840, 1280]);
    expect(used.has("visual.patch_embedding.bias")).toBe(false);
    expect([...unused.keys()].filter((k) => !k.startsWith("visual.transformer.31."))).toEqual([
      "visual.post_norm.weight",
      "visual.post_norm.bias",
      "visual.head",
    ]);
    expect(unused.get("visual.head")?.shape).toEqual([1280, 1024]);
  });

  it("parses the fixture's kwargs and rejects unsupported or inconsistent ones with E_CONFIG_INVALID", () => {
    const base = { ...CLIP_PRESETS["vit-h-14"], image_size: 56, dim: 64, num_heads: 4, num_layers: 3, out_dim: 32 };
    expect(parseClipVisionConfig(base, "t").dim).toBe(64);
    // Reference defaults: QuickGELU, out_dim = dim when null.
    const d = parseClipVisionConfig(
      { image_size: 28, patch_size: 14, dim: 8, mlp_ratio: 4, num_heads: 2, num_layers: 2 },
      "t",
    );
    expect([d.activation, d.out_dim, d.pool_type, d.pre_norm, d.post_norm, d.norm_eps]).toEqual([
      "quick_gelu",
      8,
      "token",
      true,
      false,
      1e-5,
    ]);
    const bad = (patch: Record<string, unknown>, msg: RegExp) =>
      expect(() => parseClipVisionConfig({ ...base, ...patch }, "cfg")).toThrow(msg);
    bad({ num_heads: 5 }, /dim 64 is not divisible by num_heads 5/);
    bad({ pool_type: "attn_pool" }, /pool_type: only 'token' and 'token_fc'/);
    bad({ activation: "swi_glu" }, /activation: only 'gelu' and 'quick_gelu'/);
    bad({ patch_size: 60 }, /patch_size 60 is larger than image_size 56/);
    bad({ dim: "64" }, /cfg: invalid CLIP VisionTransformer config: dim/);
    expect(() => parseClipVisionConfig(null, "x")).toThrow(expect.objectContaining({ code: "E_CONFIG_INVALID" }));
  });

  it("declares the patch bias without pre_norm, and token_fc's Linear head as unused", () => {
    const c = parseClipVisionConfig(
      {
        image_size: 28,
        patch_size: 14,
        dim: 8,
        mlp_ratio: 4,
        num_heads: 2,
        num_layers: 2,
        pre_norm: false,
        pool_type: "token_fc",
      },
      "t",
    );
    const { used, unused } = clipVisionParams(c);
    expect(used.get("visual.patch_embedding.bias")?.shape).toEqual([8]);
    expect(used.has("visual.pre_norm.weight")).toBe(false);
    expect(unused.get("visual.head.weight")?.shape).toEqual([8, 8]);
    expect(clipTapNames(c)).not.toContain("pre_norm_out");
  });
});

const FILES = ["clip-tiny.io.safetensors", "clip-tiny.weights.safetensors"];
const skip = missingFixtures(...FILES);

describe.skipIf(skip !== null)(skip ?? "CLIP ViT parity on the fixture's pixel_values", () => {
  const io = () => readHeader(fixturePath(FILES[0]!)!);
  const weightsPath = () => fixturePath(FILES[1]!)!;
  const config = () => parseClipVisionConfig(JSON.parse(io().metadata.config!), "clip-tiny");
  const opts = { runtime: ortRuntime, device: "cpu" as const, threads: 2 };

  for (const p of ["i2v", "flf2v"]) {
    it(`${p}: clip_fea and every intermediate within 2e-5 + 1e-4·|want|`, async () => {
      const h = io();
      const cfg = config();
      const enc = new ClipVisionEncoder(cfg, clipWeightMap([weightsPath()]), opts);
      const taps = clipTapNames(cfg);
      expect(taps).toContain("block1_out");
      expect(taps).not.toContain("block2_out");
      // The fixture holds the attention/MLP taps of block 0 only.
      const present = taps.filter((k) => h.tensors.has(`${p}_${k}`));
      expect(present).toHaveLength(9);
      const out = await enc.forwardPixels(readTensor(h, `${p}_pixel_values`), new Set(present));
      const results = ["clip_fea", ...present].map((k) => {
        const want = readTensor(h, `${p}_${k}`);
        expect(out[k]?.dims, k).toEqual(want.dims);
        return compareTensor("clip-tiny", `${p}_${k}`, out[k]!.data, want.data);
      });
      expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
      expect(Math.max(...results.map((r) => r.maxAbs))).toBeLessThan(1e-5);
    });
  }

  it("running all blocks, or applying post_norm, fails the tolerance by O(1)", async () => {
    const h = io();
    const cfg = config();
    const weights = clipWeightMap([weightsPath()]);
    const pixels = readTensor(h, "flf2v_pixel_values");
    const want = readTensor(h, "flf2v_clip_fea");
    const [N, T, D] = want.dims as [number, number, number];

    const right = (await new ClipVisionEncoder(cfg, weights, opts).forwardPixels(pixels)).clip_fea!;
    expect(compareTensor("clip-tiny", "right", right.data, want.data).ok).toBe(true);

    const all = new ClipVisionEncoder(cfg, weights, { ...opts, blocks: cfg.num_layers });
    const allOut = (await all.forwardPixels(pixels)).clip_fea!;
    const cAll = compareTensor("clip-tiny", "all blocks", allOut.data, want.data);
    expect(cAll.ok).toBe(false);
    expect(cAll.maxAbs).toBeGreaterThan(0.5);

    const w = readHeader(weightsPath());
    const ln = ref.layerNorm(
      right.data as Float32Array,
      N * T,
      D,
      cfg.norm_eps,
      readTensor(w, "visual.post_norm.weight").data as Float32Array,
      readTensor(w, "visual.post_norm.bias").data as Float32Array,
    );
    const cPost = compareTensor("clip-tiny", "post_norm", Float32Array.from(ln), want.data);
    expect(cPost.ok).toBe(false);
    expect(cPost.maxAbs).toBeGreaterThan(0.5);
  });
});
