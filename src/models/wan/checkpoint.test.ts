/**
 * Checkpoint layouts: official (single and sharded), diffusers, ComfyUI single files in
 * F32/F16/BF16, all built here from the dit-tiny fixture weights, and the errors people hit.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath, missingFixtures } from "../../../test/helpers/fixtures.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { loadAll, type TensorToWrite, writeSafetensors } from "../../engine/safetensors.ts";
import { f32ToBf16, f32ToF16, type HostTensor } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { compareTensor } from "../../parity/compare.ts";
import { openWanCheckpoint, selectExpert } from "./checkpoint.ts";
import { diffusersToOfficial, officialToDiffusers } from "./keys.ts";
import { WanDiT } from "./model.ts";

const skip = missingFixtures(
  "dit-tiny.weights.safetensors",
  "dit-tiny.io.safetensors",
  "dit-tiny-i2v.weights.safetensors",
);
const tmp = tempDir();
afterAll(tmp.cleanup);

describe.skipIf(skip !== null)(skip ?? "Wan DiT checkpoint layouts", () => {
  const w = loadAll(fixturePath("dit-tiny.weights.safetensors")!);
  const io = loadAll(fixturePath("dit-tiny.io.safetensors")!).tensors;
  const config = JSON.parse(w.header.metadata.config!) as Record<string, unknown>;
  const tensors = w.tensors;

  function write(path: string, rename: (k: string) => string, dtype: "float32" | "float16" | "bfloat16" = "float32") {
    const out = new Map<string, TensorToWrite>();
    for (const [k, t] of tensors) {
      const data = t.data as Float32Array;
      out.set(rename(k), {
        dtype,
        dims: t.dims,
        data: dtype === "float32" ? data : dtype === "float16" ? f32ToF16(data) : f32ToBf16(data),
      });
    }
    writeSafetensors(path, out);
  }

  async function outputOf(path: string): Promise<HostTensor> {
    const ck = openWanCheckpoint(path);
    const m = new WanDiT(ck.config, ck.weights, { runtime: ortRuntime, device: "cpu", threads: 2 });
    const r = await m.forward({ x: io.get("x")!, t: [500], context: io.get("context")! });
    return r.out!;
  }

  it("official folder, one file + config.json", async () => {
    const dir = join(tmp.dir, "official");
    mkdirSync(dir);
    write(join(dir, "diffusion_pytorch_model.safetensors"), (k) => k);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ _class_name: "WanModel", ...config }));
    const ck = openWanCheckpoint(dir);
    expect(ck.layout).toBe("official");
    const out = await outputOf(dir);
    expect(compareTensor("official", "out", out.data, io.get("out")!.data).ok).toBe(true);
  });

  it("official sharded folder with the index json", async () => {
    const dir = join(tmp.dir, "sharded");
    mkdirSync(dir);
    const keys = [...tensors.keys()];
    const half = Math.floor(keys.length / 2);
    const weightMap: Record<string, string> = {};
    keys.forEach((k, i) => {
      weightMap[k] = `diffusion_pytorch_model-0000${i < half ? 1 : 2}-of-00002.safetensors`;
    });
    for (const shard of [1, 2]) {
      const m = new Map<string, TensorToWrite>();
      keys.forEach((k, i) => {
        if ((i < half ? 1 : 2) === shard) m.set(k, tensors.get(k)!);
      });
      writeSafetensors(join(dir, `diffusion_pytorch_model-0000${shard}-of-00002.safetensors`), m);
    }
    writeFileSync(
      join(dir, "diffusion_pytorch_model.safetensors.index.json"),
      JSON.stringify({ weight_map: weightMap }),
    );
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    expect(openWanCheckpoint(dir).files).toHaveLength(2);
    const out = await outputOf(dir);
    expect(compareTensor("sharded", "out", out.data, io.get("out")!.data).ok).toBe(true);
  });

  it("a missing shard is named", () => {
    const dir = join(tmp.dir, "partial");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "diffusion_pytorch_model.safetensors.index.json"),
      JSON.stringify({ weight_map: { a: "diffusion_pytorch_model-00001-of-00002.safetensors" } }),
    );
    expect(() => openWanCheckpoint(dir)).toThrow(/1 of 1 shards .* missing .*diffusion_pytorch_model-00001-of-00002/);
  });

  it("a folder without weights says where it looked", () => {
    const dir = join(tmp.dir, "empty");
    mkdirSync(dir);
    expect(() => openWanCheckpoint(dir)).toThrow(
      expect.objectContaining({
        code: "E_MODEL_NOT_FOUND",
        message: expect.stringContaining("diffusion_pytorch_model.safetensors"),
      }),
    );
  });

  it("diffusers pipeline folder (transformer/ + WanTransformer3DModel config)", async () => {
    const dir = join(tmp.dir, "diffusers");
    mkdirSync(join(dir, "transformer"), { recursive: true });
    write(join(dir, "transformer", "diffusion_pytorch_model.safetensors"), (k) => officialToDiffusers(k)!);
    writeFileSync(
      join(dir, "transformer", "config.json"),
      JSON.stringify({
        _class_name: "WanTransformer3DModel",
        patch_size: [1, 2, 2],
        num_attention_heads: 4,
        attention_head_dim: 20,
        in_channels: 16,
        out_channels: 16,
        text_dim: 32,
        freq_dim: 32,
        ffn_dim: 200,
        num_layers: 2,
        cross_attn_norm: true,
        qk_norm: "rms_norm_across_heads",
        eps: 1e-6,
        image_dim: null,
      }),
    );
    expect(openWanCheckpoint(dir).layout).toBe("diffusers");
    const out = await outputOf(dir);
    expect(compareTensor("diffusers", "out", out.data, io.get("out")!.data).ok).toBe(true);
  });

  for (const dtype of ["float16", "bfloat16"] as const) {
    it(`ComfyUI single file in ${dtype} (prefix stripped, architecture inferred, converted once)`, async () => {
      const path = join(tmp.dir, `wan_tiny_${dtype}.safetensors`);
      write(path, (k) => `model.diffusion_model.${k}`, dtype);
      // A ComfyUI file has no config: heads are inferred as dim/128, so give the preset-like hint via the fixture.
      const ck = openWanCheckpoint(path);
      expect(ck.layout).toBe("comfyui");
      expect(ck.config.dim).toBe(80);
      const m = new WanDiT({ ...ck.config, num_heads: 4 }, ck.weights, {
        runtime: ortRuntime,
        device: "cpu",
        threads: 2,
      });
      const r = await m.forward({ x: io.get("x")!, t: [500], context: io.get("context")! });
      // Rounding the weights to 16 bits moves the output by ~1e-3 relative (bf16: ~1e-2).
      const c = compareTensor(dtype, "out", r.out!.data, io.get("out")!.data, { atol: 0, rtol: 0 });
      expect(c.maxRel).toBeGreaterThan(0);
      expect(c.maxRel).toBeLessThan(dtype === "float16" ? 5e-3 : 5e-2);
    });
  }

  it("a config that disagrees with the weights lists every difference", () => {
    const dir = join(tmp.dir, "wrongcfg");
    mkdirSync(dir);
    write(join(dir, "diffusion_pytorch_model.safetensors"), (k) => k);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, dim: 96, num_layers: 3 }));
    expect(() => openWanCheckpoint(dir)).toThrow(
      /dim: config says 96, weights say 80[\s\S]*num_layers: config says 3, weights say 2/,
    );
  });

  it("missing, unexpected and mis-shaped keys are reported together", () => {
    const path = join(tmp.dir, "broken.safetensors");
    const m = new Map<string, TensorToWrite>();
    for (const [k, t] of tensors) {
      if (k === "blocks.1.ffn.2.bias") continue; // missing
      if (k === "head.head.bias")
        m.set(k, { dtype: "float32", dims: [63], data: new Float32Array(63) }); // mis-shaped
      else m.set(k, t);
    }
    m.set("blocks.1.extra.weight", { dtype: "float32", dims: [1], data: new Float32Array(1) }); // unexpected
    writeSafetensors(path, m);
    // The broken file cannot pass the config cross-check (head shape), so pair it with the fixture config.
    const config = { ...openWanCheckpoint(fixturePath("dit-tiny.weights.safetensors")!).config, num_heads: 4 };
    let msg = "";
    try {
      new WanDiT(config, weightMapFromFiles([path]), { runtime: ortRuntime, device: "cpu" });
    } catch (e) {
      msg = (e as Error).message;
      expect(e).toMatchObject({ code: "E_WEIGHTS_MISMATCH" });
    }
    expect(msg).toMatch(/missing \(1\):\s+blocks\.1\.ffn\.2\.bias \[80\]/);
    expect(msg).toMatch(/unexpected \(1\):\s+blocks\.1\.extra\.weight/);
    expect(msg).toMatch(/wrong shape \(1\):\s+head\.head\.bias: checkpoint \[63\], model expects \[64\]/);
  });
});

describe("key maps", () => {
  const skipI2v = missingFixtures("dit-tiny-i2v.weights.safetensors");
  it.skipIf(skipI2v !== null)(skipI2v ?? "official ⇄ diffusers round-trips every i2v key", () => {
    const keys = [...loadAll(fixturePath("dit-tiny-i2v.weights.safetensors")!).header.tensors.keys()];
    for (const k of keys) {
      const d = officialToDiffusers(k);
      expect(d, k).not.toBeNull();
      expect(diffusersToOfficial(d!)).toBe(k);
    }
    expect(officialToDiffusers("blocks.12.self_attn.o.weight")).toBe("blocks.12.attn1.to_out.0.weight");
    expect(officialToDiffusers("blocks.0.norm3.bias")).toBe("blocks.0.norm2.bias");
    expect(officialToDiffusers("head.modulation")).toBe("scale_shift_table");
  });

  it("A14B expert switch at the boundary", () => {
    expect(selectExpert(875, 0.875)).toBe("high");
    expect(selectExpert(874, 0.875)).toBe("low");
  });
});
