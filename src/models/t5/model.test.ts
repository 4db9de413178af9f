/**
 * UMT5Encoder, the host runner: the umT5-XXL preset's parameter count, the paths the t5-tiny
 * fixture does not take (shared_pos, dim_attn ≠ dim, 16 buckets, a mask with holes) against a
 * float64 loop written from wan-architecture.md §4.3, trimming and batch independence,
 * bf16/f16 and HF-named checkpoints, and the weight and input checks.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectClose } from "../../../test/helpers/close.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { writeRandomWeights } from "../../engine/random-weights.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { loadAll, writeSafetensors } from "../../engine/safetensors.ts";
import { type HostTensor, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, i64 } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { relativePositionBucket } from "./buckets.ts";
import { type T5Config, parseT5Config, t5Preset } from "./config.ts";
import { officialToHf, t5WeightMapFromFiles } from "./keys.ts";
import { UMT5Encoder, t5Params } from "./model.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const run = { runtime: ortRuntime, device: "cpu" as const, threads: 1 };

/** shared_pos, dim_attn ≠ dim, 16 buckets (max_exact 4: the log branch from |rel| 4). */
const CFG: T5Config = parseT5Config(
  { vocab: 50, dim: 24, dim_attn: 16, dim_ffn: 40, num_heads: 4, num_layers: 2, num_buckets: 16, shared_pos: true },
  "test",
);
const B = 2;
const L = 30;
const weightsPath = join(tmp.dir, "t5.safetensors");
writeRandomWeights(weightsPath, t5Params(CFG), 7);

const IDS = Array.from({ length: B * L }, (_, i) => (i * 37 + 11) % CFG.vocab);
// Prompt 0: 30 real tokens; prompt 1: 12 tokens, a hole at 5 (masked key, still counted out), then pads.
const MASK = Array.from({ length: B * L }, (_, i) => (i < L ? 1 : i - L < 12 && i - L !== 5 ? 1 : 0));

/** T5Encoder in float64, straight from §4.3: out [B·L·dim]. */
function reference(cfg: T5Config, W: Map<string, HostTensor>, ids: number[], mask: number[]): Float64Array {
  const w = (k: string) => W.get(k)!.data as Float32Array;
  const { dim: D, dim_attn: A, dim_ffn: F, num_heads: H } = cfg;
  const d = A / H;
  const lin = (x: Float64Array, Wt: Float32Array, inF: number, outF: number) => {
    const y = new Float64Array((x.length / inF) * outF);
    for (let r = 0; r < x.length / inF; r++)
      for (let o = 0; o < outF; o++) {
        let s = 0;
        for (let i = 0; i < inF; i++) s += x[r * inF + i]! * Wt[o * inF + i]!;
        y[r * outF + o] = s;
      }
    return y;
  };
  const rms = (x: Float64Array, g: Float32Array) => {
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / D; r++) {
      let ms = 0;
      for (let i = 0; i < D; i++) ms += x[r * D + i]! ** 2;
      const s = 1 / Math.sqrt(ms / D + 1e-6);
      for (let i = 0; i < D; i++) y[r * D + i] = x[r * D + i]! * s * g[i]!;
    }
    return y;
  };
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const out = new Float64Array(B * L * D);
  for (let b = 0; b < B; b++) {
    let x = new Float64Array(L * D);
    for (let t = 0; t < L; t++)
      for (let i = 0; i < D; i++) x[t * D + i] = w("token_embedding.weight")[ids[b * L + t]! * D + i]!;
    for (let l = 0; l < cfg.num_layers; l++) {
      const p = `blocks.${l}.`;
      const rel = w(cfg.shared_pos ? "pos_embedding.embedding.weight" : `${p}pos_embedding.embedding.weight`);
      const h = rms(x, w(`${p}norm1.weight`));
      const [q, k, v] = ["q", "k", "v"].map((n) => lin(h, w(`${p}attn.${n}.weight`), D, A)) as Float64Array[];
      const a = new Float64Array(L * A);
      for (let n = 0; n < H; n++)
        for (let i = 0; i < L; i++) {
          const s = new Float64Array(L);
          for (let j = 0; j < L; j++) {
            let dot = rel[relativePositionBucket(j - i, cfg.num_buckets) * H + n]!;
            for (let c = 0; c < d; c++) dot += q![i * A + n * d + c]! * k![j * A + n * d + c]!;
            s[j] = mask[b * L + j] === 0 ? Number.NEGATIVE_INFINITY : dot;
          }
          const m = Math.max(...s);
          const e = s.map((sj) => Math.exp(sj - m)); //     exp(−∞) = 0 at masked keys
          const z = e.reduce((acc, u) => acc + u, 0);
          for (let c = 0; c < d; c++) {
            let acc = 0;
            for (let j = 0; j < L; j++) acc += (e[j]! / z) * v![j * A + n * d + c]!;
            a[i * A + n * d + c] = acc;
          }
        }
      const o = lin(a, w(`${p}attn.o.weight`), A, D);
      x = x.map((xv, i) => xv + o[i]!);
      const h2 = rms(x, w(`${p}norm2.weight`));
      const g = lin(h2, w(`${p}ffn.gate.0.weight`), D, F);
      const f1 = lin(h2, w(`${p}ffn.fc1.weight`), D, F).map((u, i) => u * gelu(g[i]!));
      const f2 = lin(f1, w(`${p}ffn.fc2.weight`), F, D);
      x = x.map((xv, i) => xv + f2[i]!);
    }
    out.set(rms(x, w("norm.weight")), b * L * D);
  }
  return out;
}

