/**
 * Backgrounds, drawn in world coordinates through the camera so that a pan or zoom moves
 * every texture: plain colours, vertical-gradient skies (day with soft clouds, sunset with
 * clouds, night with stars), a sky over a grass strip, and anti-aliased checkerboard,
 * diagonal stripes and polka dots. Detail is hashed from the background seed, never random.
 */
import { cellHash } from "./rng.ts";
import type { CameraPose } from "./scene.ts";
import type { Background, Rgb } from "./vocab.ts";

export interface BackgroundSpec {
  readonly kind: Background;
  readonly seed: number;
}

/** Where the grass starts (world y), before the blades' jagged tops. */
export const GROUND_Y = 0.78;

const PLAIN: Partial<Record<Background, Rgb>> = {
  white: [238, 238, 232],
  grey: [128, 128, 132],
  dark: [24, 26, 34],
};

const SKY: readonly Rgb[] = [
  [64, 128, 214],
  [172, 208, 238],
];
const SUNSET: readonly Rgb[] = [
  [112, 68, 142],
  [214, 96, 120],
  [248, 176, 96],
];
const NIGHT: readonly Rgb[] = [
  [8, 12, 38],
  [30, 40, 88],
];
const GRASS_DARK: Rgb = [54, 122, 40];
const GRASS_LIGHT: Rgb = [92, 172, 62];
// Two-tone textures keep their two colours within ~60 of each other, so that their
// anti-aliased edges stay close to one of the two (the evaluator's background test).
const CHECKER: readonly Rgb[] = [
  [226, 222, 212],
  [190, 186, 178],
];
const STRIPES: readonly Rgb[] = [
  [246, 232, 196],
  [226, 204, 158],
];
const DOTS: readonly Rgb[] = [
  [196, 228, 206],
  [160, 204, 176],
];
const CLOUD_DAY: Rgb = [255, 255, 255];
const CLOUD_SUNSET: Rgb = [255, 196, 176];
const STAR: Rgb = [255, 248, 215];

/** Pixel ↔ world mapping for one frame. */
interface View {
  readonly W: number;
  readonly H: number;
  /** Pixels per world unit. */
  readonly ppu: number;
  /** World coordinates of pixel (0, 0)'s centre. */
  readonly x0: number;
  readonly y0: number;
}

function viewOf(W: number, H: number, cam: CameraPose): View {
  const ppu = H * cam.zoom;
  return { W, H, ppu, x0: cam.x + (0.5 - W / 2) / ppu, y0: cam.y + (0.5 - H / 2) / ppu };
}

function gradient(stops: readonly Rgb[], y: number, out: number[]): void {
  const t = Math.min(1, Math.max(0, y)) * (stops.length - 1);
  const k = Math.min(stops.length - 2, Math.floor(t));
  const f = t - k;
  const a = stops[k]!;
  const b = stops[k + 1]!;
  out[0] = a[0] + (b[0] - a[0]) * f;
  out[1] = a[1] + (b[1] - a[1]) * f;
  out[2] = a[2] + (b[2] - a[2]) * f;
}

function fillRows(img: Uint8Array, v: View, stops: readonly Rgb[]): void {
  const c = [0, 0, 0];
  for (let py = 0; py < v.H; py++) {
    gradient(stops, v.y0 + py / v.ppu, c);
    const r = Math.round(c[0]!);
    const g = Math.round(c[1]!);
    const b = Math.round(c[2]!);
    for (let i = py * v.W * 3, end = i + v.W * 3; i < end; i += 3) {
      img[i] = r;
      img[i + 1] = g;
      img[i + 2] = b;
    }
  }
}

