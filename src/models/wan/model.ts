/**
 * WanDiT: runs WanModel on ONNX Runtime. Builds the graph for each input shape, compiles it
 * once (engine/compile caches it on disk and in process), and prepares the host-side inputs
 * exactly as the reference does (float64 sinusoid, zero-padded text context).
 */
import { compile, releaseSession } from "../../engine/compile.ts";
import { Graph, Scope } from "../../engine/graph.ts";
import type { Device, InferenceSession, Runtime } from "../../engine/runtime.ts";
import { type HostTensor, f32, i64 } from "../../engine/tensor.ts";
import { type DeclaredParam, type WeightMap, checkWeights, declaredParams } from "../../engine/weights.ts";
import { ReelError } from "../../errors.ts";
import { type WanConfig, hasImageBranch } from "./config.ts";
import { type LinearFn, type WanShape, buildWanModel, patchGrid } from "./transformer.ts";

/**
 * sinusoidal_embedding_1d: [cos(t·ω) | sin(t·ω)], ω_i = 10000^(−i/half), in float64, then float32.
 * t: [U] → [U, dim]
 */
export function sinusoidalEmbedding1d(dim: number, t: readonly number[]): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let r = 0; r < t.length; r++) {
    for (let i = 0; i < half; i++) {
      const a = t[r]! * 10000 ** (-i / half);
      out[r * dim + i] = Math.cos(a);
      out[r * dim + half + i] = Math.sin(a);
    }
  }
  return out;
}

export interface WanForwardInput {
  /** Noisy latent [out_dim, F, H, W]. */
  readonly x: HostTensor;
  /** One timestep, or one per token (Wan 2.2; at least L values, extra padding ignored). */
  readonly t: readonly number[];
  /** Text embedding [Lc ≤ text_len, text_dim]: the encoder output of the real tokens. */
  readonly context: HostTensor;
  /** seq_len of the reference: at least the token count L; padding never changes the result. */
  readonly seqLen?: number;
  /** CLIP features [n_images, tokens, 1280] (Wan 2.1 i2v: 1 image; flf2v: 2). */
  readonly clipFea?: HostTensor;
  /** Conditioning [in_dim − out_dim, F, H, W]: mask (4) + image latent (16). */
  readonly y?: HostTensor;
}

export interface WanRunOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
  readonly linear?: LinearFn;
  /** Names the linear mode in the graph name so f32 and int8 graphs never share a cache entry. */
  readonly linearName?: string;
  /** Tokens per FFN piece (transformer.ts FFN_ROWS by default; 0: whole sequence). */
  readonly ffnRows?: number;
  /**
   * Keep the weights memory-mapped instead of letting ORT prepack them (default false for the
   * DiT). Prepacked, a 4-block 1.3B slice at 7,800 tokens ran 10% faster (25.3-26.1 s vs
   * 28.3-29.0 s, quiet machine) at the same peak RSS (2.1 GB), because ORT drops the mapped
   * original once packed; session creation costs a few seconds per GB once per run.
   */
  readonly keepWeightsMapped?: boolean;
}

/** Every checkpoint tensor WanModel declares for a config (key → shape), from a minimal-shape graph. */
export function wanParams(config: WanConfig): Map<string, DeclaredParam> {
  const g = new Graph("wan_params");
  const [pt, ph, pw] = config.patch_size;
  buildWanModel(g, new Scope(g), config, {
    frames: pt,
    height: ph,
    width: pw,
    timesteps: 1,
    clipTokens: config.model_type === "flf2v" ? 514 : 257,
  });
  return declaredParams(g);
}

export class WanDiT {
  private resident: { key: string; session: Promise<InferenceSession> } | null = null;

  constructor(
    readonly config: WanConfig,
    readonly weights: WeightMap,
    private readonly opts: WanRunOptions,
  ) {
    // Check every key once: one error lists all missing, unexpected and mis-shaped tensors.
    checkWeights(
      `WanModel (${config.model_type}, dim ${config.dim}, ${config.num_layers} layers)`,
      wanParams(config),
      weights,
    );
  }

  graphFor(shape: WanShape, taps?: ReadonlySet<string>): Graph {
    const g = new Graph(`wan_${this.config.model_type}_${this.opts.linearName ?? "f32"}`);
    buildWanModel(g, new Scope(g), this.config, shape, {
      ...(taps ? { taps } : {}),
      ...(this.opts.linear ? { linear: this.opts.linear } : {}),
      ...(this.opts.ffnRows !== undefined ? { ffnRows: this.opts.ffnRows } : {}),
    });
    return g;
  }

