/**
 * The T5 encoder of Wan (umT5-XXL) as an ONNX graph.
 * Mirrors Wan-Video/Wan2.1 wan/modules/t5.py @9737cba: T5LayerNorm, T5Attention,
 * T5FeedForward (with its GELU: the tanh form), T5SelfAttention, T5RelativeEmbedding,
 * T5Encoder; spec shared/docs/wan-architecture.md §4.3–4.4. Params carry the official
 * checkpoint keys (`blocks.{i}.attn.q.weight`, `blocks.{i}.pos_embedding.embedding.weight`, ...).
 * Activations are x [B, L, dim].
 *
 * Deviations, all exact in value:
 * - The bucket table `bucket(key − query)` is computed on the host (buckets.ts, the same
 *   float32 steps as the reference) and embedded as an int64 constant; the graph gathers the
 *   bias rows from `pos_embedding.embedding.weight` with it.
 * - The mask is a Where on the bias (float32 min where mask == 0), then added to q·kᵀ, which
 *   is the reference's masked_fill_ on attn_bias followed by `q·kᵀ + attn_bias`.
 * - Dropout (eval: identity) and fp16_clamp (a no-op outside float16) are left out.
 */
import { type Graph, type Scope, type Value, dim } from "../../engine/graph.ts";
import {
  add,
  equal,
  gather,
  gelu,
  linearRaw,
  matmul,
  mul,
  reshape,
  rmsNorm,
  softmax,
  transpose,
  unsqueeze,
  where,
} from "../../engine/ops/index.ts";
import { relativePositionBuckets } from "./buckets.ts";
import { type T5Config, T5_EPS, T5_MAX_DISTANCE, t5HeadDim } from "./config.ts";

/** torch.finfo(torch.float32).min: the masked score. */
export const F32_MIN = -3.4028234663852886e38;

export interface T5Shape {
  /** Prompts per call. */
  readonly batch: number;
  /** Tokens per prompt, padding included (512 for Wan). */
  readonly length: number;
}

export interface T5BuildOptions {
  /** Intermediates to expose as graph outputs, by fixture name (`block0_out`, `block0_pos_bias`, ...). */
  readonly taps?: ReadonlySet<string>;
}

interface Ctx {
  readonly g: Graph;
  readonly cfg: T5Config;
  readonly tap: (name: string, v: Value) => void;
}

/** nn.Linear(inF, outF, bias=False). */
function linear(w: Scope, x: Value, outF: number, inF: number): Value {
  return linearRaw(w.g, x, w.param("weight", [outF, inF]), null);
}

/** T5LayerNorm: x / sqrt(mean(x²) + 1e-6) · weight (an RMSNorm, no mean subtraction, no bias). */
function t5LayerNorm(ctx: Ctx, w: Scope, x: Value): Value {
  return w.build(() => rmsNorm(ctx.g, x, T5_EPS, w.param("weight", [ctx.cfg.dim])));
}

/**
 * T5RelativeEmbedding(lq = lk = L): embedding(bucket(k − q)) → [1, heads, L, L].
 * buckets: the host table [L, L] (int64).
 */
function t5RelativeEmbedding(ctx: Ctx, w: Scope, buckets: Value): Value {
  const { g, cfg } = ctx;
  return w.build(() => {
    const table = w.param("embedding.weight", [cfg.num_buckets, cfg.num_heads]); //          [num_buckets, heads]
    const e = gather(g, table, buckets, 0); //                                               [L, L, heads]
    return unsqueeze(g, transpose(g, e, [2, 0, 1]), 0); //                                    [1, heads, L, L]
  });
}

/**
 * T5Attention (self-attention, no 1/√d scaling):
 *   bias = masked_fill(pos_bias, mask == 0, float32.min); a = softmax(q·kᵀ + bias)·v; o(a).
 * x [B, L, dim], posBias [1, heads, L, L], masked [B, 1, 1, L] (bool) → [B, L, dim].
 */
function t5Attention(ctx: Ctx, w: Scope, x: Value, posBias: Value, masked: Value): Value {
  const { g, cfg } = ctx;
  const { dim: D, dim_attn: A, num_heads: H } = cfg;
  const d = t5HeadDim(cfg);
  return w.build(() => {
    const [B, L] = [dim(x, 0), dim(x, 1)];
    const heads = (t: Value) => reshape(g, t, [B, L, H, d]); //                              [B, L, H, d]
    const q = transpose(g, heads(linear(w.at("q"), x, A, D)), [0, 2, 1, 3]); //              [B, H, L, d]
    const kT = transpose(g, heads(linear(w.at("k"), x, A, D)), [0, 2, 3, 1]); //             [B, H, d, L]
    const v = transpose(g, heads(linear(w.at("v"), x, A, D)), [0, 2, 1, 3]); //              [B, H, L, d]
    const bias = where(g, masked, F32_MIN, posBias); //                                       [B, H, L, L]
    const s = add(g, matmul(g, q, kT), bias); //                                              [B, H, L, L]
    const a = matmul(g, softmax(g, s, -1), v); //                                             [B, H, L, d]
    const merged = reshape(g, transpose(g, a, [0, 2, 1, 3]), [B, L, A]); //                   [B, L, dim_attn]
    return linear(w.at("o"), merged, D, A); //                                                [B, L, dim]
  });
}

