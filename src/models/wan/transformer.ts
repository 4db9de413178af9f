/**
 * WanModel, the Wan 2.1 / 2.2 diffusion transformer, as an ONNX graph.
 * Mirrors Wan-Video/Wan2.1 wan/modules/model.py @9737cba (WanRMSNorm, WanLayerNorm,
 * WanSelfAttention, WanT2VCrossAttention, WanI2VCrossAttention, WanAttentionBlock, Head,
 * MLPProj, WanModel) and the per-token timesteps of Wan2.2 @42bf4cf; spec:
 * shared/docs/wan-architecture.md §3. Batch size 1; tokens are rows: X [L, dim].
 *
 * Deviations, all exact in value:
 * - The timestep sinusoid is computed on the host in float64 (as the reference) and fed in
 *   for the U distinct timesteps only; per-token models gather rows by `t_index`.
 * - `seq_len` padding is not materialised: padded tokens are masked as keys and dropped at
 *   unpatchify, so they never change the real tokens (§3.2).
 * - The text context is zero-padded to text_len on the host.
 * - The I2V cross-attention attends to image and text keys with their own k/v projections,
 *   as the reference does after splitting the concatenated context.
 */
import { type Graph, type Scope, type Value, dim } from "../../engine/graph.ts";
import {
  add,
  attention,
  chunk,
  concat,
  conv,
  gather,
  gelu,
  layerNorm,
  linearInt8,
  linearRaw,
  mul,
  reshape,
  rmsNorm,
  silu,
  split,
  squeeze,
  transpose,
  unsqueeze,
} from "../../engine/ops/index.ts";
import { type WanConfig, hasImageBranch, headDim } from "./config.ts";
import { ropeApply, ropeConstants } from "./rope.ts";

/** CLIP ViT-H/14 width, hard-coded in the reference MLPProj. */
export const CLIP_DIM = 1280;

export interface WanShape {
  /** Latent frames, height, width of the input x. */
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  /** Distinct timesteps in this call (1 for Wan 2.1 / uniform t; 2 for TI2V image-to-video). */
  readonly timesteps: number;
  /** CLIP tokens (257 for i2v, 514 for flf2v), image-branch models only. */
  readonly clipTokens?: number;
}

export type LinearFn = (w: Scope, x: Value, outF: number, inF: number) => Value;

/**
 * Tokens per FFN piece: longer sequences run the FFN (Linear → GELU → Linear) over pieces of
 * at most this many rows, then concatenate. Exact in value (rows are independent; with int8
 * linears each piece gets its own activation scale). Why: the hidden activation [L, ffn_dim]
 * of a whole sequence is large (280 MB at 7,800 tokens of the 1.3B model) and MLAS's SGEMM
 * slows on such tall matrices; in pieces the 1.3B FFN at 7,800 tokens took 2.07-2.12 s
 * instead of 2.36-2.80 s (Zen 4, 2 threads, quiet), at 1,560 tokens it was unchanged.
 */
export const FFN_ROWS = 1024;

export interface WanBuildOptions {
  /** Intermediates to expose as graph outputs, by fixture name (e.g. "block0_out"). */
  readonly taps?: ReadonlySet<string>;
  /** How Linear layers are emitted (f32 Gemm by default; int8 via engine/quantize). */
  readonly linear?: LinearFn;
  /** Tokens per FFN piece (default FFN_ROWS; 0: the whole sequence at once). */
  readonly ffnRows?: number;
}

/** nn.Linear(in, out) with bias: weight [out, in]. */
export const linearF32: LinearFn = (w, x, outF, inF) =>
  linearRaw(w.g, x, w.param("weight", [outF, inF]), w.param("bias", [outF]));

/**
 * The transformer blocks' Linear layers with int8 weights (per-output-channel scales,
 * dynamic per-tensor activation quantization). Embeddings, the head and the cross-attention
 * k/v (512 text rows: 3.5% of the FLOPs at 1,560 tokens, but a third of the int8 error,
 * measured on the 1.3B configuration) stay float32.
 */
export const linearInt8Blocks: LinearFn = (w, x, outF, inF) => {
  if (!w.prefix.startsWith("blocks.") || /\.cross_attn\.[kv]$/.test(w.prefix)) return linearF32(w, x, outF, inF);
  const g = w.g;
  const key = w.key("weight");
  const q = g.derivedParam(key, [outF, inF], "int8_t", [inF, outF], "int8"); //          [in, out]
  const scale = g.derivedParam(key, [outF, inF], "int8_scale", [outF], "float32"); //    [out]
  return linearInt8(g, x, q, scale, w.param("bias", [outF]));
};

