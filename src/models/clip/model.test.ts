/**
 * ClipVisionEncoder end to end (raw image → clip_fea) against the clip-tiny fixture, the
 * weight check (unused last block / post_norm / head expected, anything else an error),
 * and the `reel parity` runner on the same fixture.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath, missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { readHeader, readTensor, writeSafetensors } from "../../engine/safetensors.ts";
import type { HostTensor } from "../../engine/tensor.ts";
import type { WeightMap } from "../../engine/weights.ts";
import { clipCases, runClipFixture } from "../../parity/clip.ts";
import { compareTensor, formatComparison } from "../../parity/compare.ts";
import { findFixtures } from "../../parity/fixtures.ts";
import { parseClipVisionConfig } from "./config.ts";
import { ClipVisionEncoder, checkClipWeights, clipWeightMap } from "./model.ts";
import { rgb8ToSigned } from "./preprocess.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

describe("CLIP fixture cases and weight files", () => {
  it("finds cases by key prefix, the longest prefix owning its keys", () => {
    const cases = clipCases(["i2v_raw0", "i2v_clip_fea", "a_pixel_values", "a_b_clip_fea", "a_b_block0_out", "t"]);
    expect([...cases.keys()]).toEqual(["a", "a_b", "i2v"]);
    expect([...cases.get("a_b")!.keys()]).toEqual(["clip_fea", "block0_out"]);
    expect([...cases.get("a")!.keys()]).toEqual(["pixel_values"]);
    expect(cases.get("i2v")!.get("raw0")).toBe("i2v_raw0");
  });

  it("clipWeightMap drops the text tower of a full CLIP checkpoint and keeps everything else", () => {
    const path = join(tmp.dir, "full-clip.safetensors");
    const t = (dims: number[]) => ({
      dtype: "float32" as const,
      dims,
      data: new Float32Array(dims.reduce((a, b) => a * b, 1)),
    });
    writeSafetensors(path, {
      "textual.token_embedding.weight": t([4, 2]),
      log_scale: t([]),
      "visual.cls_embedding": t([1, 1, 2]),
      "other.weight": t([2]),
    });
    expect([...clipWeightMap([path]).keys()].sort()).toEqual(["other.weight", "visual.cls_embedding"]);
  });
});

const FILES = ["clip-tiny.io.safetensors", "clip-tiny.weights.safetensors"];
const skip = missingFixtures(...FILES);

describe.skipIf(skip !== null)(skip ?? "ClipVisionEncoder on the clip-tiny fixture", () => {
  const io = () => readHeader(fixturePath(FILES[0]!)!);
  const weights = () => clipWeightMap([fixturePath(FILES[1]!)!]);
  const config = () => parseClipVisionConfig(JSON.parse(io().metadata.config!), "clip-tiny");
  const opts = { runtime: ortRuntime, device: "cpu" as const, threads: 2 };
  const raw = (p: string, k: number): HostTensor => {
    const t = readTensor(io(), `${p}_raw${k}`);
    return { dtype: "uint8", dims: t.dims, data: Uint8Array.from(t.data as BigInt64Array, Number) };
  };

  it("encode(raw uint8 images) → clip_fea [N, 17, 64] for i2v and flf2v; float [3, H, W] input agrees", async () => {
    const enc = new ClipVisionEncoder(config(), weights(), opts);
    expect(enc.tokens).toBe(17);
    for (const [p, n] of [
      ["i2v", 1],
      ["flf2v", 2],
    ] as const) {
      const images = Array.from({ length: n }, (_, k) => raw(p, k));
      const got = await enc.encode(images);
      const want = readTensor(io(), `${p}_clip_fea`);
      expect(got.dims).toEqual([n, 17, 64]);
      const c = compareTensor("clip-tiny", `${p}_clip_fea`, got.data, want.data);
      expect(c.ok, formatComparison(c)).toBe(true);
      const floats = images.map((im): HostTensor => {
        const [h, w] = im.dims as [number, number, number];
        return { dtype: "float32", dims: [3, h, w], data: rgb8ToSigned(im.data as Uint8Array, h, w) };
      });
      expect((await enc.encode(floats)).data).toEqual(got.data);
    }
  });

  it("rejects bad inputs with E_INPUT_INVALID", async () => {
    const enc = new ClipVisionEncoder(config(), weights(), opts);
    await expect(enc.encode([])).rejects.toThrow(/no images given/);
    await expect(enc.encode([{ dtype: "uint8", dims: [8, 8], data: new Uint8Array(64) }])).rejects.toThrow(
      /CLIP image 0: a uint8 image must be RGB \[H, W, 3\]/,
    );
    await expect(
      enc.forwardPixels({ dtype: "float32", dims: [1, 3, 32, 32], data: new Float32Array(3 * 32 * 32) }),
    ).rejects.toThrow(/pixel_values must be float32 \[N, 3, 56, 56\]/);
    expect(() => new ClipVisionEncoder(config(), weights(), { ...opts, blocks: 4 })).toThrow(
      expect.objectContaining({ code: "E_CONFIG_INVALID" }),
    );
  });

  it("the weight check ignores the unused last block, post_norm and head, and reports anything else", () => {
    const cfg = config();
    const full = weights();
    expect(full.has("visual.transformer.2.mlp.0.weight") && full.has("visual.head")).toBe(true);
    expect(() => checkClipWeights(cfg, full)).not.toThrow();

    // Without the unused tensors (a stripped checkpoint) it still loads.
    const stripped = new Map(
      [...full].filter(([k]) => !/^visual\.(transformer\.2\.|post_norm\.|head$)/.test(k)),
    ) as WeightMap;
    expect(stripped.size).toBe(full.size - 15);
    expect(() => checkClipWeights(cfg, stripped)).not.toThrow();
    // Running all blocks needs the last block.
    expect(() => checkClipWeights(cfg, stripped, cfg.num_layers)).toThrow(/missing \(12\)/);

    const edit = (fn: (m: Map<string, NonNullable<ReturnType<WeightMap["get"]>>>) => void) => {
      const m = new Map(full);
      fn(m);
      return () => checkClipWeights(cfg, m);
    };
    const src = full.get("visual.post_norm.weight")!;
    expect(
      edit((m) => {
        m.set("visual.transformer.3.norm1.weight", src);
      }),
    ).toThrow(/unexpected \(1\):\n\s+visual\.transformer\.3\.norm1\.weight/);
    expect(
      edit((m) => {
        m.set("visual.head", src);
      }),
    ).toThrow(/visual\.head: checkpoint \[64\], model expects \[64, 32\]/);
    expect(
      edit((m) => {
        m.delete("visual.transformer.1.mlp.0.weight");
      }),
    ).toThrow(/missing \(1\):\n\s+visual\.transformer\.1\.mlp\.0\.weight \[256, 64\]/);
    expect(
      edit((m) => {
        m.delete("visual.pre_norm.bias");
        m.set("pre_norm.bias", full.get("visual.pre_norm.bias")!);
      }),
    ).toThrow(expect.objectContaining({ code: "E_WEIGHTS_MISMATCH" }));
  });

  it("runClipFixture: one passing comparison per expected tensor of both cases", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "clip-tiny")!;
    expect(fx.component).toBe("clip");
    const results = await runClipFixture(fx, opts);
    const inputs = [...fx.io.tensors.keys()].filter((k) => /_raw\d+$/.test(k));
    expect(inputs.sort()).toEqual(["flf2v_raw0", "flf2v_raw1", "i2v_raw0"]);
    expect(results.map((r) => r.tensor).sort()).toEqual(
      [...fx.io.tensors.keys()].filter((k) => !inputs.includes(k)).sort(),
    );
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
    expect(results.find((r) => r.tensor === "flf2v_image1")?.maxAbs).toBe(0);
  });
});
