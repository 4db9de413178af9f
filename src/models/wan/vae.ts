/**
 * The Wan 2.1 video VAE (`WanVAE_`) as ONNX graphs, one per chunk shape, with the causal
 * temporal cache as explicit graph inputs and outputs (vae-cache.ts).
 * Mirrors Wan-Video/Wan2.1 wan/modules/vae.py @9737cba (CausalConv3d, RMS_norm, Resample,
 * ResidualBlock, AttentionBlock, Encoder3d, Decoder3d, WanVAE_.encode/decode, WanVAE);
 * spec: shared/docs/wan-architecture.md §6. The pieces are shared with Wan 2.2 (vae22.ts).
 * Activations are [1, C, T, H, W]; graph inputs and outputs drop the batch axis.
 *
 * Deviations, all exact in value:
 * - The caches start as zero frames instead of the reference's `None` / "Rep" markers: the
 *   reference zero-pads exactly where it has no cache (vae-cache.ts).
 * - A `first` chunk of more than one frame applies the first-frame rules of §6.5 to the whole
 *   sequence (downsample3d: frame 0 passes, then a valid stride-2 conv over all frames;
 *   upsample3d: frame 0 passes, the time conv runs over frames 1…), which equals the
 *   reference's chunked result; the runner uses it for whole-video runs.
 * - The per-frame Conv2d of Resample runs as a Conv3d with a 1×3×3 kernel (the checkpoint
 *   weight reshaped), and its ZeroPad2d(0, 1, 0, 1) as the conv's asymmetric padding.
 * - `conv1` (after the encoder) and `conv2` (before the decoder) are 1×1×1 convs applied per
 *   chunk, and the latent (de)normalisation happens inside the graphs, with 1/std computed
 *   in float32 as the wrapper does.
 */
import { type Graph, Scope, type Value, dim } from "../../engine/graph.ts";
import {
  add,
  attention,
  clamp,
  concat,
  conv,
  div,
  expand,
  linearRaw,
  mul,
  reduceL2,
  reshape,
  silu,
  slice,
  split,
  squeeze,
  sub,
  transpose,
  unsqueeze,
} from "../../engine/ops/index.ts";
import {
  CACHE_T,
  CacheBook,
  type CacheSlot,
  type CacheSlotKind,
  type ChunkKind,
  lastFrames,
  zeros,
} from "./vae-cache.ts";
import { type LatentStats, type WanVaeConfig, type WanVaeVersion, decoderDim } from "./vae-config.ts";

export interface VaeCtx {
  readonly g: Graph;
  readonly cache: CacheBook;
}

type Triple = readonly [number, number, number];
const K3: Triple = [3, 3, 3];
const P1: Triple = [1, 1, 1];
const K1: Triple = [1, 1, 1];
const P0: Triple = [0, 0, 0];

/** The [C, T, H, W] of an activation [1, C, T, H, W], checked. */
export function dims5(g: Graph, x: Value, what: string): [number, number, number, number] {
  if (x.shape.length !== 5 || x.shape[0] !== 1) g.fail(what, `expects [1, C, T, H, W], got [${x.shape}]`);
  return x.shape.slice(1) as [number, number, number, number];
}

/**
 * CausalConv3d(in, out, kernel, padding): pads 2·p_t zero frames at the front of time only
 * and p_h, p_w on both sides of H and W, then a plain Conv3d. With `cache`, the layer owns a
 * slot: a rest chunk prepends the previous chunk's last 2 frames instead of the zero frames.
 */
export function causalConv3d(
  ctx: VaeCtx,
  w: Scope,
  x: Value,
  outC: number,
  kernel: Triple,
  padding: Triple,
  cache: CacheSlotKind | null = null,
): Value {
  const g = ctx.g;
  return w.build(() => {
    const [inC, , H, W] = dims5(g, x, "CausalConv3d");
    const weight = w.param("weight", [outC, inC, ...kernel]); //                         [out, in, kt, kh, kw]
    const bias = w.param("bias", [outC]);
    const [pt, ph, pw] = padding;
    let front = 2 * pt;
    let xin = x;
    if (cache !== null && front > 0) {
      if (front !== CACHE_T) g.fail("CausalConv3d", `a cached conv needs temporal padding 1, got ${pt}`);
      const slot = ctx.cache.open(w.prefix, cache, inC, H, W);
      if (slot.prev !== null) {
        xin = concat(g, [slot.prev, x], 2); //                                              [1, in, 2 + T, H, W]
        front = 0;
      }
      slot.store(lastFrames(g, xin, CACHE_T)); //                                           [1, in, 2, H, W]
    }
    return conv(g, xin, weight, bias, { pads: [front, ph, pw, 0, ph, pw] }); //             [1, out, T, H', W']
  });
}

