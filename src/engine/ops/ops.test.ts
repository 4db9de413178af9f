/**
 * Op-level tests: each op's ONNX graph on ORT CPU against the float64 loops in test/ref.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectClose } from "../../../test/helpers/close.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import * as ref from "../../../test/ref/naive.ts";
import { compile } from "../compile.ts";
import { Graph, Scope } from "../graph.ts";
import { ortRuntime } from "../runtime-ort.ts";
import { writeSafetensors } from "../safetensors.ts";
import { f32, type HostTensor } from "../tensor.ts";
import { weightMapFromFiles } from "../weights.ts";
import * as op from "./index.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
// Sessions compile into a temp cache, not ~/.cache.
let fileNo = 0;

/** Compiles g with the given weights and runs it. */
async function run(g: Graph, feeds: Record<string, HostTensor>, weights: Record<string, Float32Array> = {}) {
  const path = join(tmp.dir, `w${fileNo++}.safetensors`);
  const tensors: Record<string, { dtype: "float32"; dims: readonly number[]; data: Float32Array }> = {};
  for (const [k, data] of Object.entries(weights))
    tensors[k] = { dtype: "float32", dims: g.params.get(k)!.value.shape, data };
  writeSafetensors(path, tensors);
  const s = await compile(g, weightMapFromFiles([path]), {
    runtime: ortRuntime,
    device: "cpu",
    threads: 1,
    cacheDir: join(tmp.dir, "cache"),
  });
  return s.run(feeds);
}

