/**
 * Draws one object: its shape's signed distance gives a one-pixel anti-aliased edge, and a
 * light from the upper left gives soft shading: a sphere with a specular spot for the ball,
 * a tube for the ring, a bevel and a faint diagonal gradient for the flat shapes. Shading
 * stays within SHADE_RANGE of the base colour, and the highlight mixes at most
 * HIGHLIGHT_MAX toward white (the sampler keeps those colours clear of the background).
 */
import { geometry } from "./shapes.ts";
import type { Rgb, Shape } from "./vocab.ts";

export const SHADE_RANGE = [0.72, 1.05] as const;
export const HIGHLIGHT_MAX = 0.15;

const L = (() => {
  const v = [-0.45, -0.55, 0.7];
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n] as const;
})();
const HALF = (() => {
  const v = [L[0], L[1], L[2] + 1];
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n] as const;
})();

export interface ObjectPixels {
  /** Centre in pixels. */
  readonly cx: number;
  readonly cy: number;
  /** Unit-space → pixel scale. */
  readonly radius: number;
  /** Clockwise rotation in radians. */
  readonly angle: number;
}

/** Composites one object over an RGB24 W×H image. */
export function drawObject(img: Uint8Array, W: number, H: number, shape: Shape, rgb: Rgb, p: ObjectPixels): void {
  const g = geometry(shape);
  const sdf = g.sdf;
  const R = p.radius;
  const reach = g.bound * R + 1;
  const x0 = Math.max(0, Math.floor(p.cx - reach));
  const x1 = Math.min(W - 1, Math.ceil(p.cx + reach));
  const y0 = Math.max(0, Math.floor(p.cy - reach));
  const y1 = Math.min(H - 1, Math.ceil(p.cy + reach));
  const cos = Math.cos(p.angle);
  const sin = Math.sin(p.angle);
  const inv = 1 / R;
  const [br, bg, bb] = rgb;
  const ball = shape === "ball";
  const ring = shape === "ring";
  // 4×4 blocks: the SDF is 1-Lipschitz, so a block whose centre is farther than its
  // half-diagonal (+ the anti-aliasing half pixel) from the edge is all outside, or all
  // inside (and, beyond the bevel, needs no distance at all).
  const reachBlock = 2.13 + 0.5;
  const band = ball ? 0 : ring ? Number.POSITIVE_INFINITY : 0.18 * R;
  for (let by = y0; by <= y1; by += 4) {
    for (let bx = x0; bx <= x1; bx += 4) {
      const bsx = (bx + 2 - p.cx) * inv;
      const bsy = (by + 2 - p.cy) * inv;
      const dc = sdf(bsx * cos + bsy * sin, -bsx * sin + bsy * cos) * R;
      if (dc > reachBlock) continue;
      const deep = dc < -(reachBlock + band);
      for (let py = by; py <= Math.min(y1, by + 3); py++) {
        const sy = (py + 0.5 - p.cy) * inv;
        for (let px = bx; px <= Math.min(x1, bx + 3); px++) {
          const sx = (px + 0.5 - p.cx) * inv;
          let d = Number.NEGATIVE_INFINITY;
          if (!deep) {
            // Screen → object space: rotate by −angle.
            d = sdf(sx * cos + sy * sin, -sx * sin + sy * cos) * R;
            if (d >= 0.5) continue;
          }
          const a = d <= -0.5 ? 1 : 0.5 - d;
          let shade: number;
          let spec = 0;
          if (ball) {
            const r2 = Math.min(1, sx * sx + sy * sy);
            const nz = Math.sqrt(1 - r2);
            const lam = Math.max(0, sx * L[0] + sy * L[1] + nz * L[2]);
            shade = 0.72 + 0.33 * lam;
            const h = Math.max(0, sx * HALF[0] + sy * HALF[1] + nz * HALF[2]);
            spec = HIGHLIGHT_MAX * h ** 24;
          } else if (ring) {
            const t = Math.min(1, Math.max(0, -d * inv) / 0.225);
            const nz = Math.sqrt(1 - (1 - t) * (1 - t));
            shade = 0.74 + 0.24 * nz + 0.07 * -(sx + sy) * Math.SQRT1_2;
          } else {
            const bevel = deep ? 0 : Math.max(0, 1 - Math.max(0, -d) / (0.18 * R));
            shade = 0.96 - 0.06 * (sx + sy) * Math.SQRT1_2 - 0.16 * bevel;
          }
          const k = (py * W + px) * 3;
          const cr = br * shade * (1 - spec) + 255 * spec;
          const cg = bg * shade * (1 - spec) + 255 * spec;
          const cb = bb * shade * (1 - spec) + 255 * spec;
          img[k] = Math.round(img[k]! + (Math.min(255, cr) - img[k]!) * a);
          img[k + 1] = Math.round(img[k + 1]! + (Math.min(255, cg) - img[k + 1]!) * a);
          img[k + 2] = Math.round(img[k + 2]! + (Math.min(255, cb) - img[k + 2]!) * a);
        }
      }
    }
  }
}

/** Colours an object of base colour `rgb` can show: what must stay clear of the background. */
export function appearanceSamples(rgb: Rgb): Rgb[] {
  const out: Rgb[] = [];
  for (const s of [SHADE_RANGE[0], 0.8, 0.9, 1, SHADE_RANGE[1]])
    out.push([Math.min(255, rgb[0] * s), Math.min(255, rgb[1] * s), Math.min(255, rgb[2] * s)]);
  for (const h of [HIGHLIGHT_MAX / 2, HIGHLIGHT_MAX])
    out.push([rgb[0] + (255 - rgb[0]) * h, rgb[1] + (255 - rgb[1]) * h, rgb[2] + (255 - rgb[2]) * h]);
  return out;
}