describe("UMT5Encoder", () => {
  it("umT5-XXL declares the 5,680,910,336 parameters of the released checkpoint", () => {
    const params = t5Params(t5Preset("umt5-xxl"));
    let n = 0;
    for (const p of params.values()) n += p.shape.reduce((a, b) => a * b, 1);
    expect(n).toBe(5_680_910_336);
    expect(params.get("blocks.23.pos_embedding.embedding.weight")?.shape).toEqual([32, 64]);
    expect(params.has("pos_embedding.embedding.weight")).toBe(false);
  });

  it("matches the float64 loop with a shared bias, dim_attn ≠ dim and a masked hole; trims to seq_len", async () => {
    const m = new UMT5Encoder(CFG, weightMapFromFiles([weightsPath]), run);
    const r = await m.encode(i64([B, L], IDS), i64([B, L], MASK), new Set(["block0_pos_bias", "block1_pos_bias"]));
    const want = reference(CFG, loadAll(weightsPath).tensors, IDS, MASK);
    expectClose(r.out.data as Float32Array, want, 2e-5, 1e-4);
    expect(r.seqLens).toEqual([30, 11]);
    expect(r.contexts.map((c) => c.dims)).toEqual([
      [30, 24],
      [11, 24],
    ]);
    expect([...(r.contexts[1]!.data as Float32Array)]).toEqual([
      ...(r.out.data as Float32Array).slice(L * 24, L * 24 + 11 * 24),
    ]);
    // One shared table: every block gets the same bias.
    expect([...(r.taps.block0_pos_bias!.data as Float32Array)]).toEqual([
      ...(r.taps.block1_pos_bias!.data as Float32Array),
    ]);
    // A prompt encoded alone gives what it gives in the batch.
    const alone = await m.encode(i64([1, L], IDS.slice(L)), i64([1, L], MASK.slice(L)));
    expectClose(alone.contexts[0]!.data as Float32Array, r.contexts[1]!.data as Float32Array, 1e-6, 1e-6);
  });

  it("runs bf16 (HF names) and f16 (official names) checkpoints as float32 of the same values", async () => {
    const cfg = parseT5Config({ ...CFG, shared_pos: false }, "test");
    const src = join(tmp.dir, "umt5.safetensors");
    writeRandomWeights(src, t5Params(cfg), 3);
    const tensors = loadAll(src).tensors;
    const save = (name: string, pick: (k: string, x: Float32Array) => [string, HostTensor][]) => {
      const out: Record<string, HostTensor> = {};
      for (const [k, t] of tensors) for (const [n, v] of pick(k, t.data as Float32Array)) out[n] = v;
      writeSafetensors(join(tmp.dir, name), out);
      return join(tmp.dir, name);
    };
    const dims = (k: string) => tensors.get(k)!.dims;
    const bf16 = save("hf-bf16.safetensors", (k, x) => {
      const t: HostTensor = { dtype: "bfloat16", dims: dims(k), data: f32ToBf16(x) };
      // HF files may hold the tied embedding twice.
      return k === "token_embedding.weight"
        ? [
            ["shared.weight", t],
            ["encoder.embed_tokens.weight", t],
          ]
        : [[officialToHf(k)!, t]];
    });
    const bf16Ref = save("bf16-as-f32.safetensors", (k, x) => [
      [k, { dtype: "float32", dims: dims(k), data: bf16ToF32(f32ToBf16(x)) }],
    ]);
    const f16 = save("f16.safetensors", (k, x) => [[k, { dtype: "float16", dims: dims(k), data: f32ToF16(x) }]]);
    const f16Ref = save("f16-as-f32.safetensors", (k, x) => [
      [k, { dtype: "float32", dims: dims(k), data: f16ToF32(f32ToF16(x)) }],
    ]);
    const ids = i64([B, L], IDS);
    const mask = i64([B, L], MASK);
    const enc = async (path: string) => {
      const { weights, layout } = t5WeightMapFromFiles([path]);
      const r = await new UMT5Encoder(cfg, weights, run).encode(ids, mask);
      return { layout, out: [...(r.out.data as Float32Array)] };
    };
    const [a, b, c, d] = await Promise.all([enc(bf16), enc(bf16Ref), enc(f16), enc(f16Ref)]);
    expect([a.layout, b.layout, c.layout]).toEqual(["hf", "official", "official"]);
    expect(a.out).toEqual(b.out);
    expect(c.out).toEqual(d.out);
    expect(a.out.every(Number.isFinite)).toBe(true);
  });

  it("lists every missing, unexpected and mis-shaped tensor in one E_WEIGHTS_MISMATCH", () => {
    const weights = weightMapFromFiles([weightsPath], (k) => (k === "blocks.1.norm2.weight" ? null : k));
    const other = parseT5Config({ ...CFG, dim_ffn: 48, shared_pos: false }, "test");
    let err: unknown;
    try {
      new UMT5Encoder(other, weights, run);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "E_WEIGHTS_MISMATCH" });
    const msg = (err as Error).message;
    expect(msg).toMatch(/missing \(3\):/);
    expect(msg).toContain("blocks.1.norm2.weight [24]");
    expect(msg).toContain("blocks.0.pos_embedding.embedding.weight [16, 4]");
    expect(msg).toMatch(/unexpected \(1\):\n\s+pos_embedding\.embedding\.weight/);
    expect(msg).toContain("blocks.0.ffn.fc1.weight: checkpoint [40, 24], model expects [48, 24]");
  });

  it("rejects bad inputs and configs with clear errors", async () => {
    const m = new UMT5Encoder(CFG, weightMapFromFiles([weightsPath]), run);
    const ids = [...IDS];
    ids[L + 3] = CFG.vocab;
    await expect(m.encode(i64([B, L], ids), i64([B, L], MASK))).rejects.toThrow(
      /ids\[1, 3\] = 50 is outside the vocabulary \[0, 50\)/,
    );
    await expect(m.encode(i64([B, L], IDS), i64([1, B * L], MASK))).rejects.toThrow(
      /mask \[1,60\] must have the shape/,
    );
    expect(() => m.prepare({ dtype: "float32", dims: [1, 2], data: new Float32Array(2) }, i64([1, 2], [1, 1]))).toThrow(
      expect.objectContaining({ code: "E_INPUT_INVALID" }),
    );
    expect(() => parseT5Config({ ...CFG, dim_attn: 18 }, "cfg")).toThrow(/dim_attn 18 is not divisible by num_heads 4/);
    expect(() => parseT5Config({ ...CFG, num_buckets: 2 }, "cfg")).toThrow(
      expect.objectContaining({ code: "E_CONFIG_INVALID" }),
    );
  });
});