interface Ctx {
  readonly g: Graph;
  readonly cfg: WanConfig;
  readonly linear: LinearFn;
  readonly ffnRows: number;
  readonly tap: (name: string, v: Value) => void;
}

/** Wan's patch grid for a latent of size (frames, height, width). */
export function patchGrid(cfg: WanConfig, s: Pick<WanShape, "frames" | "height" | "width">): [number, number, number] {
  const [pt, ph, pw] = cfg.patch_size;
  return [s.frames / pt, s.height / ph, s.width / pw];
}

export function buildWanModel(g: Graph, w: Scope, cfg: WanConfig, s: WanShape, o: WanBuildOptions = {}): Value {
  const taps = o.taps ?? new Set<string>();
  const ctx: Ctx = {
    g,
    cfg,
    linear: o.linear ?? linearF32,
    ffnRows: o.ffnRows ?? FFN_ROWS,
    tap: (name, v) => {
      if (taps.has(name)) g.output(v, name);
    },
  };
  const { dim: D, freq_dim, text_len, text_dim, out_dim, in_dim } = cfg;
  const grid = patchGrid(cfg, s);
  if (!grid.every(Number.isInteger))
    g.fail(
      "WanModel",
      `latent [${s.frames}, ${s.height}, ${s.width}] is not divisible by patch_size [${cfg.patch_size}]`,
    );
  const L = grid[0] * grid[1] * grid[2];
  const yChannels = in_dim - out_dim;

  // Inputs.
  const x = g.input("x", "float32", [out_dim, s.frames, s.height, s.width]); //             [C, F, H, W]
  const y = yChannels > 0 ? g.input("y", "float32", [yChannels, s.frames, s.height, s.width]) : null;
  const tSin = g.input("t_sinusoid", "float32", [s.timesteps, freq_dim]); //                [U, freq_dim]
  const tIndex = s.timesteps > 1 ? g.input("t_index", "int64", [L]) : null; //              [L]
  const context = g.input("context", "float32", [text_len, text_dim]); //                   [512, text_dim]
  const clipFea = hasImageBranch(cfg)
    ? g.input("clip_fea", "float32", [1, s.clipTokens ?? 257, CLIP_DIM]) //                  [1, n, 1280]
    : null;

  // 1. patch embedding: x = patch_embedding(cat([x, y])), flattened to tokens (f, h, w)
  const xin = y === null ? x : concat(g, [x, y], 0); //                                    [in_dim, F, H, W]
  const wp = w.at("patch_embedding");
  const pe = wp.build(() =>
    conv(g, unsqueeze(g, xin, 0), wp.param("weight", [D, in_dim, ...cfg.patch_size]), wp.param("bias", [D]), {
      strides: cfg.patch_size,
    }),
  ); //                                                                                     [1, D, f, h, w]
  ctx.tap("patch_embedding_out", pe);
  let X = transpose(g, reshape(g, pe, [D, L]), [1, 0]); //                                  [L, D]

  // 2. time embedding: e = time_embedding(sinusoid(t)); e0 = time_projection(e) → [6, D]
  let e = w.at("time_embedding").build(() => {
    const h = silu(g, ctx.linear(w.at("time_embedding", 0), tSin, D, freq_dim));
    return ctx.linear(w.at("time_embedding", 2), h, D, D); //                               [U, D]
  });
  let e0 = w.at("time_projection").build(() => ctx.linear(w.at("time_projection", 1), silu(g, e), 6 * D, D)); // [U, 6D]
  if (tIndex !== null) {
    e = gather(g, e, tIndex, 0); //                                                         [L, D]
    e0 = gather(g, e0, tIndex, 0); //                                                       [L, 6D]
  }
  ctx.tap("time_embedding_out", e);
  ctx.tap("time_projection_out", e0);
  const e0r = reshape(g, e0, [dim(e0, 0), 6, D]); //                                        [U', 6, D]

  // 3. text embedding: context = text_embedding(pad(context, 512))
  const c = w.at("text_embedding").build(() => {
    const h = gelu(g, ctx.linear(w.at("text_embedding", 0), context, D, text_dim), "tanh");
    return ctx.linear(w.at("text_embedding", 2), h, D, D); //                               [512, D]
  });
  ctx.tap("text_embedding_out", c);

  // 4. image embedding (Wan 2.1 i2v/flf2v): context_clip = img_emb(clip_fea)
  const cImg = clipFea === null ? null : mlpProj(ctx, w.at("img_emb"), clipFea);

  // 5. blocks
  const freqs = ropeConstants(g, grid, headDim(cfg));
  for (let i = 0; i < cfg.num_layers; i++) {
    X = attentionBlock(ctx, w.at("blocks", i), i, X, e0r, c, cImg, freqs);
    ctx.tap(`block${i}_out`, X);
  }

  // 6. head, then unpatchify
  const O = head(ctx, w.at("head"), X, e); //                                               [L, prod(patch)·C]
  ctx.tap("head_out", O);
  const [pt, ph, pw] = cfg.patch_size;
  const [f, h, wd] = grid;
  const u = reshape(g, O, [f, h, wd, pt, ph, pw, out_dim]);
  const v = transpose(g, u, [6, 0, 3, 1, 4, 2, 5]); //                                      [C, f, pt, h, ph, w, pw]
  const out = reshape(g, v, [out_dim, f * pt, h * ph, wd * pw]); //                         [C, F, H, W]
  return g.output(out, "out");
}