/**
 * The Conv2d of a Resample, applied to every frame: a Conv3d with the 2-D weight viewed as
 * [out, in, 1, kh, kw]. `pads` is [top, left, bottom, right].
 */
function frameConv2d(
  g: Graph,
  w: Scope,
  x: Value,
  outC: number,
  stride: number,
  pads: readonly [number, number, number, number],
): Value {
  return w.build(() => {
    const inC = dim(x, 1);
    const w2 = w.param("weight", [outC, inC, 3, 3]); //                                     [out, in, 3, 3]
    const weight = reshape(g, w2, [outC, inC, 1, 3, 3]);
    const [top, left, bottom, right] = pads;
    return conv(g, x, weight, w.param("bias", [outC]), {
      strides: [1, stride, stride],
      pads: [0, top, left, 0, bottom, right],
    });
  });
}

/**
 * RMS_norm (VAE): F.normalize over channels · sqrt(C) · gamma, i.e.
 * x / max(‖x‖₂ over C, 1e-12) · sqrt(C) · gamma, per (t, h, w). gamma is [C, 1, 1, 1], or
 * [C, 1, 1] with `images` (the attention block); the bias is 0.
 */
export function rmsNormVae(g: Graph, w: Scope, x: Value, images: boolean): Value {
  return w.build(() => {
    const C = dim(x, 1);
    const gamma = w.param("gamma", images ? [C, 1, 1] : [C, 1, 1, 1]);
    const g4 = images ? reshape(g, gamma, [C, 1, 1, 1]) : gamma; //                        [C, 1, 1, 1]
    const norm = clamp(g, reduceL2(g, x, [1]), 1e-12, null); //                            [1, 1, T, H, W]
    return mul(g, div(g, x, norm), mul(g, g4, Math.sqrt(C)));
  });
}

/**
 * ResidualBlock(in, out): residual = [RMS, SiLU, CausalConv3d, RMS, SiLU, Dropout,
 * CausalConv3d] (indices 0..6), shortcut a 1×1×1 conv when in ≠ out.
 */
export function residualBlock(ctx: VaeCtx, w: Scope, x: Value, outC: number): Value {
  const g = ctx.g;
  return w.build(() => {
    const inC = dim(x, 1);
    const h = inC !== outC ? causalConv3d(ctx, w.at("shortcut"), x, outC, K1, P0) : x;
    let r = silu(g, rmsNormVae(g, w.at("residual", 0), x, false));
    r = causalConv3d(ctx, w.at("residual", 2), r, outC, K3, P1, "causal_conv"); //         [1, out, T, H, W]
    r = silu(g, rmsNormVae(g, w.at("residual", 3), r, false));
    r = causalConv3d(ctx, w.at("residual", 6), r, outC, K3, P1, "causal_conv");
    return add(g, r, h);
  });
}

/**
 * AttentionBlock(C): per frame, one head over the H·W positions, scale 1/sqrt(C).
 * qkv = Conv2d 1×1 (C → 3C) of RMS(x) (channels [q | k | v]); out = x + proj(attn).
 */
export function attentionBlock(g: Graph, w: Scope, x: Value): Value {
  return w.build(() => {
    const [C, T, H, W] = dims5(g, x, "AttentionBlock");
    const n = rmsNormVae(g, w.at("norm"), x, true);
    const seq = transpose(g, reshape(g, n, [C, T, H * W]), [1, 2, 0]); //                   [T, HW, C]
    const wq = reshape(g, w.param("to_qkv.weight", [3 * C, C, 1, 1]), [3 * C, C]);
    const qkv = linearRaw(g, seq, wq, w.param("to_qkv.bias", [3 * C])); //                   [T, HW, 3C]
    const [q, k, v] = split(g, qkv, 2, [C, C, C]) as [Value, Value, Value];
    const a = attention(g, q, k, v, 1, 1 / Math.sqrt(C)); //                                 [T, HW, C]
    const wp = reshape(g, w.param("proj.weight", [C, C, 1, 1]), [C, C]);
    const o = linearRaw(g, a, wp, w.param("proj.bias", [C])); //                             [T, HW, C]
    const back = reshape(g, transpose(g, o, [2, 0, 1]), [1, C, T, H, W]);
    return add(g, x, back);
  });
}

/** Nearest ×2 upsampling of H and W (`nearest-exact`, which equals nearest for ×2). */
function nearest2x(g: Graph, x: Value): Value {
  const [C, T, H, W] = dims5(g, x, "Upsample");
  const e = expand(g, reshape(g, x, [C, T, H, 1, W, 1]), [C, T, H, 2, W, 2]); //           [C, T, H, 2, W, 2]
  return reshape(g, e, [1, C, T, 2 * H, 2 * W]);
}