/** Soft elliptical clouds, one per 0.32-wide world column, blended toward `tint`. */
function clouds(img: Uint8Array, v: View, seed: number, tint: Rgb, yMax: number): void {
  const cw = 0.32;
  const xa = v.x0 - 0.5 / v.ppu;
  const xb = xa + v.W / v.ppu;
  for (let i = Math.floor(xa / cw) - 1; i <= Math.floor(xb / cw) + 1; i++) {
    const cx = (i + 0.2 + 0.6 * cellHash(seed, i, 1)) * cw;
    const cy = 0.08 + (yMax - 0.16) * cellHash(seed, i, 2);
    const sx = 0.06 + 0.04 * cellHash(seed, i, 3);
    const sy = 0.03 + 0.02 * cellHash(seed, i, 4);
    const amp = 0.08 + 0.06 * cellHash(seed, i, 5);
    const px0 = Math.max(0, Math.floor((cx - 2.5 * sx - v.x0) * v.ppu));
    const px1 = Math.min(v.W - 1, Math.ceil((cx + 2.5 * sx - v.x0) * v.ppu));
    const py0 = Math.max(0, Math.floor((cy - 2.5 * sy - v.y0) * v.ppu));
    const py1 = Math.min(v.H - 1, Math.ceil((cy + 2.5 * sy - v.y0) * v.ppu));
    if (px1 < px0 || py1 < py0) continue;
    // The Gaussian is separable: one exp per column and per row.
    const ex = new Float64Array(px1 - px0 + 1);
    for (let px = px0; px <= px1; px++) {
      const dx = (v.x0 + px / v.ppu - cx) / sx;
      ex[px - px0] = amp * Math.exp(-0.5 * dx * dx);
    }
    for (let py = py0; py <= py1; py++) {
      const dy = (v.y0 + py / v.ppu - cy) / sy;
      const ey = Math.exp(-0.5 * dy * dy);
      for (let px = px0, k = (py * v.W + px0) * 3; px <= px1; px++, k += 3) {
        const a = ey * ex[px - px0]!;
        img[k] = Math.round(img[k]! + (tint[0] - img[k]!) * a);
        img[k + 1] = Math.round(img[k + 1]! + (tint[1] - img[k + 1]!) * a);
        img[k + 2] = Math.round(img[k + 2]! + (tint[2] - img[k + 2]!) * a);
      }
    }
  }
}

/** Small stars on a 0.05 world grid, each splatted with an anti-aliased disc. */
function stars(img: Uint8Array, v: View, seed: number): void {
  const sc = 0.05;
  const xa = v.x0 - 0.5 / v.ppu;
  const ya = v.y0 - 0.5 / v.ppu;
  for (let j = Math.floor(ya / sc) - 1; j <= Math.floor((ya + v.H / v.ppu) / sc) + 1; j++) {
    for (let i = Math.floor(xa / sc) - 1; i <= Math.floor((xa + v.W / v.ppu) / sc) + 1; i++) {
      if (cellHash(seed, i, j) > 0.55) continue;
      const sx = (i + 0.15 + 0.7 * cellHash(seed + 1, i, j)) * sc;
      const sy = (j + 0.15 + 0.7 * cellHash(seed + 2, i, j)) * sc;
      const r = (0.004 + 0.004 * cellHash(seed + 3, i, j)) * v.ppu;
      const bright = 0.5 + 0.4 * cellHash(seed + 4, i, j);
      const cx = (sx - v.x0) * v.ppu;
      const cy = (sy - v.y0) * v.ppu;
      for (let py = Math.max(0, Math.floor(cy - r - 1)); py <= Math.min(v.H - 1, Math.ceil(cy + r + 1)); py++) {
        for (let px = Math.max(0, Math.floor(cx - r - 1)); px <= Math.min(v.W - 1, Math.ceil(cx + r + 1)); px++) {
          const d = Math.sqrt((px - cx) * (px - cx) + (py - cy) * (py - cy));
          const a = bright * Math.min(1, Math.max(0, r + 0.5 - d));
          if (a <= 0) continue;
          const k = (py * v.W + px) * 3;
          img[k] = Math.round(img[k]! + (STAR[0] - img[k]!) * a);
          img[k + 1] = Math.round(img[k + 1]! + (STAR[1] - img[k + 1]!) * a);
          img[k + 2] = Math.round(img[k + 2]! + (STAR[2] - img[k + 2]!) * a);
        }
      }
    }
  }
}