/** MLPProj: LN(1e-5) → Linear(1280,1280) → GELU(erf) → Linear(1280, D) → LN(1e-5). clip [1, n, 1280] → [n, D]. */
function mlpProj(ctx: Ctx, w: Scope, clip: Value): Value {
  const { g, cfg } = ctx;
  return w.build(() => {
    const n = dim(clip, 1);
    let x = clip;
    if (cfg.model_type === "flf2v") x = add(g, x, w.param("emb_pos", [1, n, CLIP_DIM])); // [1, 514, 1280]
    x = reshape(g, x, [n, CLIP_DIM]);
    x = layerNorm(g, x, 1e-5, w.param("proj.0.weight", [CLIP_DIM]), w.param("proj.0.bias", [CLIP_DIM]));
    x = gelu(g, ctx.linear(w.at("proj", 1), x, CLIP_DIM, CLIP_DIM), "none");
    x = ctx.linear(w.at("proj", 3), x, cfg.dim, CLIP_DIM);
    const out = layerNorm(g, x, 1e-5, w.param("proj.4.weight", [cfg.dim]), w.param("proj.4.bias", [cfg.dim])); // [n, D]
    ctx.tap("img_emb_out", out);
    return out;
  });
}

/** WanRMSNorm on [rows, D] with the learned weight `<name>.weight`. */
function qkNorm(ctx: Ctx, w: Scope, name: string, x: Value): Value {
  if (!ctx.cfg.qk_norm) return x;
  return rmsNorm(ctx.g, x, ctx.cfg.eps, w.param(`${name}.weight`, [ctx.cfg.dim]));
}

/** softmax(q kᵀ/√d) v over heads; q [Lq, D], k, v [Lk, D] → [Lq, D]. */
function attend(ctx: Ctx, q: Value, k: Value, v: Value): Value {
  const { g, cfg } = ctx;
  const as3 = (t: Value) => unsqueeze(g, t, 0); //                                          [1, L, D]
  return squeeze(g, attention(g, as3(q), as3(k), as3(v), cfg.num_heads), 0);
}

/** WanSelfAttention: x [L, D] → [L, D] (after the output projection `o`). */
function selfAttention(ctx: Ctx, w: Scope, x: Value, freqs: { cos: Value; sin: Value }): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  return w.build(() => {
    const L = dim(x, 0);
    const d = headDim(cfg);
    // q = norm_q(q(x)), k = norm_k(k(x)), v = v(x): RMSNorm over the full dim, then heads
    const q = qkNorm(ctx, w, "norm_q", ctx.linear(w.at("q"), x, D, D)); //                  [L, D]
    const k = qkNorm(ctx, w, "norm_k", ctx.linear(w.at("k"), x, D, D)); //                  [L, D]
    const v = ctx.linear(w.at("v"), x, D, D); //                                            [L, D]
    const heads = (t: Value) => reshape(g, t, [L, cfg.num_heads, d]); //                    [L, H, d]
    const qr = reshape(g, ropeApply(g, heads(q), freqs), [L, D]);
    const kr = reshape(g, ropeApply(g, heads(k), freqs), [L, D]);
    return ctx.linear(w.at("o"), attend(ctx, qr, kr, v), D, D); //                          [L, D]
  });
}

/** WanT2VCrossAttention / WanI2VCrossAttention: x [L, D], context [512, D], cImg [n, D] → [L, D]. */
function crossAttention(ctx: Ctx, w: Scope, x: Value, c: Value, cImg: Value | null): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  return w.build(() => {
    const q = qkNorm(ctx, w, "norm_q", ctx.linear(w.at("q"), x, D, D)); //                  [L, D]
    const k = qkNorm(ctx, w, "norm_k", ctx.linear(w.at("k"), c, D, D)); //                  [512, D]
    const v = ctx.linear(w.at("v"), c, D, D);
    let a = attend(ctx, q, k, v); //                                                        [L, D]
    if (cImg !== null) {
      // x = x + img_x, where img_x attends to the image tokens with k_img / v_img
      const kImg = qkNorm(ctx, w, "norm_k_img", ctx.linear(w.at("k_img"), cImg, D, D)); //  [n, D]
      const vImg = ctx.linear(w.at("v_img"), cImg, D, D);
      a = add(g, a, attend(ctx, q, kImg, vImg));
    }
    return ctx.linear(w.at("o"), a, D, D);
  });
}