  /** Validates shapes and prepares the graph feeds. */
  prepare(input: WanForwardInput): { shape: WanShape; feeds: Record<string, HostTensor>; sinusoid: Float32Array } {
    const c = this.config;
    const [C, F, H, W] = input.x.dims as [number, number, number, number];
    if (input.x.dims.length !== 4 || C !== c.out_dim)
      throw new ReelError("E_INPUT_INVALID", `x must be [${c.out_dim}, F, H, W], got [${input.x.dims}]`);
    const grid = patchGrid(c, { frames: F, height: H, width: W });
    if (!grid.every(Number.isInteger))
      throw new ReelError(
        "E_INPUT_INVALID",
        `latent size [${F}, ${H}, ${W}] must be divisible by patch_size [${c.patch_size}]`,
      );
    const L = grid[0] * grid[1] * grid[2];
    if (input.seqLen !== undefined && input.seqLen < L)
      throw new ReelError("E_INPUT_INVALID", `seq_len ${input.seqLen} is smaller than the ${L} tokens of x`);
    // Timesteps: distinct values and, for per-token t, an index per token.
    let ts: number[];
    let index: number[] | null = null;
    if (input.t.length === 1) ts = [input.t[0]!];
    else {
      if (input.t.length < L)
        throw new ReelError("E_INPUT_INVALID", `per-token t has ${input.t.length} values, x has ${L} tokens`);
      ts = [...new Set(input.t.slice(0, L))];
      const pos = new Map(ts.map((v, i) => [v, i]));
      index = input.t.slice(0, L).map((v) => pos.get(v)!);
      if (ts.length === 1) index = null;
    }
    const [Lc, Dt] = input.context.dims as [number, number];
    if (input.context.dims.length !== 2 || Dt !== c.text_dim || Lc > c.text_len)
      throw new ReelError(
        "E_INPUT_INVALID",
        `context must be [≤${c.text_len}, ${c.text_dim}], got [${input.context.dims}]`,
      );
    const ctx = new Float32Array(c.text_len * c.text_dim);
    ctx.set(input.context.data as Float32Array);
    const sinusoid = sinusoidalEmbedding1d(c.freq_dim, ts);
    const feeds: Record<string, HostTensor> = {
      x: input.x,
      t_sinusoid: f32([ts.length, c.freq_dim], sinusoid),
      context: f32([c.text_len, c.text_dim], ctx),
    };
    if (index !== null) feeds.t_index = i64([L], index);
    const yCh = c.in_dim - c.out_dim;
    if (yCh > 0) {
      if (input.y === undefined || input.y.dims.join() !== [yCh, F, H, W].join())
        throw new ReelError(
          "E_INPUT_INVALID",
          `${c.model_type} needs y [${yCh}, ${F}, ${H}, ${W}], got ${input.y ? `[${input.y.dims}]` : "none"}`,
        );
      feeds.y = input.y;
    }
    let clipTokens: number | undefined;
    if (hasImageBranch(c)) {
      const cf = input.clipFea;
      const nImg = c.model_type === "flf2v" ? 2 : 1;
      if (cf === undefined || cf.dims.length !== 3 || cf.dims[0] !== nImg || cf.dims[2] !== 1280)
        throw new ReelError(
          "E_INPUT_INVALID",
          `${c.model_type} needs clip_fea [${nImg}, tokens, 1280], got ${cf ? `[${cf.dims}]` : "none"}`,
        );
      clipTokens = nImg * cf.dims[1]!;
      feeds.clip_fea = f32([1, clipTokens, 1280], cf.data as Float32Array);
    }
    const shape: WanShape = {
      frames: F,
      height: H,
      width: W,
      timesteps: ts.length,
      ...(clipTokens ? { clipTokens } : {}),
    };
    return { shape, feeds, sinusoid };
  }

  /**
   * The session for one shape. Only one is resident at a time: each session maps the weight
   * files itself, so a second shape's session would count the weights twice in RSS (measured:
   * +0.77 GB for a 4-block slice) and hold twice the page tables. Switching shapes releases the
   * previous session first; generation uses one shape per run, so this costs nothing there.
   */
  async session(shape: WanShape, taps?: ReadonlySet<string>): Promise<InferenceSession> {
    const key = `${JSON.stringify(shape)}|${taps ? [...taps].sort().join(",") : ""}`;
    if (this.resident && this.resident.key !== key) {
      const old = this.resident.session;
      this.resident = null;
      await releaseSession(await old);
    }
    if (!this.resident) {
      const session = compile(this.graphFor(shape, taps), this.weights, {
        runtime: this.opts.runtime,
        device: this.opts.device,
        ...(this.opts.threads ? { threads: this.opts.threads } : {}),
        ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}),
        keepWeightsMapped: this.opts.keepWeightsMapped ?? false,
      });
      this.resident = { key, session };
      session.catch(() => {
        if (this.resident?.session === session) this.resident = null;
      });
    }
    return this.resident.session;
  }

  /** Frees the resident session (the weights stay mapped by nothing). */
  async release(): Promise<void> {
    const r = this.resident;
    this.resident = null;
    if (r) await releaseSession(await r.session);
  }

  /** One forward pass: the velocity [out_dim, F, H, W]. With `taps`, the named intermediates too. */
  async forward(input: WanForwardInput, taps?: ReadonlySet<string>): Promise<Record<string, HostTensor>> {
    const { shape, feeds, sinusoid } = this.prepare(input);
    const s = await this.session(shape, taps);
    const out = await s.run(feeds);
    if (taps?.has("time_sinusoid")) out.time_sinusoid = f32([shape.timesteps, this.config.freq_dim], sinusoid);
    return out;
  }
}
