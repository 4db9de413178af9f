/**
 * UMT5Encoder: runs the T5 encoder graph (encoder.ts) on ONNX Runtime and returns what the
 * DiT receives. Mirrors T5EncoderModel.__call__ of Wan-Video/Wan2.1 wan/modules/t5.py
 * @9737cba after tokenization: seq_len = number of mask entries > 0, context = model(ids,
 * mask), then each prompt's output trimmed to its first seq_len rows (wan-architecture.md §4.5).
 * One graph per (batch, length), compiled once (engine/compile caches it on disk and in process).
 *
 * Deviation: the official pipeline runs the encoder in bf16; reel computes in float32 (bf16 or
 * f16 checkpoints are widened to float32 by engine/compile).
 */
import { compile } from "../../engine/compile.ts";
import { Graph, Scope } from "../../engine/graph.ts";
import type { Device, InferenceSession, Runtime } from "../../engine/runtime.ts";
import { type HostTensor, f32 } from "../../engine/tensor.ts";
import { type DeclaredParam, type WeightMap, checkWeights, declaredParams } from "../../engine/weights.ts";
import { ReelError } from "../../errors.ts";
import type { T5Config } from "./config.ts";
import { type T5Shape, buildT5Encoder } from "./encoder.ts";

export interface T5RunOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
}

export interface T5EncodeResult {
  /** Encoder output at every position, pad rows included: [B, L, dim]. */
  readonly out: HostTensor;
  /** Per prompt: the count of mask entries > 0 (real pieces and the EOS). */
  readonly seqLens: readonly number[];
  /** Per prompt: out[b, :seq_len] as [seq_len, dim], what the DiT is given. */
  readonly contexts: readonly HostTensor[];
  /** Requested intermediates by name (token_embedding_out, block{i}_out, block{i}_pos_bias). */
  readonly taps: Readonly<Record<string, HostTensor>>;
}

/** Every checkpoint tensor T5Encoder declares for a config (official key → shape), from a 1×1 graph. */
export function t5Params(config: T5Config): Map<string, DeclaredParam> {
  const g = new Graph("t5_params");
  buildT5Encoder(g, new Scope(g), config, { batch: 1, length: 1 });
  return declaredParams(g);
}

/** An integer tensor as int64 values, checked to be [B, L] of integers. */
function int64Of(name: string, t: HostTensor): BigInt64Array {
  if (t.dims.length !== 2) throw new ReelError("E_INPUT_INVALID", `${name} must be [batch, length], got [${t.dims}]`);
  if (t.data instanceof BigInt64Array) return t.data;
  if (t.data instanceof Int32Array || t.data instanceof Uint8Array || t.data instanceof Int8Array)
    return BigInt64Array.from(t.data, (v) => BigInt(v));
  throw new ReelError(
    "E_INPUT_INVALID",
    `${name} must be an integer tensor (int64, int32, uint8, bool), got ${t.dtype}`,
  );
}

export class UMT5Encoder {
  constructor(
    readonly config: T5Config,
    readonly weights: WeightMap,
    private readonly opts: T5RunOptions,
  ) {
    // Check every key once: one error lists all missing, unexpected and mis-shaped tensors.
    checkWeights(
      `T5Encoder (dim ${config.dim}, ${config.num_layers} layers, vocab ${config.vocab})`,
      t5Params(config),
      weights,
    );
  }

  graphFor(shape: T5Shape, taps?: ReadonlySet<string>): Graph {
    const c = this.config;
    const g = new Graph(`t5_${c.dim}x${c.num_layers}_b${shape.batch}_l${shape.length}`);
    buildT5Encoder(g, new Scope(g), c, shape, taps ? { taps } : {});
    return g;
  }

  async session(shape: T5Shape, taps?: ReadonlySet<string>): Promise<InferenceSession> {
    return compile(this.graphFor(shape, taps), this.weights, {
      runtime: this.opts.runtime,
      device: this.opts.device,
      ...(this.opts.threads ? { threads: this.opts.threads } : {}),
      ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}),
    });
  }

  /** Validates ids [B, L] (each in [0, vocab)) and mask [B, L]; returns the graph feeds. */
  prepare(ids: HostTensor, mask: HostTensor): { shape: T5Shape; feeds: Record<string, HostTensor>; seqLens: number[] } {
    const idv = int64Of("ids", ids);
    const mv = int64Of("mask", mask);
    const [B, L] = ids.dims as [number, number];
    if (B < 1 || L < 1) throw new ReelError("E_INPUT_INVALID", `ids [${ids.dims}] is empty`);
    if (mask.dims.join() !== ids.dims.join())
      throw new ReelError("E_INPUT_INVALID", `mask [${mask.dims}] must have the shape of ids [${ids.dims}]`);
    const vocab = BigInt(this.config.vocab);
    for (let i = 0; i < idv.length; i++) {
      const v = idv[i]!;
      if (v < 0n || v >= vocab)
        throw new ReelError(
          "E_INPUT_INVALID",
          `ids[${Math.floor(i / L)}, ${i % L}] = ${v} is outside the vocabulary [0, ${vocab})`,
        );
    }
    const seqLens: number[] = [];
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let j = 0; j < L; j++) if (mv[b * L + j]! > 0n) n++;
      seqLens.push(n);
    }
    return {
      shape: { batch: B, length: L },
      feeds: { ids: { dtype: "int64", dims: [B, L], data: idv }, mask: { dtype: "int64", dims: [B, L], data: mv } },
      seqLens,
    };
  }

  /**
   * Encodes a batch of tokenized prompts. ids, mask: [B, L] (mask 1 for pieces and EOS, 0 for
   * pads). With `taps`, the named intermediates come back too.
   */
  async encode(ids: HostTensor, mask: HostTensor, taps?: ReadonlySet<string>): Promise<T5EncodeResult> {
    const { shape, feeds, seqLens } = this.prepare(ids, mask);
    const s = await this.session(shape, taps);
    const r = await s.run(feeds);
    const { out, ...rest } = r;
    if (out === undefined) throw new ReelError("E_ORT_SESSION", "T5Encoder graph returned no `out`");
    const D = this.config.dim;
    const data = out.data as Float32Array;
    const rowsPerPrompt = shape.length * D;
    const contexts = seqLens.map((n, b) => f32([n, D], data.slice(b * rowsPerPrompt, b * rowsPerPrompt + n * D)));
    return { out, seqLens, contexts, taps: rest };
  }
}