describe("engine ops on ORT CPU", () => {
  it("linear (Gemm transB) matches x·Wᵀ + b, for rank 2 and 3 inputs", async () => {
    const g = new Graph("lin");
    const w = new Scope(g, "proj");
    const x = g.input("x", "float32", [2, 5, 7]);
    g.output(op.linearRaw(g, x, w.param("weight", [3, 7]), w.param("bias", [3])), "y");
    const X = ref.randn(70, 1);
    const W = ref.randn(21, 2);
    const B = ref.randn(3, 3);
    const r = await run(g, { x: f32([2, 5, 7], X) }, { "proj.weight": W, "proj.bias": B });
    expect(r.y!.dims).toEqual([2, 5, 3]);
    expectClose(r.y!.data as Float32Array, ref.linear(X, W, B, 10, 7, 3));
  });

  it("layerNorm (with and without affine) and rmsNorm", async () => {
    const g = new Graph("norms");
    const x = g.input("x", "float32", [6, 16]);
    const w = g.param("w", [16]);
    const b = g.param("b", [16]);
    g.output(op.layerNorm(g, x, 1e-6), "ln");
    g.output(op.layerNorm(g, x, 1e-5, w, b), "lna");
    g.output(op.rmsNorm(g, x, 1e-6, w), "rms");
    const X = ref.randn(96, 4, 3);
    const W = ref.randn(16, 5);
    const B = ref.randn(16, 6);
    const r = await run(g, { x: f32([6, 16], X) }, { w: W, b: B });
    expectClose(r.ln!.data as Float32Array, ref.layerNorm(X, 6, 16, 1e-6));
    expectClose(r.lna!.data as Float32Array, ref.layerNorm(X, 6, 16, 1e-5, W, B));
    expectClose(r.rms!.data as Float32Array, ref.rmsNorm(X, 6, 16, 1e-6, W));
  });

  it("gelu (tanh approximation, not erf), silu, softmax", async () => {
    const g = new Graph("act");
    const x = g.input("x", "float32", [4, 8]);
    g.output(op.gelu(g, x, "tanh"), "gelu");
    g.output(op.silu(g, x), "silu");
    g.output(op.softmax(g, x, -1), "sm");
    const X = ref.randn(32, 7, 4);
    const r = await run(g, { x: f32([4, 8], X) });
    expectClose(r.gelu!.data as Float32Array, Array.from(X, ref.geluTanh), 1e-6, 1e-5);
    expectClose(
      r.silu!.data as Float32Array,
      Array.from(X, (v) => v / (1 + Math.exp(-v))),
    );
    const sm: number[] = [];
    for (let i = 0; i < 4; i++) {
      const row = Array.from(X.slice(i * 8, i * 8 + 8));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      sm.push(...e.map((v) => v / s));
    }
    expectClose(r.sm!.data as Float32Array, sm);
  });

  it("attention (MultiHeadAttention) matches per-head softmax(q kᵀ/√d) v, S ≠ L", async () => {
    const [S, L, H, d] = [5, 9, 3, 4];
    const g = new Graph("mha");
    const q = g.input("q", "float32", [1, S, H * d]);
    const k = g.input("k", "float32", [1, L, H * d]);
    const v = g.input("v", "float32", [1, L, H * d]);
    g.output(op.attention(g, q, k, v, H), "a");
    const Q = ref.randn(S * H * d, 8);
    const K = ref.randn(L * H * d, 9);
    const V = ref.randn(L * H * d, 10);
    const r = await run(g, { q: f32([1, S, H * d], Q), k: f32([1, L, H * d], K), v: f32([1, L, H * d], V) });
    expectClose(r.a!.data as Float32Array, ref.attention(Q, K, V, S, L, H, d));
  });

  it("conv3d with padding and stride", async () => {
    const g = new Graph("conv");
    const x = g.input("x", "float32", [1, 3, 4, 6, 5]);
    g.output(
      op.conv(g, x, g.param("w", [4, 3, 3, 3, 3]), g.param("b", [4]), { pads: [1, 1, 1, 1, 1, 1], strides: [1, 2, 2] }),
      "y",
    );
    const X = ref.randn(3 * 4 * 6 * 5, 11);
    const W = ref.randn(4 * 81, 12, 0.3);
    const B = ref.randn(4, 13);
    const r = await run(g, { x: f32([1, 3, 4, 6, 5], X) }, { w: W, b: B });
    const want = ref.conv3d(X, [3, 4, 6, 5], W, [4, 3, 3, 3, 3], B, [1, 1, 1], [1, 2, 2]);
    expect(r.y!.dims).toEqual([1, ...want.dims]);
    expectClose(r.y!.data as Float32Array, want.y);
  });

  it("shape ops: reshape, transpose, slice, concat, split, gather", async () => {
    const g = new Graph("shape");
    const x = g.input("x", "float32", [2, 3, 4]);
    const t = op.transpose(g, x, [2, 0, 1]); // [4, 2, 3]
    g.output(op.reshape(g, t, [4, -1]), "r"); // [4, 6]
    g.output(op.slice(g, x, 2, 1, 4, 2), "s"); // [2, 3, 2]
    const [a, b] = op.split(g, x, 1, [1, 2]) as [ReturnType<typeof op.reshape>, ReturnType<typeof op.reshape>];
    g.output(op.concat(g, [b, a], 1), "c");
    g.output(op.gather(g, x, g.ints([2, 0]), 2), "gth"); // [2, 3, 2]
    const X = Float32Array.from({ length: 24 }, (_, i) => i);
    const r = await run(g, { x: f32([2, 3, 4], X) });
    const at = (i: number, j: number, k: number) => i * 12 + j * 4 + k;
    const want = (fn: (i: number, j: number, k: number) => number, d: number[]) => {
      const out: number[] = [];
      for (let i = 0; i < d[0]!; i++)
        for (let j = 0; j < d[1]!; j++) for (let k = 0; k < d[2]!; k++) out.push(fn(i, j, k));
      return out;
    };
    expect([...(r.r!.data as Float32Array)]).toEqual(want((k, i, j) => at(i, j, k), [4, 2, 3]));
    expect([...(r.s!.data as Float32Array)]).toEqual(want((i, j, k) => at(i, j, 1 + 2 * k), [2, 3, 2]));
    expect([...(r.c!.data as Float32Array)]).toEqual(want((i, j, k) => at(i, (j + 1) % 3, k), [2, 3, 4]));
    expect([...(r.gth!.data as Float32Array)]).toEqual(want((i, j, k) => at(i, j, k === 0 ? 2 : 0), [2, 3, 2]));
  });
});

describe("build-time checks", () => {
  it("a shape error names the op, the module path and both shapes", () => {
    const g = new Graph("bad");
    const w = new Scope(g).at("blocks", 3).at("self_attn");
    const x = g.input("x", "float32", [4, 8]);
    expect(() => w.build(() => op.linearRaw(g, x, w.param("q.weight", [8, 6]), null))).toThrow(
      /Linear at blocks\.3\.self_attn: input has 8 features, weight \[8,6\] expects 6/,
    );
    expect(() => op.add(g, x, g.input("y", "float32", [3, 8]))).toThrow(/Add: cannot broadcast \[4, 8\] with \[3, 8\]/);
    expect(() => op.reshape(g, x, [5, -1])).toThrow(/Reshape: cannot reshape \[4, 8\]/);
    expect(() => op.matmul(g, x, x)).toThrow(/MatMul: inner dims differ/);
    const z = g.input("z", "int64", [4, 8]);
    expect(() => op.concat(g, [x, z], 0)).toThrow(expect.objectContaining({ code: "E_SHAPE_MISMATCH" }));
  });

  it("params are named by their full checkpoint key", () => {
    const g = new Graph("keys");
    const w = new Scope(g).at("blocks", 3).at("self_attn", "q");
    w.param("weight", [2, 2]);
    expect([...g.params.keys()]).toEqual(["blocks.3.self_attn.q.weight"]);
  });
});
