/**
 * Video quality scores in [0, 1], 1 for the renderer's own output:
 *
 * - stability: frame-to-frame change that motion does not explain. The background's median
 *   luma difference after camera alignment (flicker, noise, boiling textures) and the
 *   change of each object's interior colour between frames, each through exp(−x/scale).
 * - sharpness: how steep object edges are for their contrast: the mean colour gradient on
 *   the mask boundary divided by the colour step between inside and just outside, relative
 *   to the same ratio on rendered reference objects at this frame height. null without objects.
 */
import type { RgbFrame } from "../media/frames.ts";
import { drawObject } from "./draw-object.ts";
import { backgroundTable, type Component, findObjects } from "./segment.ts";
import { renderScale } from "./shapes.ts";
import type { Track } from "./track.ts";
import { PALETTE } from "./vocab.ts";

/** Luma levels of median background residual, and RGB units of object colour change, per e-fold. */
export const RESIDUAL_SCALE = 6;
export const JITTER_SCALE = 20;

export function stabilityScore(residual: Float64Array, tracks: readonly Track[]): number {
  let r = 0;
  for (const x of residual) r += x / Math.max(1, residual.length);
  let jitter = 0;
  let pairs = 0;
  for (const tr of tracks)
    for (let i = 1; i < tr.obs.length; i++) {
      const a = tr.obs[i - 1]!.comp.rgb;
      const b = tr.obs[i]!.comp.rgb;
      jitter += Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      pairs++;
    }
  if (pairs) jitter /= pairs;
  return Math.exp(-r / RESIDUAL_SCALE) * Math.exp(-jitter / JITTER_SCALE);
}

/** Mean boundary gradient / contrast across the boundary, for one object in one frame. */
export function edgeRatio(f: RgbFrame, c: Component, labels: Int32Array): number | null {
  const { width: W, height: H, data } = f;
  const lab = c.id + 1;
  let grad = 0;
  let m = 0;
  let or = 0;
  let og = 0;
  let ob = 0;
  let on = 0;
  for (const p of c.pixels) {
    const x = p % W;
    const y = (p - x) / W;
    if (x < 2 || y < 2 || x >= W - 2 || y >= H - 2) continue;
    const nb = [p - 1, p + 1, p - W, p + W];
    if (nb.every((q) => labels[q] === lab)) continue;
    let g2 = 0;
    for (let ch = 0; ch < 3; ch++) {
      const gx = (data[(p + 1) * 3 + ch]! - data[(p - 1) * 3 + ch]!) / 2;
      const gy = (data[(p + W) * 3 + ch]! - data[(p - W) * 3 + ch]!) / 2;
      g2 += gx * gx + gy * gy;
    }
    grad += Math.sqrt(g2);
    m++;
    // Outside colour: two pixels out along each side that leaves the mask.
    for (const [dx, dy] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ] as const) {
      if (labels[p + dx + dy * W] === lab) continue;
      const q = p + 2 * dx + 2 * dy * W;
      if (labels[q] === lab) continue;
      or += data[q * 3]!;
      og += data[q * 3 + 1]!;
      ob += data[q * 3 + 2]!;
      on++;
    }
  }
  if (m < 4 || on < 4) return null;
  const contrast = Math.hypot(c.rgb[0] - or / on, c.rgb[1] - og / on, c.rgb[2] - ob / on);
  if (contrast < 20) return null;
  return grad / m / contrast;
}

const referenceRatio = new Map<number, number>();

function reference(H: number): number {
  const hit = referenceRatio.get(H);
  if (hit !== undefined) return hit;
  let sum = 0;
  let n = 0;
  for (const shape of ["ball", "square", "star"] as const)
    for (const rEq of [0.075, 0.11, 0.16]) {
      const R = renderScale(shape, rEq) * H;
      const W = Math.ceil(2 * R + 12);
      const data = new Uint8Array(W * W * 3);
      for (let i = 0; i < data.length; i += 3) data.set([128, 128, 132], i);
      drawObject(data, W, W, shape, PALETTE.yellow, { cx: W / 2 + 0.25, cy: W / 2 - 0.35, radius: R, angle: 0.3 });
      const f = { width: W, height: W, data };
      const objs = findObjects(f, backgroundTable([f]));
      for (const c of objs.components) {
        const r = edgeRatio(f, c, objs.labels);
        if (r !== null) {
          sum += r;
          n++;
        }
      }
    }
  const ref = n ? sum / n : 0.4;
  referenceRatio.set(H, ref);
  return ref;
}

/** Mean edge ratio over up to three frames of every track, relative to the reference. */
export function sharpnessScore(
  frames: readonly RgbFrame[],
  labels: readonly Int32Array[],
  tracks: readonly Track[],
): number | null {
  let sum = 0;
  let n = 0;
  for (const tr of tracks) {
    const picks = [tr.obs[0], tr.obs[tr.obs.length >> 1], tr.obs[tr.obs.length - 1]];
    for (const o of picks) {
      if (!o) continue;
      const r = edgeRatio(frames[o.t]!, o.comp, labels[o.t]!);
      if (r === null) continue;
      sum += r;
      n++;
    }
  }
  if (n === 0) return null;
  const H = frames[0]!.height;
  return Math.min(1, sum / n / reference(H));
}