/**
 * The temporal step of upsample3d (before the spatial part). Frame 0 of a video passes
 * through; the other frames go through time_conv (CausalConv3d C → 2C, kernel (3,1,1)) with
 * zeros, not frame 0, as their left context, and its output halves a = [0, C), b = [C, 2C)
 * interleave in time: [x_0, a_1, b_1, a_2, b_2, …].
 */
function upsampleTime(ctx: VaeCtx, w: Scope, x: Value): Value {
  const g = ctx.g;
  const [C, T, H, W] = dims5(g, x, "Resample(upsample3d)");
  const tw = w.at("time_conv");
  const first = ctx.cache.first;
  const head = first ? slice(g, x, 2, 0, 1) : null; //                                      [1, C, 1, H, W]
  if (first && T === 1) {
    // The reference marks the slot "Rep": the next chunk's time_conv sees zero frames.
    ctx.cache.open(tw.prefix, "time_up", C, H, W).store(zeros(g, [1, C, CACHE_T, H, W]));
    return x;
  }
  const seq = first ? slice(g, x, 2, 1, T) : x; //                                         [1, C, m, H, W]
  const y = causalConv3d(ctx, tw, seq, 2 * C, [3, 1, 1], [1, 0, 0], "time_up"); //        [1, 2C, m, H, W]
  const m = dim(y, 2);
  const ab = transpose(g, reshape(g, y, [2, C, m, H, W]), [1, 2, 0, 3, 4]); //              [C, m, 2, H, W]
  const inter = reshape(g, ab, [1, C, 2 * m, H, W]);
  return head === null ? inter : concat(g, [head, inter], 2);
}

/**
 * The temporal step of downsample3d (after the spatial part): time_conv (kernel (3,1,1),
 * stride 2, no padding). A video's frame 0 passes through without it; a rest chunk's first
 * window starts at the previous chunk's last frame. Whole sequence: [y_0] ⧺ conv(y_0…y_{n−1}).
 */
function downsampleTime(ctx: VaeCtx, w: Scope, y: Value): Value {
  const g = ctx.g;
  const [C, T, H, W] = dims5(g, y, "Resample(downsample3d)");
  const tw = w.at("time_conv");
  const slot = ctx.cache.open(tw.prefix, "time_down", C, H, W);
  slot.store(slice(g, y, 2, T - 1, T)); //                                                   [1, C, 1, H, W]
  const timeConv = (v: Value) =>
    tw.build(() => conv(g, v, tw.param("weight", [C, C, 3, 1, 1]), tw.param("bias", [C]), { strides: [2, 1, 1] }));
  if (slot.prev === null) {
    if (T % 2 === 0) g.fail("Resample(downsample3d)", `a first chunk needs an odd frame count (1 + 2k), got ${T}`);
    return T === 1 ? y : concat(g, [slice(g, y, 2, 0, 1), timeConv(y)], 2); //               [1, C, 1 + (T−1)/2, H, W]
  }
  if (T % 2 !== 0) g.fail("Resample(downsample3d)", `a rest chunk needs an even frame count, got ${T}`);
  return timeConv(concat(g, [slot.prev, y], 2)); //                                          [1, C, T/2, H, W]
}

export type ResampleMode = "upsample2d" | "upsample3d" | "downsample2d" | "downsample3d";

/**
 * Resample(C, mode). `upC` is the channel count after an upsample's Conv2d (C/2 in 2.1,
 * C in 2.2). downsample: ZeroPad2d(0, 1, 0, 1) then Conv2d(C, C, 3, stride 2) (`resample.1`);
 * upsample: nearest ×2 then Conv2d(C, upC, 3, padding 1).
 */
export function resample(ctx: VaeCtx, w: Scope, x: Value, mode: ResampleMode, upC: number): Value {
  const g = ctx.g;
  return w.build(() => {
    const C = dim(x, 1);
    if (mode === "downsample2d" || mode === "downsample3d") {
      const y = frameConv2d(g, w.at("resample", 1), x, C, 2, [0, 0, 1, 1]); //             [1, C, T, H/2, W/2]
      return mode === "downsample3d" ? downsampleTime(ctx, w, y) : y;
    }
    const t = mode === "upsample3d" ? upsampleTime(ctx, w, x) : x; //                       [1, C, T', H, W]
    return frameConv2d(g, w.at("resample", 1), nearest2x(g, t), upC, 1, [1, 1, 1, 1]); //  [1, upC, T', 2H, 2W]
  });
}

