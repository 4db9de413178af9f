/**
 * The CLIP vision tower Wan 2.1 i2v / flf2v use (open-clip xlm-roberta-large-vit-huge-14,
 * ViT-H/14), as an ONNX graph on pixel values [N, 3, S, S] → clip_fea [N, 1 + g², dim].
 * Mirrors Wan-Video/Wan2.1 wan/modules/clip.py @9737cba: `VisionTransformer.forward(x,
 * use_31_block=True)` with `AttentionBlock`, `SelfAttention` and `LayerNorm`; checkpoint
 * keys are the official ones with the `visual.` prefix. Spec: shared/docs/wan-architecture.md
 * §5 / §5.1. Batch N = number of images (1 for i2v, 2 for flf2v: first and last frame).
 *
 * Deviations, none changing the value:
 * - Only the first `blocks` blocks are built (default num_layers − 1, as Wan's
 *   `use_31_block=True`); the last block, `post_norm` and `head` exist in the checkpoint but
 *   are not part of the graph (`clipVisionParams` lists them as expected-but-unused).
 * - Attention runs through com.microsoft.MultiHeadAttention (full, unmasked, scale 1/√d)
 *   instead of flash_attention; dropout (0 at inference) is omitted.
 * - `pos_interpolate` is not implemented: the input is always image_size (Wan never
 *   interpolates).
 */
import { Graph, Scope, type Value } from "../../engine/graph.ts";
import {
  add,
  attention,
  concat,
  conv,
  expand,
  gelu,
  layerNorm,
  linearRaw,
  mul,
  reshape,
  sigmoid,
  split,
  transpose,
} from "../../engine/ops/index.ts";
import type { DeclaredParam } from "../../engine/weights.ts";
import { type ClipVisionConfig, gridSize, headDim, mlpDim, tokenCount, wanBlocks } from "./config.ts";

/** The checkpoint prefix of the vision tower in the official CLIP checkpoint. */
export const VISUAL_PREFIX = "visual";

export interface ClipBuildOptions {
  /** Blocks to run, 0 … num_layers. Default num_layers − 1 (Wan's `use_31_block=True`). */
  readonly blocks?: number;
  /**
   * Intermediates to expose as graph outputs, by fixture name without the case prefix:
   * patch_embedding_out, embed_out, pre_norm_out, block{i}_{attn_in,attn_out,mlp_in,mlp_out,out}.
   */
  readonly taps?: ReadonlySet<string>;
}

/** Every intermediate name the graph can expose for a config and block count. */
export function clipTapNames(cfg: ClipVisionConfig, blocks = wanBlocks(cfg)): string[] {
  const names = ["patch_embedding_out", "embed_out"];
  if (cfg.pre_norm) names.push("pre_norm_out");
  for (let i = 0; i < blocks; i++)
    for (const t of ["attn_in", "attn_out", "mlp_in", "mlp_out", "out"]) names.push(`block${i}_${t}`);
  return names;
}

interface Ctx {
  readonly g: Graph;
  readonly cfg: ClipVisionConfig;
  readonly tap: (name: string, v: Value) => void;
}

/** nn.Linear(in, out) with bias: weight [out, in]. */
function linear(w: Scope, x: Value, outF: number, inF: number): Value {
  return linearRaw(w.g, x, w.param("weight", [outF, inF]), w.param("bias", [outF]));
}

/** clip.py LayerNorm (float32 nn.LayerNorm), eps = norm_eps, with weight and bias. */
function norm(ctx: Ctx, w: Scope, x: Value): Value {
  const D = ctx.cfg.dim;
  return layerNorm(ctx.g, x, ctx.cfg.norm_eps, w.param("weight", [D]), w.param("bias", [D]));
}

/**
 * VisionTransformer.forward(x, use_31_block=True). Declares the input `pixel_values`
 * [batch, 3, S, S] and the output `clip_fea` [batch, tokens, dim] (class token first).
 * `w` is the scope of the tower (`visual`).
 */
export function buildClipVision(
  g: Graph,
  w: Scope,
  cfg: ClipVisionConfig,
  batch: number,
  o: ClipBuildOptions = {},
): Value {
  const blocks = o.blocks ?? wanBlocks(cfg);
  if (!Number.isInteger(blocks) || blocks < 0 || blocks > cfg.num_layers)
    g.fail("VisionTransformer", `blocks ${blocks} must be an integer in 0 … num_layers ${cfg.num_layers}`);
  const taps = o.taps ?? new Set<string>();
  const ctx: Ctx = {
    g,
    cfg,
    tap: (name, v) => {
      if (taps.has(name)) g.output(v, name);
    },
  };
  const { dim: D, patch_size: p, image_size: S } = cfg;
  const grid = gridSize(cfg);
  const T = tokenCount(cfg);
  const x = g.input("pixel_values", "float32", [batch, 3, S, S]); //                         [N, 3, S, S]

  // 1. patch embedding: Conv2d(3, dim, p, stride p), bias only without pre_norm
  const wp = w.at("patch_embedding");
  const pe = wp.build(() =>
    conv(g, x, wp.param("weight", [D, 3, p, p]), cfg.pre_norm ? null : wp.param("bias", [D]), { strides: [p, p] }),
  ); //                                                                                     [N, D, g, g]
  ctx.tap("patch_embedding_out", pe);
  const patches = transpose(g, reshape(g, pe, [batch, D, grid * grid]), [0, 2, 1]); //       [N, g², D]

  // 2. x = cat([cls_embedding, patches], dim=1) + pos_embedding
  let X = w.build(() => {
    const cls = expand(g, w.param("cls_embedding", [1, 1, D]), [batch, 1, D]); //            [N, 1, D]
    const tokens = concat(g, [cls, patches], 1); //                                         [N, T, D]
    return add(g, tokens, w.param("pos_embedding", [1, T, D])); //                          [N, T, D]
  });
  ctx.tap("embed_out", X);

  // 3. pre_norm
  if (cfg.pre_norm) {
    const wn = w.at("pre_norm");
    X = wn.build(() => norm(ctx, wn, X)); //                                                [N, T, D]
    ctx.tap("pre_norm_out", X);
  }

  // 4. transformer[:blocks] (Wan: all but the last block); no post_norm, no head
  for (let i = 0; i < blocks; i++) {
    X = attentionBlock(ctx, w.at("transformer", i), i, X);
    ctx.tap(`block${i}_out`, X);
  }
  return g.output(X, "clip_fea"); //                                                        [N, T, D]
}

