/**
 * Background kind of a frame: nearest neighbour over backgrounds rendered by the toy
 * renderer at the same size (six of each kind at different places), on a descriptor of the
 * background pixels only (objects masked out): mean colour of four horizontal bands, and
 * texture (mean horizontal, vertical and diagonal luma differences).
 */
import type { RgbFrame } from "../media/frames.ts";
import { drawBackground } from "./background.ts";
import { nearest } from "./nearest.ts";
import { BACKGROUNDS, type Background } from "./vocab.ts";

const BANDS = 4;

/** Descriptor of the pixels of `f` outside `mask` (mask may be null: everything). */
export function backgroundDescriptor(f: RgbFrame, mask: Uint8Array | null): number[] {
  const { width: W, height: H, data } = f;
  const band = new Float64Array(BANDS * 4);
  let gx = 0;
  let gy = 0;
  let gd = 0;
  let gn = 0;
  const L = (i: number) => 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  for (let y = 0; y < H; y++) {
    const b = Math.min(BANDS - 1, Math.floor((y * BANDS) / H)) * 4;
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      if (mask?.[i]) continue;
      band[b] = band[b]! + data[i * 3]!;
      band[b + 1] = band[b + 1]! + data[i * 3 + 1]!;
      band[b + 2] = band[b + 2]! + data[i * 3 + 2]!;
      band[b + 3] = band[b + 3]! + 1;
      if (x + 1 < W && y + 1 < H && !mask?.[i + 1] && !mask?.[i + W] && !mask?.[i + W + 1]) {
        const l = L(i);
        gx += Math.abs(L(i + 1) - l);
        gy += Math.abs(L(i + W) - l);
        gd += Math.abs(L(i + W + 1) - l);
        gn++;
      }
    }
  }
  const out: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    const n = Math.max(1, band[b * 4 + 3]!);
    out.push(band[b * 4]! / n / 64, band[b * 4 + 1]! / n / 64, band[b * 4 + 2]! / n / 64);
  }
  const n = Math.max(1, gn);
  out.push(gx / n / 4, gy / n / 4, gd / n / 4);
  return out;
}

const references = new Map<string, { kind: Background; v: number[] }[]>();

function buildReferences(W: number, H: number) {
  const out: { kind: Background; v: number[] }[] = [];
  const data = new Uint8Array(W * H * 3);
  for (const kind of BACKGROUNDS)
    for (let k = 0; k < 6; k++) {
      drawBackground(data, W, H, { kind, seed: 77 + k }, { x: k * 1.37 - 3, y: 0.5, zoom: 1 });
      out.push({ kind, v: backgroundDescriptor({ width: W, height: H, data }, null) });
    }
  return out;
}

export function classifyBackground(f: RgbFrame, mask: Uint8Array | null): Background {
  const key = `${f.width}x${f.height}`;
  let refs = references.get(key);
  if (!refs) {
    refs = buildReferences(f.width, f.height);
    references.set(key, refs);
  }
  return nearest(backgroundDescriptor(f, mask), refs).ref.kind;
}
