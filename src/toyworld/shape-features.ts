/**
 * Rotation- and scale-invariant features of an object mask, for the shape classifier and
 * for spin: the radial profile r(θ) (outer edge along 64 rays from the centroid), its
 * Fourier magnitudes (3 peaks: triangle, 5: star, ...), solidity (area / convex hull area:
 * low for stars and crosses), hole fraction (rings) and elongation (diamonds).
 */
import type { Component } from "./segment.ts";

export const RAYS = 64;
export const HARMONICS = 8;

export interface ShapeFeatures {
  /** r(θ) / mean r, θ_k = 2πk/RAYS clockwise from +x (screen). */
  readonly profile: Float64Array;
  /** |DFT_k| / DFT_0 of the profile, k = 1..HARMONICS. */
  readonly harmonics: Float64Array;
  readonly solidity: number;
  /** Enclosed background area / (area + enclosed background area). */
  readonly hole: number;
  /** √(λmin / λmax) of the second moments (1: round or square). */
  readonly elongation: number;
  /** Standard deviation of the normalised profile (0: a disc, nothing to see turning). */
  readonly relief: number;
}

function radialProfile(c: Component, labels: Int32Array, W: number, H: number): Float64Array {
  const lab = c.id + 1;
  const maxR = Math.hypot(c.x1 - c.x0 + 2, c.y1 - c.y0 + 2);
  const out = new Float64Array(RAYS);
  const step = 0.25;
  for (let k = 0; k < RAYS; k++) {
    const a = (2 * Math.PI * k) / RAYS;
    const dx = Math.cos(a);
    const dy = Math.sin(a);
    let last = 0;
    for (let r = 0; r <= maxR; r += step) {
      const x = Math.floor(c.cx + dx * r);
      const y = Math.floor(c.cy + dy * r);
      if (x < 0 || y < 0 || x >= W || y >= H) break;
      if (labels[y * W + x] === lab) last = r;
    }
    out[k] = last + 0.5;
  }
  return out;
}

function convexHullArea(c: Component, W: number): number {
  // Row extremes (pixel corners) are enough to span the hull.
  const left = new Map<number, number>();
  const right = new Map<number, number>();
  for (const p of c.pixels) {
    const x = p % W;
    const y = (p - x) / W;
    left.set(y, Math.min(left.get(y) ?? x, x));
    right.set(y, Math.max(right.get(y) ?? x, x));
  }
  const pts: [number, number][] = [];
  for (const [y, x] of left) pts.push([x, y], [x, y + 1]);
  for (const [y, x] of right) pts.push([x + 1, y], [x + 1, y + 1]);
  pts.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: [number, number], a: [number, number], b: [number, number]) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: [number, number][] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  let a = 0;
  for (let i = 0; i < hull.length; i++) {
    const [x0, y0] = hull[i]!;
    const [x1, y1] = hull[(i + 1) % hull.length]!;
    a += x0 * y1 - x1 * y0;
  }
  return Math.abs(a) / 2;
}

/** Background pixels inside the bounding box that cannot reach the box's edge. */
function enclosedArea(c: Component, labels: Int32Array, W: number): number {
  const bw = c.x1 - c.x0 + 3;
  const bh = c.y1 - c.y0 + 3;
  const lab = c.id + 1;
  const inside = (bx: number, by: number) => {
    const x = c.x0 - 1 + bx;
    const y = c.y0 - 1 + by;
    if (x < 0 || y < 0 || x >= W || y * W + x >= labels.length) return false;
    return labels[y * W + x] === lab;
  };
  const reached = new Uint8Array(bw * bh);
  const stack: number[] = [0];
  reached[0] = 1;
  while (stack.length) {
    const p = stack.pop()!;
    const bx = p % bw;
    const by = (p - bx) / bw;
    for (const [dx, dy] of [
      [1, 0],
      [-1, 0],
      [0, 1],
      [0, -1],
    ] as const) {
      const x = bx + dx;
      const y = by + dy;
      if (x < 0 || y < 0 || x >= bw || y >= bh) continue;
      const q = y * bw + x;
      if (reached[q] || inside(x, y)) continue;
      reached[q] = 1;
      stack.push(q);
    }
  }
  let holes = 0;
  for (let by = 0; by < bh; by++)
    for (let bx = 0; bx < bw; bx++) if (!reached[by * bw + bx] && !inside(bx, by)) holes++;
  return holes;
}

function elongationOf(c: Component, W: number): number {
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const p of c.pixels) {
    const x = (p % W) + 0.5 - c.cx;
    const y = Math.floor(p / W) + 0.5 - c.cy;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const tr = sxx + syy;
  const det = sxx * syy - sxy * sxy;
  const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const l1 = tr / 2 + disc;
  const l2 = tr / 2 - disc;
  return l1 > 0 ? Math.sqrt(Math.max(0, l2) / l1) : 1;
}

export function shapeFeatures(c: Component, labels: Int32Array, W: number, H: number): ShapeFeatures {
  const raw = radialProfile(c, labels, W, H);
  let mean = 0;
  for (const r of raw) mean += r;
  mean /= RAYS;
  const profile = raw.map((r) => r / mean);
  let relief = 0;
  for (const r of profile) relief += (r - 1) * (r - 1);
  relief = Math.sqrt(relief / RAYS);
  const harmonics = new Float64Array(HARMONICS);
  for (let h = 1; h <= HARMONICS; h++) {
    let re = 0;
    let im = 0;
    for (let k = 0; k < RAYS; k++) {
      const a = (2 * Math.PI * h * k) / RAYS;
      re += profile[k]! * Math.cos(a);
      im -= profile[k]! * Math.sin(a);
    }
    harmonics[h - 1] = Math.hypot(re, im) / RAYS;
  }
  const holes = enclosedArea(c, labels, W);
  return {
    profile,
    harmonics,
    solidity: c.area / Math.max(1, convexHullArea(c, W)),
    hole: holes / (c.area + holes),
    elongation: elongationOf(c, W),
    relief,
  };
}

/**
 * Rotation (radians, clockwise) from profile a to profile b: the circular shift that best
 * matches them within ±maxShift rays, refined by a parabola.
 */
export function rotationBetween(a: Float64Array, b: Float64Array, maxShift = 6): number {
  const score = (s: number) => {
    let sum = 0;
    for (let k = 0; k < RAYS; k++) sum += (a[k]! - 1) * (b[(k + s + RAYS) % RAYS]! - 1);
    return sum;
  };
  let best = Number.NEGATIVE_INFINITY;
  let bs = 0;
  for (let s = -maxShift; s <= maxShift; s++) {
    const v = score(s);
    if (v > best) {
      best = v;
      bs = s;
    }
  }
  const l = score(bs - 1);
  const r = score(bs + 1);
  const den = l - 2 * best + r;
  const frac = den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (l - r)) / den)) : 0;
  return ((bs + frac) * 2 * Math.PI) / RAYS;
}
