/**
 * The Wan 2.2 video VAE (TI2V-5B): what differs from 2.1, on top of the shared pieces of
 * vae.ts (CausalConv3d, RMS_norm, ResidualBlock, AttentionBlock, Resample, middle, head,
 * the chunk graphs and their cache).
 * Mirrors Wan-Video/Wan2.2 wan/modules/vae2_2.py @42bf4cf (patchify, unpatchify, AvgDown3D,
 * DupUp3D, Down_ResidualBlock, Up_ResidualBlock, Encoder3d, Decoder3d, Wan2_2_VAE);
 * spec: shared/docs/wan-architecture.md §7.
 *
 * Deviations, all exact in value:
 * - patchify / unpatchify run inside the encode / decode chunk graphs (the reference
 *   patchifies the whole video before chunking; it acts per frame).
 * - AvgDown3D with factors (1, 1) and equal widths is the identity and emits no ops.
 * - DupUp3D's repeat_interleave is an Expand of a unit axis.
 */
import type { Graph, Scope, Value } from "../../engine/graph.ts";
import { add, expand, pad, reduceMean, reshape, slice, transpose } from "../../engine/ops/index.ts";
import { conv1, dims5, head, middle, resample, residualBlock, type VaeArch, type VaeCtx } from "./vae.ts";
import { decoderDim, type WanVaeConfig } from "./vae-config.ts";

/**
 * patchify(x, 2): [1, 3, T, 2h, 2w] → [1, 12, T, h, w], einops
 * `b c f (h q) (w r) -> b (c r q) f h w`: channel c·4 + r·2 + q, q the row and r the column
 * offset inside the 2×2 cell.
 */
export function patchify(g: Graph, x: Value): Value {
  const [C, T, H, W] = dims5(g, x, "patchify");
  if (H % 2 !== 0 || W % 2 !== 0) g.fail("patchify", `H and W must be even, got ${H}×${W}`);
  const r = reshape(g, x, [C, T, H / 2, 2, W / 2, 2]); //                                    [c, T, h, q, w, r]
  const p = transpose(g, r, [0, 5, 3, 1, 2, 4]); //                                          [c, r, q, T, h, w]
  return reshape(g, p, [1, C * 4, T, H / 2, W / 2]);
}

/** unpatchify(x, 2): the inverse of patchify, [1, 12, T, h, w] → [1, 3, T, 2h, 2w]. */
export function unpatchify(g: Graph, x: Value): Value {
  const [C4, T, h, w] = dims5(g, x, "unpatchify");
  if (C4 % 4 !== 0) g.fail("unpatchify", `channels ${C4} are not a multiple of 4`);
  const C = C4 / 4;
  const r = reshape(g, x, [C, 2, 2, T, h, w]); //                                            [c, r, q, T, h, w]
  const p = transpose(g, r, [0, 3, 4, 2, 5, 1]); //                                          [c, T, h, q, w, r]
  return reshape(g, p, [1, C, T, 2 * h, 2 * w]);
}

/**
 * AvgDown3D(in, out, f_t, f_s) (no params): zero-pad time at the front to a multiple of f_t,
 * fold each f_t × f_s × f_s cell into channels (order c, t-offset, row, column), and average
 * consecutive groups of in·f_t·f_s²/out channels.
 */
export function avgDown3d(g: Graph, x: Value, outC: number, ft: number, fs: number): Value {
  const [C, T, H, W] = dims5(g, x, "AvgDown3D");
  const factor = ft * fs * fs;
  if ((C * factor) % outC !== 0) g.fail("AvgDown3D", `in ${C}·${factor} is not divisible by out ${outC}`);
  if (H % fs !== 0 || W % fs !== 0) g.fail("AvgDown3D", `${H}×${W} is not divisible by ${fs}`);
  const group = (C * factor) / outC;
  if (group === 1 && factor === 1) return x;
  const padT = (ft - (T % ft)) % ft;
  const xp = padT > 0 ? pad(g, x, [0, 0, padT, 0, 0], [0, 0, 0, 0, 0]) : x; //             [1, C, T2, H, W]
  const [T2, Hs, Ws] = [(T + padT) / ft, H / fs, W / fs];
  const r = reshape(g, xp, [C, T2, ft, Hs, fs, Ws, fs]);
  const p = transpose(g, r, [0, 2, 4, 6, 1, 3, 5]); //                                       [C, ft, fs, fs, T', H', W']
  const grouped = reshape(g, p, [1, outC, group, T2, Hs, Ws]);
  return reduceMean(g, grouped, [2], false); //                                               [1, out, T', H', W']
}

/**
 * DupUp3D(in, out, f_t, f_s): repeat each channel r = out·f_t·f_s²/in times (repeat_interleave), view as [out, f_t, f_s, f_s, T, H, W] and spread the factors into
 * time and space. A video's first chunk drops its first f_t − 1 frames.
 */