/** SelfAttention: fused to_qkv laid out [q | k | v], heads contiguous in each. x [N, T, D] → [N, T, D]. */
function selfAttention(ctx: Ctx, w: Scope, x: Value): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  return w.build(() => {
    const qkv = linear(w.at("to_qkv"), x, 3 * D, D); //                                     [N, T, 3D]
    const [q, k, v] = split(g, qkv, -1, [D, D, D]) as [Value, Value, Value]; //             3 × [N, T, D]
    const a = attention(g, q, k, v, cfg.num_heads, 1 / Math.sqrt(headDim(cfg))); //         [N, T, D]
    return linear(w.at("proj"), a, D, D); //                                                [N, T, D]
  });
}

/** mlp = Sequential(Linear(D, D·r), GELU | QuickGELU, Linear(D·r, D)). x [N, T, D] → [N, T, D]. */
function mlp(ctx: Ctx, w: Scope, x: Value): Value {
  const { g, cfg } = ctx;
  const D = cfg.dim;
  const F = mlpDim(cfg);
  return w.build(() => {
    const h = linear(w.at(0), x, F, D); //                                                  [N, T, F]
    const a = cfg.activation === "gelu" ? gelu(g, h, "none") : mul(g, h, sigmoid(g, mul(g, h, 1.702)));
    return linear(w.at(2), a, D, F); //                                                     [N, T, D]
  });
}

/**
 * AttentionBlock. Pre-norm (Wan's ViT-H/14): x + attn(norm1(x)), then x + mlp(norm2(x)).
 * With the block-level post_norm flag: x + norm1(attn(x)), then x + norm2(mlp(x)).
 */
function attentionBlock(ctx: Ctx, w: Scope, index: number, x: Value): Value {
  const { g, cfg } = ctx;
  const tap = (name: string, v: Value) => {
    ctx.tap(`block${index}_${name}`, v);
  };
  return w.build(() => {
    // 1. attention
    const attnIn = cfg.post_norm ? x : norm(ctx, w.at("norm1"), x); //                      [N, T, D]
    tap("attn_in", attnIn);
    const ya = selfAttention(ctx, w.at("attn"), attnIn);
    tap("attn_out", ya);
    const X = add(g, x, cfg.post_norm ? norm(ctx, w.at("norm1"), ya) : ya); //              [N, T, D]

    // 2. mlp
    const mlpIn = cfg.post_norm ? X : norm(ctx, w.at("norm2"), X);
    tap("mlp_in", mlpIn);
    const ym = mlp(ctx, w.at("mlp"), mlpIn);
    tap("mlp_out", ym);
    return add(g, X, cfg.post_norm ? norm(ctx, w.at("norm2"), ym) : ym); //                 [N, T, D]
  });
}

/**
 * The checkpoint tensors of the vision tower (key → shape), split into those the graph with
 * `blocks` blocks reads and those the official checkpoint holds but Wan never uses (blocks
 * `blocks` … num_layers − 1, `post_norm`, `head`). Built from a batch-1 graph.
 */
export function clipVisionParams(
  cfg: ClipVisionConfig,
  blocks = wanBlocks(cfg),
): { used: Map<string, DeclaredParam>; unused: Map<string, DeclaredParam> } {
  const declared = (n: number) => {
    const g = new Graph("clip_params");
    buildClipVision(g, new Scope(g, VISUAL_PREFIX), cfg, 1, { blocks: n });
    const out = new Map<string, DeclaredParam>();
    for (const p of g.params.values()) out.set(p.key, { shape: p.value.shape, dtype: p.value.dtype });
    return out;
  };
  const used = declared(blocks);
  const unused = new Map<string, DeclaredParam>();
  for (const [k, v] of declared(cfg.num_layers)) if (!used.has(k)) unused.set(k, v);
  const D = cfg.dim;
  const f32 = (shape: number[]): DeclaredParam => ({ shape, dtype: "float32" });
  unused.set(`${VISUAL_PREFIX}.post_norm.weight`, f32([D]));
  unused.set(`${VISUAL_PREFIX}.post_norm.bias`, f32([D]));
  if (cfg.pool_type === "token") unused.set(`${VISUAL_PREFIX}.head`, f32([D, cfg.out_dim]));
  else {
    unused.set(`${VISUAL_PREFIX}.head.weight`, f32([cfg.out_dim, D]));
    unused.set(`${VISUAL_PREFIX}.head.bias`, f32([cfg.out_dim]));
  }
  return { used, unused };
}
