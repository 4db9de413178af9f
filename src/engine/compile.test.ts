/**
 * The session cache and weight binding: external data through hard links (no copies),
 * graph files keyed by graph and weight identity, F16/BF16 converted once, int8 derived once.
 */
import { readdirSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectClose } from "../../test/helpers/close.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import * as ref from "../../test/ref/naive.ts";
import { compile, prepareModelFile } from "./compile.ts";
import { Graph, Scope } from "./graph.ts";
import { linearInt8, linearRaw } from "./ops/index.ts";
import { ortRuntime } from "./runtime-ort.ts";
import { writeSafetensors } from "./safetensors.ts";
import { f8e4m3fnToF32, f32, f32ToBf16, f32ToF16 } from "./tensor.ts";
import { weightMapFromFiles } from "./weights.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

const W = ref.randn(6 * 5, 1);
const B = ref.randn(6, 2);
const X = ref.randn(3 * 5, 3);

function linearGraph(name = "lin"): Graph {
  const g = new Graph(name);
  const w = new Scope(g, "fc");
  g.output(linearRaw(g, g.input("x", "float32", [3, 5]), w.param("weight", [6, 5]), w.param("bias", [6])), "y");
  return g;
}

describe("compile", () => {
  it("points external data at hard links of the checkpoint (same inode, nothing copied)", () => {
    const cache = join(tmp.dir, "c1");
    const path = join(tmp.dir, "w1.safetensors");
    writeSafetensors(path, {
      "fc.weight": { dtype: "float32", dims: [6, 5], data: W },
      "fc.bias": { dtype: "float32", dims: [6], data: B },
    });
    const onnx = prepareModelFile(linearGraph(), weightMapFromFiles([path]), cache);
    const links = readdirSync(join(cache, "graphs", "links"));
    expect(links).toHaveLength(1);
    expect(statSync(join(cache, "graphs", "links", links[0]!)).ino).toBe(statSync(path).ino);
    // Same graph and weights → the same file; a newer weights file → a new graph file.
    expect(prepareModelFile(linearGraph(), weightMapFromFiles([path]), cache)).toBe(onnx);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    expect(prepareModelFile(linearGraph(), weightMapFromFiles([path]), cache)).not.toBe(onnx);
  });

  it("reuses one session per graph in process", async () => {
    const path = join(tmp.dir, "w2.safetensors");
    writeSafetensors(path, {
      "fc.weight": { dtype: "float32", dims: [6, 5], data: W },
      "fc.bias": { dtype: "float32", dims: [6], data: B },
    });
    const o = { runtime: ortRuntime, device: "cpu" as const, threads: 1, cacheDir: join(tmp.dir, "c2") };
    const a = await compile(linearGraph(), weightMapFromFiles([path]), o);
    const b = await compile(linearGraph(), weightMapFromFiles([path]), o);
    expect(a).toBe(b);
  });

  for (const dtype of ["float16", "bfloat16"] as const) {
    it(`loads ${dtype} weights, converting them to float32 once into the cache`, async () => {
      const cache = join(tmp.dir, `c-${dtype}`);
      const path = join(tmp.dir, `w-${dtype}.safetensors`);
      const conv = dtype === "float16" ? f32ToF16 : f32ToBf16;
      writeSafetensors(path, {
        "fc.weight": { dtype, dims: [6, 5], data: conv(W) },
        "fc.bias": { dtype, dims: [6], data: conv(B) },
      });
      const s = await compile(linearGraph(`lin-${dtype}`), weightMapFromFiles([path]), {
        runtime: ortRuntime,
        device: "cpu",
        threads: 1,
        cacheDir: cache,
      });
      const y = (await s.run({ x: f32([3, 5], X) })).y!.data as Float32Array;
      expectClose(y, ref.linear(X, W, B, 3, 5, 6), dtype === "float16" ? 5e-3 : 3e-2, 1e-2);
      const converted = readdirSync(join(cache, "graphs", "links")).filter((f) => f.startsWith("conv-"));
      expect(converted).toHaveLength(1);
      const mtime = statSync(join(cache, "graphs", "links", converted[0]!)).mtimeMs;
      prepareModelFile(linearGraph(`lin-${dtype}-again`), weightMapFromFiles([path]), cache);
      expect(statSync(join(cache, "graphs", "links", converted[0]!)).mtimeMs).toBe(mtime);
    });
  }

  it("decodes float8 E4M3FN (ComfyUI/Kijai fp8 checkpoints) exactly", () => {
    const bytes = Uint8Array.from([0x38, 0x40, 0xb8, 0x7e, 0xfe, 0x01, 0x08, 0x00, 0x80, 0x7f, 0x3c]);
    const v = [...f8e4m3fnToF32(bytes)];
    expect(v.slice(0, 9)).toEqual([1, 2, -1, 448, -448, 2 ** -9, 2 ** -6, 0, -0]);
    expect(Number.isNaN(v[9])).toBe(true);
    expect(v[10]).toBe(1.5);
  });

  it("loads float8 E4M3FN weights, widened to float32 into the cache", async () => {
    const cache = join(tmp.dir, "c-f8");
    const path = join(tmp.dir, "w-f8.safetensors");
    // nearest fp8 byte for each value (the test's own encoder: a search over all 256 codes)
    const table = f8e4m3fnToF32(Uint8Array.from({ length: 256 }, (_, i) => i));
    const enc = (xs: Float32Array) =>
      Uint8Array.from(xs, (x) => {
        let best = 0;
        for (let b = 1; b < 256; b++)
          if (!Number.isNaN(table[b]!) && Math.abs(table[b]! - x) < Math.abs(table[best]! - x)) best = b;
        return best;
      });
    const w8 = enc(W);
    writeSafetensors(path, {
      "fc.weight": { dtype: "float8e4m3fn", dims: [6, 5], data: w8 },
      "fc.bias": { dtype: "float32", dims: [6], data: B },
    });
    const s = await compile(linearGraph("lin-f8"), weightMapFromFiles([path]), {
      runtime: ortRuntime,
      device: "cpu",
      threads: 1,
      cacheDir: cache,
    });
    const y = (await s.run({ x: f32([3, 5], X) })).y!.data as Float32Array;
    // exact against the decoded weights; fp8's rounding only against the originals
    expectClose(y, ref.linear(X, f8e4m3fnToF32(w8), B, 3, 5, 6), 1e-5, 1e-5);
    expectClose(y, ref.linear(X, W, B, 3, 5, 6), 0.3, 0.15);
  });

  it("refuses scaled fp8 files (scale_weight factors) with a message saying which files work", () => {
    const path = join(tmp.dir, "w-f8-scaled.safetensors");
    writeSafetensors(path, {
      "fc.weight": { dtype: "float8e4m3fn", dims: [6, 5], data: new Uint8Array(30) },
      "fc.scale_weight": { dtype: "float32", dims: [1], data: new Float32Array([0.5]) },
      scaled_fp8: { dtype: "float8e4m3fn", dims: [0], data: new Uint8Array(0) },
    });
    expect(() => weightMapFromFiles([path])).toThrow(/"scaled" fp8 checkpoint.*plain fp8_e4m3fn, bf16 or fp16/);
  });

  it("int8 linear: derived weights cached once, output within quantization error", async () => {
    const cache = join(tmp.dir, "c-int8");
    const path = join(tmp.dir, "w-int8.safetensors");
    const [R, I, O] = [16, 64, 32];
    const Wb = ref.randn(O * I, 4, 0.2);
    const Bb = ref.randn(O, 5);
    const Xb = ref.randn(R * I, 6);
    writeSafetensors(path, {
      "fc.weight": { dtype: "float32", dims: [O, I], data: Wb },
      "fc.bias": { dtype: "float32", dims: [O], data: Bb },
    });
    const g = new Graph("int8");
    const x = g.input("x", "float32", [R, I]);
    const q = g.derivedParam("fc.weight", [O, I], "int8_t", [I, O], "int8");
    const sc = g.derivedParam("fc.weight", [O, I], "int8_scale", [O], "float32");
    g.output(linearInt8(g, x, q, sc, g.param("fc.bias", [O])), "y");
    const s = await compile(g, weightMapFromFiles([path]), {
      runtime: ortRuntime,
      device: "cpu",
      threads: 1,
      cacheDir: cache,
    });
    const y = (await s.run({ x: f32([R, I], Xb) })).y!.data as Float32Array;
    const want = ref.linear(Xb, Wb, Bb, R, I, O);
    let se = 0;
    let sw = 0;
    for (let i = 0; i < y.length; i++) {
      se += (y[i]! - want[i]!) ** 2;
      sw += want[i]! ** 2;
    }
    const relL2 = Math.sqrt(se / sw);
    expect(relL2).toBeGreaterThan(0); // really quantized
    expect(relL2).toBeLessThan(2e-2);
    expect(readdirSync(join(cache, "graphs", "links")).filter((f) => f.startsWith("derived-"))).toHaveLength(1);
  });

  it("a param without a weight is a clear error", () => {
    const g = linearGraph();
    const path = join(tmp.dir, "w-missing.safetensors");
    writeSafetensors(path, { "fc.weight": { dtype: "float32", dims: [6, 5], data: W } });
    expect(() => prepareModelFile(g, weightMapFromFiles([path]), join(tmp.dir, "c3"))).toThrow(
      /no weight for "fc\.bias"/,
    );
  });
});