/** LN(x)·(1 + scale) + shift, LayerNorm without affine (norm1, norm2, head.norm). */
function modulate(ctx: Ctx, x: Value, shift: Value, scale: Value): Value {
  const { g, cfg } = ctx;
  return add(g, mul(g, layerNorm(g, x, cfg.eps), add(g, scale, 1)), shift);
}

/**
 * WanAttentionBlock.
 * x [L, D], e0 [U', 6, D] (U' = 1 or L), c [512, D], cImg [n, D] | null → [L, D]
 */
function attentionBlock(
  ctx: Ctx,
  w: Scope,
  index: number,
  x: Value,
  e0: Value,
  c: Value,
  cImg: Value | null,
  freqs: { cos: Value; sin: Value },
): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  return w.build(() => {
    // e = (modulation + e).chunk(6, dim=1): shift1, scale1, gate1, shift2, scale2, gate2
    const m = add(g, w.param("modulation", [1, 6, D]), e0); //                              [U', 6, D]
    const [shift1, scale1, gate1, shift2, scale2, gate2] = chunk(g, m, 1, 6).map((t) => squeeze(g, t, 1)) as [
      Value,
      Value,
      Value,
      Value,
      Value,
      Value,
    ]; //                                                                                   6 × [U', D]
    const tap = (name: string, v: Value) => {
      ctx.tap(`block${index}_${name}`, v);
    };

    // 1. self-attention: x = x + self_attn(norm1(x)·(1 + e[1]) + e[0]) · e[2]
    const h = modulate(ctx, x, shift1, scale1);
    tap("self_attn_in", h);
    const ya = selfAttention(ctx, w.at("self_attn"), h, freqs);
    tap("self_attn_out", ya);
    let X = add(g, x, mul(g, ya, gate1));

    // 2. cross-attention: x = x + cross_attn(norm3(x), context)
    const hc = cfg.cross_attn_norm
      ? layerNorm(g, X, cfg.eps, w.param("norm3.weight", [D]), w.param("norm3.bias", [D]))
      : X;
    const yc = crossAttention(ctx, w.at("cross_attn"), hc, c, cImg);
    tap("cross_attn_out", yc);
    X = add(g, X, yc);

    // 3. ffn: x = x + ffn(norm2(x)·(1 + e[4]) + e[3]) · e[5]
    const h2 = modulate(ctx, X, shift2, scale2);
    tap("ffn_in", h2);
    const yf = w.at("ffn").build(() => ffn(ctx, w, h2));
    tap("ffn_out", yf);
    return add(g, X, mul(g, yf, gate2));
  });
}

/** ffn: Linear(D, ffn_dim) → GELU-tanh → Linear(ffn_dim, D) over x [L, D], in pieces of at most ctx.ffnRows tokens. */
function ffn(ctx: Ctx, w: Scope, x: Value): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  const piece = (xp: Value) =>
    ctx.linear(w.at("ffn", 2), gelu(g, ctx.linear(w.at("ffn", 0), xp, cfg.ffn_dim, D), "tanh"), D, cfg.ffn_dim);
  const L = dim(x, 0);
  const parts = ctx.ffnRows > 0 ? Math.ceil(L / ctx.ffnRows) : 1;
  if (parts <= 1) return piece(x);
  const sizes = Array.from(
    { length: parts },
    (_, i) => Math.floor(((i + 1) * L) / parts) - Math.floor((i * L) / parts),
  );
  return concat(g, split(g, x, 0, sizes).map(piece), 0); //                                  [L, D]
}

/** Head: LN(x)·(1 + scale) + shift → Linear(D, prod(patch)·out_dim), with (shift, scale) = head.modulation + e. */
function head(ctx: Ctx, w: Scope, x: Value, e: Value): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  const outF = cfg.patch_size[0] * cfg.patch_size[1] * cfg.patch_size[2] * cfg.out_dim;
  return w.build(() => {
    const m = add(g, w.param("modulation", [1, 2, D]), unsqueeze(g, e, 1)); //              [U', 2, D]
    const [shift, scale] = chunk(g, m, 1, 2).map((t) => squeeze(g, t, 1)) as [Value, Value];
    return ctx.linear(w.at("head"), modulate(ctx, x, shift, scale), outF, D); //            [L, outF]
  });
}