/** T5FeedForward: fc2(fc1(x) · gelu_tanh(gate.0(x))). x [B, L, dim] → [B, L, dim]. */
function t5FeedForward(ctx: Ctx, w: Scope, x: Value): Value {
  const { g, cfg } = ctx;
  return w.build(() => {
    const gate = gelu(g, linear(w.at("gate", 0), x, cfg.dim_ffn, cfg.dim), "tanh"); //       [B, L, dim_ffn]
    const h = mul(g, linear(w.at("fc1"), x, cfg.dim_ffn, cfg.dim), gate); //                 [B, L, dim_ffn]
    return linear(w.at("fc2"), h, cfg.dim, cfg.dim_ffn); //                                  [B, L, dim]
  });
}

/**
 * T5SelfAttention (one encoder block):
 *   e = shared_pos ? pos_bias : pos_embedding(L, L)
 *   x = x + attn(norm1(x), mask, e);  x = x + ffn(norm2(x))
 */
function t5SelfAttention(
  ctx: Ctx,
  w: Scope,
  index: number,
  x: Value,
  masked: Value,
  buckets: Value,
  sharedBias: Value | null,
): Value {
  const { g } = ctx;
  return w.build(() => {
    const e = sharedBias ?? t5RelativeEmbedding(ctx, w.at("pos_embedding"), buckets); //     [1, heads, L, L]
    ctx.tap(`block${index}_pos_bias`, e);
    const X = add(g, x, t5Attention(ctx, w.at("attn"), t5LayerNorm(ctx, w.at("norm1"), x), e, masked));
    return add(g, X, t5FeedForward(ctx, w.at("ffn"), t5LayerNorm(ctx, w.at("norm2"), X))); // [B, L, dim]
  });
}

/**
 * T5Encoder.forward(ids, mask): graph inputs `ids` and `mask` (int64 [B, L]; mask 0 = padding),
 * output `out` [B, L, dim] at every position (pad rows included, as the reference computes).
 */
export function buildT5Encoder(g: Graph, w: Scope, cfg: T5Config, s: T5Shape, o: T5BuildOptions = {}): Value {
  const taps = o.taps ?? new Set<string>();
  const ctx: Ctx = {
    g,
    cfg,
    tap: (name, v) => {
      if (taps.has(name)) g.output(v, name);
    },
  };
  const { batch: B, length: L } = s;
  if (!Number.isInteger(B) || !Number.isInteger(L) || B < 1 || L < 1)
    g.fail("T5Encoder", `batch ${B} and length ${L} must be positive integers`);

  // Inputs.
  const ids = g.input("ids", "int64", [B, L]); //                                             [B, L]
  const mask = g.input("mask", "int64", [B, L]); //                                           [B, L]
  const bucketTable = relativePositionBuckets(L, L, cfg.num_buckets, T5_MAX_DISTANCE);
  const buckets = g.constant("int64", [L, L], bucketTable, "rel_buckets"); //                 [L, L]

  // 1. x = token_embedding(ids) (no scaling)
  const te = w.at("token_embedding");
  let x = te.build(() => gather(g, te.param("weight", [cfg.vocab, cfg.dim]), ids, 0)); //     [B, L, dim]
  ctx.tap("token_embedding_out", x);

  // 2. keys to mask: mask.view(b, 1, 1, -1) == 0
  const masked = reshape(g, equal(g, mask, 0), [B, 1, 1, L]); //                              [B, 1, 1, L] bool

  // 3. e = pos_embedding(L, L) when shared (T5), else per block (umT5)
  const shared = cfg.shared_pos ? t5RelativeEmbedding(ctx, w.at("pos_embedding"), buckets) : null;

  // 4. blocks
  for (let i = 0; i < cfg.num_layers; i++) {
    x = t5SelfAttention(ctx, w.at("blocks", i), i, x, masked, buckets, shared);
    ctx.tap(`block${i}_out`, x);
  }

  // 5. x = norm(x)
  return g.output(t5LayerNorm(ctx, w.at("norm"), x), "out"); //                               [B, L, dim]
}