export function dupUp3d(g: Graph, x: Value, outC: number, ft: number, fs: number, first: boolean): Value {
  const [C, T, H, W] = dims5(g, x, "DupUp3D");
  const factor = ft * fs * fs;
  if ((outC * factor) % C !== 0) g.fail("DupUp3D", `out ${outC}·${factor} is not divisible by in ${C}`);
  const repeats = (outC * factor) / C;
  const rep = expand(g, reshape(g, x, [C, 1, T, H, W]), [C, repeats, T, H, W]); //           [C, r, T, H, W]
  const v = reshape(g, rep, [outC, ft, fs, fs, T, H, W]);
  const p = transpose(g, v, [0, 4, 1, 5, 2, 6, 3]); //                                       [out, T, ft, H, fs, W, fs]
  const y = reshape(g, p, [1, outC, T * ft, H * fs, W * fs]);
  return first && ft > 1 ? slice(g, y, 2, ft - 1, T * ft) : y;
}

/**
 * Down_ResidualBlock: `downsamples` = mult ResidualBlocks and, when `down`, a Resample
 * (downsample3d if `tDown`, else downsample2d); output main(x) + AvgDown3D(x).
 */
export function downResidualBlock(
  ctx: VaeCtx,
  w: Scope,
  x: Value,
  outC: number,
  mult: number,
  tDown: boolean,
  down: boolean,
): Value {
  const g = ctx.g;
  return w.build(() => {
    const shortcut = avgDown3d(g, x, outC, tDown ? 2 : 1, down ? 2 : 1);
    let h = x;
    for (let j = 0; j < mult; j++) h = residualBlock(ctx, w.at("downsamples", j), h, outC);
    if (down) h = resample(ctx, w.at("downsamples", mult), h, tDown ? "downsample3d" : "downsample2d", outC);
    return add(g, h, shortcut);
  });
}

/**
 * Up_ResidualBlock: `upsamples` = mult ResidualBlocks and, when `up`, a Resample that keeps
 * the width (upsample3d if `tUp`, else upsample2d) plus the DupUp3D shortcut; without `up`
 * the output is the main path alone.
 */
export function upResidualBlock(
  ctx: VaeCtx,
  w: Scope,
  x: Value,
  outC: number,
  mult: number,
  tUp: boolean,
  up: boolean,
): Value {
  const g = ctx.g;
  return w.build(() => {
    let h = x;
    for (let j = 0; j < mult; j++) h = residualBlock(ctx, w.at("upsamples", j), h, outC);
    if (!up) return h;
    h = resample(ctx, w.at("upsamples", mult), h, tUp ? "upsample3d" : "upsample2d", outC);
    return add(g, h, dupUp3d(g, x, outC, tUp ? 2 : 1, 2, ctx.cache.first));
  });
}

/**
 * Encoder3d (2.2): patchify, conv1 (12 → dim), one Down_ResidualBlock per stage, middle,
 * head → 2·z_dim. [1, 3, n, H, W] → [1, 2·z_dim, n', H/16, W/16].
 */
export function encoder3d22(ctx: VaeCtx, w: Scope, c: WanVaeConfig, x: Value): Value {
  const dims = [1, ...c.dim_mult].map((u) => c.dim * u);
  let h = conv1(ctx, w, patchify(ctx.g, x), dims[0]!);
  for (let i = 0; i + 1 < dims.length; i++) {
    const tDown = c.temperal_downsample[i] ?? false;
    const down = i !== c.dim_mult.length - 1;
    h = downResidualBlock(ctx, w.at("downsamples", i), h, dims[i + 1]!, c.num_res_blocks, tDown, down);
  }
  h = middle(ctx, w.at("middle"), h);
  return head(ctx, w.at("head"), h, 2 * c.z_dim);
}

/**
 * Decoder3d (2.2): conv1 (z_dim → dec_dim·mult[-1]), middle, one Up_ResidualBlock of
 * num_res_blocks + 1 ResidualBlocks per stage, head → 12, unpatchify.
 * [1, z_dim, n, h, w] → [1, 3, n', 16h, 16w].
 */
export function decoder3d22(ctx: VaeCtx, w: Scope, c: WanVaeConfig, z: Value): Value {
  const D = decoderDim(c);
  const mult = c.dim_mult;
  const dims = [mult[mult.length - 1]!, ...[...mult].reverse()].map((u) => D * u);
  const tUp = [...c.temperal_downsample].reverse();
  let h = conv1(ctx, w, z, dims[0]!);
  h = middle(ctx, w.at("middle"), h);
  for (let i = 0; i + 1 < dims.length; i++) {
    const up = i !== mult.length - 1;
    h = upResidualBlock(ctx, w.at("upsamples", i), h, dims[i + 1]!, c.num_res_blocks + 1, tUp[i] ?? false, up);
  }
  return unpatchify(ctx.g, head(ctx, w.at("head"), h, 12));
}

export const WAN22_VAE: VaeArch = { version: "2.2", encoder: encoder3d22, decoder: decoder3d22 };