/** Smooth value noise in [0, 1] along x with cells of width w. */
function noise1(seed: number, x: number, w: number, lane: number): number {
  const t = x / w;
  const i = Math.floor(t);
  const f = t - i;
  const s = f * f * (3 - 2 * f);
  return cellHash(seed, i, lane) * (1 - s) + cellHash(seed, i + 1, lane) * s;
}

function grass(img: Uint8Array, v: View, seed: number): void {
  for (let px = 0; px < v.W; px++) {
    const x = v.x0 + px / v.ppu;
    const top = GROUND_Y - 0.03 * noise1(seed, x, 0.012, 7);
    const tone = noise1(seed, x, 0.01, 8);
    const r0 = GRASS_DARK[0] + (GRASS_LIGHT[0] - GRASS_DARK[0]) * tone;
    const g0 = GRASS_DARK[1] + (GRASS_LIGHT[1] - GRASS_DARK[1]) * tone;
    const b0 = GRASS_DARK[2] + (GRASS_LIGHT[2] - GRASS_DARK[2]) * tone;
    for (let py = Math.max(0, Math.floor((top - v.y0) * v.ppu) - 1); py < v.H; py++) {
      const y = v.y0 + py / v.ppu;
      const a = Math.min(1, Math.max(0, (y - top) * v.ppu + 0.5));
      if (a <= 0) continue;
      const shade = 1 - 0.15 * Math.min(1, Math.max(0, (y - GROUND_Y) / 0.3));
      const k = (py * v.W + px) * 3;
      img[k] = Math.round(img[k]! + (r0 * shade - img[k]!) * a);
      img[k + 1] = Math.round(img[k + 1]! + (g0 * shade - img[k + 1]!) * a);
      img[k + 2] = Math.round(img[k + 2]! + (b0 * shade - img[k + 2]!) * a);
    }
  }
}

/** A square wave in [−1, 1] with a one-pixel anti-aliased ramp at each transition. */
function softSquare(v: number, period: number, ppu: number): number {
  const p = v / period;
  const f = p - Math.floor(p);
  const dist = Math.min(f, Math.abs(f - 0.5), 1 - f) * period;
  const m = Math.min(1, dist * ppu * 2);
  return f < 0.5 ? m : -m;
}

/** Two colours mixed per pixel by t ∈ [0, 1] (1: the first). */
function mixInto(img: Uint8Array, k: number, pair: readonly Rgb[], t: number): void {
  const a = pair[0]!;
  const b = pair[1]!;
  img[k] = Math.round(b[0] + (a[0] - b[0]) * t);
  img[k + 1] = Math.round(b[1] + (a[1] - b[1]) * t);
  img[k + 2] = Math.round(b[2] + (a[2] - b[2]) * t);
}

function checker(img: Uint8Array, v: View, period: number): void {
  const sx = new Float64Array(v.W);
  for (let px = 0; px < v.W; px++) sx[px] = softSquare(v.x0 + px / v.ppu, period, v.ppu);
  for (let py = 0, k = 0; py < v.H; py++) {
    const sy = softSquare(v.y0 + py / v.ppu, period, v.ppu);
    for (let px = 0; px < v.W; px++, k += 3) mixInto(img, k, CHECKER, 0.5 + 0.5 * sx[px]! * sy);
  }
}

function stripes(img: Uint8Array, v: View, period: number): void {
  for (let py = 0, k = 0; py < v.H; py++) {
    const y = v.y0 + py / v.ppu;
    for (let px = 0; px < v.W; px++, k += 3)
      mixInto(img, k, STRIPES, 0.5 + 0.5 * softSquare((v.x0 + px / v.ppu + y) * Math.SQRT1_2, period, v.ppu));
  }
}

const DOT_SPACING = 0.1;
const DOT_ROW = (DOT_SPACING * Math.sqrt(3)) / 2;
const DOT_RADIUS = 0.028;