/** middle: ResidualBlock, AttentionBlock, ResidualBlock at one width. */
export function middle(ctx: VaeCtx, w: Scope, x: Value): Value {
  const C = dim(x, 1);
  let h = residualBlock(ctx, w.at(0), x, C);
  h = attentionBlock(ctx.g, w.at(1), h);
  return residualBlock(ctx, w.at(2), h, C);
}

/** head: RMS_norm, SiLU, CausalConv3d(C → out, 3, padding 1). */
export function head(ctx: VaeCtx, w: Scope, x: Value, outC: number): Value {
  const h = silu(ctx.g, rmsNormVae(ctx.g, w.at(0), x, false));
  return causalConv3d(ctx, w.at(2), h, outC, K3, P1, "causal_conv");
}

/** The first conv of Encoder3d / Decoder3d: CausalConv3d(in → out, 3, padding 1). */
export function conv1(ctx: VaeCtx, w: Scope, x: Value, outC: number): Value {
  return causalConv3d(ctx, w.at("conv1"), x, outC, K3, P1, "causal_conv");
}

/**
 * Encoder3d (2.1): conv1, then a flat `downsamples` Sequential of num_res_blocks
 * ResidualBlocks per stage and a Resample between stages (downsample3d where
 * temperal_downsample says so), then middle and head. [1, 3, n, H, W] → [1, 2·z_dim, n', h, w].
 */
export function encoder3d(ctx: VaeCtx, w: Scope, c: WanVaeConfig, x: Value): Value {
  const dims = [1, ...c.dim_mult].map((u) => c.dim * u);
  let h = conv1(ctx, w, x, dims[0]!);
  let k = 0;
  for (let i = 0; i + 1 < dims.length; i++) {
    for (let r = 0; r < c.num_res_blocks; r++) h = residualBlock(ctx, w.at("downsamples", k++), h, dims[i + 1]!);
    if (i !== c.dim_mult.length - 1) {
      const mode = c.temperal_downsample[i] ? "downsample3d" : "downsample2d";
      h = resample(ctx, w.at("downsamples", k++), h, mode, dims[i + 1]!);
    }
  }
  h = middle(ctx, w.at("middle"), h);
  return head(ctx, w.at("head"), h, 2 * c.z_dim);
}

/**
 * Decoder3d (2.1): conv1, middle, a flat `upsamples` Sequential of num_res_blocks + 1
 * ResidualBlocks per stage (stages 1–3 take half the previous width, as the upsample convs
 * halve it) and a Resample between stages (upsample3d where the reversed
 * temperal_downsample says so), then head → 3 channels. [1, z_dim, n, h, w] → [1, 3, n', H, W].
 */
export function decoder3d(ctx: VaeCtx, w: Scope, c: WanVaeConfig, z: Value): Value {
  const D = decoderDim(c);
  const mult = c.dim_mult;
  const dims = [mult[mult.length - 1]!, ...[...mult].reverse()].map((u) => D * u);
  const tUp = [...c.temperal_downsample].reverse();
  let h = conv1(ctx, w, z, dims[0]!);
  h = middle(ctx, w.at("middle"), h);
  let k = 0;
  for (let i = 0; i + 1 < dims.length; i++) {
    const out = dims[i + 1]!;
    for (let r = 0; r < c.num_res_blocks + 1; r++) h = residualBlock(ctx, w.at("upsamples", k++), h, out);
    if (i !== mult.length - 1) {
      const mode = tUp[i] ? "upsample3d" : "upsample2d";
      h = resample(ctx, w.at("upsamples", k++), h, mode, out / 2);
    }
  }
  return head(ctx, w.at("head"), h, 3);
}

/** One VAE generation: its Encoder3d and Decoder3d on one chunk. */
export interface VaeArch {
  readonly version: WanVaeVersion;
  /** [1, 3, n, H, W] pixels → [1, 2·z_dim, n', h, w] (2.2: patchify included). */
  encoder(ctx: VaeCtx, w: Scope, c: WanVaeConfig, x: Value): Value;
  /** [1, z_dim, n, h, w] → [1, 3, n', H, W] (2.2: unpatchify included). */
  decoder(ctx: VaeCtx, w: Scope, c: WanVaeConfig, z: Value): Value;
}

export const WAN21_VAE: VaeArch = { version: "2.1", encoder: encoder3d, decoder: decoder3d };

export interface VaeChunkShape {
  readonly kind: ChunkKind;
  /** Frames in this chunk: video frames (encode) or latent frames (decode). */
  readonly frames: number;
  /** Pixel size (encode) or latent size (decode). */
  readonly height: number;
  readonly width: number;
}

