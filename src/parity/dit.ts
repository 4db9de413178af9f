/** Parity of WanModel against a DiT fixture: the output, every intermediate present, and RoPE alone. */
import { compile } from "../engine/compile.ts";
import { Graph } from "../engine/graph.ts";
import { reshape } from "../engine/ops/index.ts";
import type { Device, Runtime } from "../engine/runtime.ts";
import { readTensor } from "../engine/safetensors.ts";
import { f32, type HostTensor } from "../engine/tensor.ts";
import { weightMapFromFiles } from "../engine/weights.ts";
import { ReelError } from "../errors.ts";
import { parseWanConfig } from "../models/wan/config.ts";
import { WanDiT, sinusoidalEmbedding1d } from "../models/wan/model.ts";
import { ropeApply, ropeConstants } from "../models/wan/rope.ts";
import { type Comparison, compareTensor, failedComparison } from "./compare.ts";
import type { Fixture } from "./fixtures.ts";

const INPUTS = new Set(["x", "t", "context", "seq_len", "y", "clip_fea"]);

export interface ParityRunOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
  /** DiT only: tokens per FFN piece (tests use a small value so the pieces are checked on tiny fixtures). */
  readonly ffnRows?: number;
}

export async function runDitFixture(fx: Fixture, o: ParityRunOptions): Promise<Comparison[]> {
  if (fx.weights === null)
    throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: no ${fx.name}.weights.safetensors`);
  const cfg = parseWanConfig(fx.config, `${fx.name} __metadata__.config`);
  const io = (k: string): HostTensor | undefined => (fx.io.tensors.has(k) ? readTensor(fx.io, k) : undefined);
  const need = (k: string): HostTensor => {
    const t = io(k);
    if (t === undefined) throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: input "${k}" is missing`);
    return t;
  };
  const model = new WanDiT(cfg, weightMapFromFiles([fx.weights.path]), o);
  const x = need("x");
  const t = [...(need("t").data as Float32Array)];
  const seq = io("seq_len");
  const clip = io("clip_fea");
  const y = io("y");
  const expected = [...fx.io.tensors.keys()].filter((k) => !INPUTS.has(k) && !k.startsWith("rope"));
  const taps = new Set(expected.filter((k) => k !== "out" && k !== "time_sinusoid"));
  const out = await model.forward(
    {
      x,
      t,
      context: need("context"),
      ...(seq ? { seqLen: Number((seq.data as BigInt64Array)[0]) } : {}),
      ...(y ? { y } : {}),
      ...(clip ? { clipFea: clip } : {}),
    },
    taps,
  );
  const results: Comparison[] = [];
  for (const k of expected) {
    const want = readTensor(fx.io, k);
    let got: HostTensor | undefined = out[k];
    if (k === "time_sinusoid") {
      // The reference embeds every token's t; reel embeds the distinct values. Compare per token.
      const L = want.dims.length === 2 ? want.dims[0]! : 1;
      got = f32([L, cfg.freq_dim], sinusoidalEmbedding1d(cfg.freq_dim, t.length === 1 ? [t[0]!] : t.slice(0, L)));
    }
    if (got === undefined) {
      results.push(failedComparison(fx.name, k, "not produced"));
      continue;
    }
    results.push(compareTensor(fx.name, k, got.data, want.data));
  }
  // RoPE alone: rope_in [1, L, heads, d] with rope_grid [1, 3] (and rope2_*).
  for (const p of ["rope", "rope2"]) {
    const inp = io(`${p}_in`);
    const grid = io(`${p}_grid`);
    const want = io(`${p}_out`);
    if (!inp || !grid || !want) continue;
    const [, L, H, d] = inp.dims as [number, number, number, number];
    const gr = [...(grid.data as BigInt64Array)].map(Number) as [number, number, number];
    const g = new Graph(`rope_${gr.join("x")}_${H}x${d}`);
    const xin = g.input("x", "float32", [L, H, d]);
    g.output(reshape(g, ropeApply(g, xin, ropeConstants(g, gr, d)), [L, H, d]), "out");
    const s = await compile(g, new Map(), o);
    const r = await s.run({ x: f32([L, H, d], inp.data as Float32Array) });
    results.push(compareTensor(fx.name, `${p}_out`, r.out!.data, want.data));
  }
  return results;
}