/** Polka dots on a hexagonal grid: the three nearest dot rows per pixel; sqrt only near a dot. */
function dots(img: Uint8Array, v: View): void {
  const near = (DOT_RADIUS + 1 / v.ppu) ** 2;
  // Squared x distance to the nearest dot column, for even rows and for odd (offset) rows.
  const even = new Float64Array(v.W);
  const odd = new Float64Array(v.W);
  for (let px = 0; px < v.W; px++) {
    const x = v.x0 + px / v.ppu;
    const e = x - Math.round(x / DOT_SPACING) * DOT_SPACING;
    const u = x - DOT_SPACING / 2;
    const o = u - Math.round(u / DOT_SPACING) * DOT_SPACING;
    even[px] = e * e;
    odd[px] = o * o;
  }
  for (let py = 0, k = 0; py < v.H; py++) {
    const y = v.y0 + py / v.ppu;
    const j = Math.round(y / DOT_ROW);
    const dyA = (y - (j - 1) * DOT_ROW) ** 2;
    const dyB = (y - j * DOT_ROW) ** 2;
    const dyC = (y - (j + 1) * DOT_ROW) ** 2;
    // Rows j − 1 and j + 1 share a parity, row j has the other.
    const [outer, mid] = j & 1 ? [even, odd] : [odd, even];
    const dyOuter = Math.min(dyA, dyC);
    for (let px = 0; px < v.W; px++, k += 3) {
      const best = Math.min(outer[px]! + dyOuter, mid[px]! + dyB);
      let t = 1;
      if (best < near) t = 1 - Math.min(1, Math.max(0, 0.5 + (DOT_RADIUS - Math.sqrt(best)) * v.ppu));
      mixInto(img, k, DOTS, t);
    }
  }
}

/** Draws the background of one frame into an RGB24 buffer of W×H pixels. */
export function drawBackground(img: Uint8Array, W: number, H: number, bg: BackgroundSpec, cam: CameraPose): void {
  const v = viewOf(W, H, cam);
  const plain = PLAIN[bg.kind];
  if (plain) {
    fillRows(img, v, [plain, plain]);
    return;
  }
  switch (bg.kind) {
    case "sky":
      fillRows(img, v, SKY);
      clouds(img, v, bg.seed, CLOUD_DAY, 0.6);
      return;
    case "sunset":
      fillRows(img, v, SUNSET);
      clouds(img, v, bg.seed, CLOUD_SUNSET, 0.7);
      return;
    case "night":
      fillRows(img, v, NIGHT);
      stars(img, v, bg.seed);
      return;
    case "grass":
      fillRows(img, v, SKY);
      clouds(img, v, bg.seed, CLOUD_DAY, 0.5);
      grass(img, v, bg.seed);
      return;
    case "checkerboard":
      checker(img, v, 0.25);
      return;
    case "stripes":
      stripes(img, v, 0.14);
      return;
    case "dots":
      dots(img, v);
      return;
    default:
      throw new Error(`unreachable background ${bg.kind}`);
  }
}

/** The lowest ground line objects bounce on: the grass top, or just above the frame bottom. */
export function floorOf(kind: Background): number {
  return kind === "grass" ? GROUND_Y - 0.01 : 0.97;
}

const colourCache = new Map<Background, Rgb[]>();

/**
 * Every colour a background shows (quantised to 4 levels), from small renders at several
 * camera positions and zooms: what an object colour must stay clear of to be segmentable.
 */
export function backgroundColours(kind: Background): readonly Rgb[] {
  const hit = colourCache.get(kind);
  if (hit) return hit;
  const seen = new Set<number>();
  const out: Rgb[] = [];
  const W = 64;
  const img = new Uint8Array(W * W * 3);
  for (let k = 0; k < 6; k++) {
    const cam = { x: 0.37 * k - 0.4, y: 0.5, zoom: [1, 1.5, 1 / 1.5][k % 3]! };
    drawBackground(img, W, W, { kind, seed: 1000 + k }, cam);
    for (let i = 0; i < img.length; i += 3) {
      const q = ((img[i]! >> 2) << 12) | ((img[i + 1]! >> 2) << 6) | (img[i + 2]! >> 2);
      if (seen.has(q)) continue;
      seen.add(q);
      out.push([img[i]!, img[i + 1]!, img[i + 2]!]);
    }
  }
  colourCache.set(kind, out);
  return out;
}