export interface VaeBuildOptions {
  readonly stats: LatentStats;
  /** Intermediates to expose as outputs: encoder_out, conv1_out (encode); conv2_out, decoded_raw (decode). */
  readonly taps?: ReadonlySet<string>;
  /** Declare the cache outputs (default true). A graph that processes a whole video needs none. */
  readonly emitCache?: boolean;
}

/** Channel constants [C, 1, 1, 1]: mean, and 1/std in float32 as the wrapper computes it. */
function statConstants(g: Graph, stats: LatentStats, z: number): { mean: Value; inv: Value } {
  if (stats.mean.length !== z || stats.std.length !== z)
    g.fail("WanVAE", `latent mean/std have ${stats.mean.length}/${stats.std.length} channels, z_dim is ${z}`);
  const inv = Float32Array.from(stats.std, (s) => 1 / s);
  return {
    mean: g.constant("float32", [z, 1, 1, 1], Float32Array.from(stats.mean), "latents_mean"),
    inv: g.constant("float32", [z, 1, 1, 1], inv, "latents_inv_std"),
  };
}

function tapper(g: Graph, taps: ReadonlySet<string> | undefined) {
  return (name: string, v: Value) => {
    if (taps?.has(name)) g.output(squeeze(g, v, 0), name);
  };
}

/**
 * WanVAE.encode on one chunk: video [3, n, H, W] in [−1, 1] → `latent` [z_dim, n', h, w] =
 * (mu − mean) · (1/std), mu the first z_dim channels of conv1(Encoder3d(video)).
 * Returns the chunk's cache slots.
 */
export function buildVaeEncode(
  g: Graph,
  arch: VaeArch,
  c: WanVaeConfig,
  s: VaeChunkShape,
  o: VaeBuildOptions,
): CacheSlot[] {
  const cache = new CacheBook(g, s.kind, o.emitCache ?? true);
  const ctx: VaeCtx = { g, cache };
  const w = new Scope(g);
  const tap = tapper(g, o.taps);
  const { mean, inv } = statConstants(g, o.stats, c.z_dim);
  const video = g.input("video", "float32", [3, s.frames, s.height, s.width]); //           [3, n, H, W]
  // 1. Encoder3d (one chunk, cache threaded through)
  const h = arch.encoder(ctx, w.at("encoder"), c, unsqueeze(g, video, 0)); //              [1, 2z, n', h, w]
  tap("encoder_out", h);
  // 2. conv1 (1×1×1), mu = channels [0, z); the log-variance half is discarded
  const c1 = causalConv3d(ctx, w.at("conv1"), h, 2 * c.z_dim, K1, P0);
  tap("conv1_out", c1);
  const mu = slice(g, c1, 1, 0, c.z_dim); //                                                [1, z, n', h, w]
  // 3. normalise: (mu − mean) · (1/std)
  g.output(squeeze(g, mul(g, sub(g, mu, mean), inv), 0), "latent");
  return cache.slots;
}

/**
 * WanVAE.decode on one chunk: `latent` [z_dim, n, h, w] → `video` [3, n', H, W] clamped to
 * [−1, 1] (decoded_raw is the unclamped WanVAE_.decode output). Returns the cache slots.
 */
export function buildVaeDecode(
  g: Graph,
  arch: VaeArch,
  c: WanVaeConfig,
  s: VaeChunkShape,
  o: VaeBuildOptions,
): CacheSlot[] {
  const cache = new CacheBook(g, s.kind, o.emitCache ?? true);
  const ctx: VaeCtx = { g, cache };
  const w = new Scope(g);
  const tap = tapper(g, o.taps);
  const { mean, inv } = statConstants(g, o.stats, c.z_dim);
  const latent = g.input("latent", "float32", [c.z_dim, s.frames, s.height, s.width]); //   [z, n, h, w]
  // 1. denormalise: z / (1/std) + mean, then conv2 (1×1×1)
  const zr = add(g, div(g, unsqueeze(g, latent, 0), inv), mean); //                          [1, z, n, h, w]
  const x = causalConv3d(ctx, w.at("conv2"), zr, c.z_dim, K1, P0);
  tap("conv2_out", x);
  // 2. Decoder3d (one chunk, cache threaded through)
  const out = arch.decoder(ctx, w.at("decoder"), c, x); //                                  [1, 3, n', H, W]
  tap("decoded_raw", out);
  // 3. the WanVAE wrapper clamps to [−1, 1]
  g.output(squeeze(g, clamp(g, out, -1, 1), 0), "video");
  return cache.slots;
}
