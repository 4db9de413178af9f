/**
 * Motion of a tracked object in world terms: its centroid and area are mapped back to
 * frame-0 coordinates through the camera motion (so a pan or zoom is not read as object
 * motion), then tested in order: bounce (falls, then rises again: a lowest point inside
 * the clip with both sides at least BOUNCE_DEPTH), grow/shrink (area trend), spin (summed
 * profile rotation, only for shapes with relief), move (net displacement, in one of eight
 * directions), stay. Thresholds sit between the world's slow and fast amounts.
 */
import { type CameraMotion, toFrame0 } from "./camera-motion.ts";
import { rotationBetween, type ShapeFeatures } from "./shape-features.ts";
import type { Observation } from "./track.ts";
import type { Direction, Motion, Speed } from "./vocab.ts";

export const BOUNCE_DEPTH = 0.06;
export const GROW_RATIO = 1.3;
export const SPIN_MIN = (50 * Math.PI) / 180;
export const MOVE_MIN = 0.1;
export const RELIEF_MIN = 0.04;
/** Between slow and fast: move 0.22 | 0.45 heights, grow area ×1.69 | ×2.56, shrink ×0.56 | ×0.30, spin 0.4 | 1 turn. */
const FAST = { move: 0.315, grow: 2.08, shrink: 0.41, spin: 0.63 * 2 * Math.PI };

export interface MotionEstimate {
  readonly motion: Motion;
  readonly speed: Speed | null;
  /** Net displacement in frame heights (frame-0 coordinates, y down). */
  readonly dx: number;
  readonly dy: number;
  /** Last / first area in frame-0 coordinates. */
  readonly areaRatio: number;
  /** Summed rotation, radians (clockwise positive). */
  readonly rotation: number;
  /** Lowest point of a fall-and-rise, frame heights (0: none). */
  readonly bounce: number;
  /**
   * How much the area jitters around its trend: the mean |residual| of ln(area) about a
   * least-squares line over frame index (0 for an object that keeps its size or grows
   * steadily). Median over 60 held-out clips: rendered truth 0.006, the toy VAE alone 0.03.
   * An object a model redraws at another size every frame scores high, and its area ratio
   * (first vs last frames) then reads as grow or shrink.
   */
  readonly sizeWobble: number;
}

/** Mean |residual| of ys about their least-squares line over ts. */
function detrendedSpread(ts: readonly number[], ys: readonly number[]): number {
  const n = ys.length;
  if (n < 3) return 0;
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let stt = 0;
  let sty = 0;
  for (let i = 0; i < n; i++) {
    stt += (ts[i]! - mt) ** 2;
    sty += (ts[i]! - mt) * (ys[i]! - my);
  }
  const slope = stt > 0 ? sty / stt : 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(ys[i]! - my - slope * (ts[i]! - mt));
  return sum / n;
}

/** The compass direction (8 sectors) of a net displacement in frame coordinates (y down). */
export function direction(dx: number, dy: number): Direction {
  const a = (Math.atan2(-dy, dx) * 180) / Math.PI; // counter-clockwise from +x, y up
  const sector = Math.round(((a + 360) % 360) / 45) % 8;
  return (["right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"] as const)[sector]!;
}

function mean2(xs: readonly number[], from: number): number {
  const a = xs[from]!;
  const b = xs[from + 1] ?? a;
  return (a + b) / 2;
}

export function classifyMotion(
  obs: readonly Observation[],
  features: readonly ShapeFeatures[],
  cam: CameraMotion,
  W: number,
  H: number,
): MotionEstimate {
  const n = obs.length;
  const xs: number[] = [];
  const ys: number[] = [];
  const areas: number[] = [];
  for (const o of obs) {
    const [x, y] = toFrame0(cam, o.t, o.comp.cx, o.comp.cy, W, H);
    xs.push(x / H);
    ys.push(y / H);
    areas.push(o.comp.area / cam.zoom[o.t]! ** 2);
  }
  const dx = mean2(xs, n - 2) - mean2(xs, 0);
  const dy = mean2(ys, n - 2) - mean2(ys, 0);
  const areaRatio = mean2(areas, n - 2) / mean2(areas, 0);
  let rotation = 0;
  let relief = 0;
  for (let i = 0; i < n; i++) {
    relief += features[i]!.relief / n;
    if (i > 0 && obs[i]!.t === obs[i - 1]!.t + 1)
      rotation += rotationBetween(features[i - 1]!.profile, features[i]!.profile);
  }
  // Bounce: the lowest point (largest y) strictly inside, with a fall before and a rise after.
  let bounce = 0;
  for (let m = 1; m < n - 1; m++) {
    let above = ys[m]!;
    for (let i = 0; i < m; i++) above = Math.min(above, ys[i]!);
    let after = ys[m]!;
    for (let i = m + 1; i < n; i++) after = Math.min(after, ys[i]!);
    const depth = Math.min(ys[m]! - above, ys[m]! - after);
    if (depth > bounce) bounce = depth;
  }
  const sizeWobble = detrendedSpread(
    obs.map((o) => o.t),
    areas.map((a) => Math.log(Math.max(a, 1e-9))),
  );
  const base = { dx, dy, areaRatio, rotation, bounce, sizeWobble };
  if (bounce >= BOUNCE_DEPTH) {
    const motion: Motion = Math.abs(dx) < 0.12 ? "bounce" : dx < 0 ? "bounce-left" : "bounce-right";
    return { ...base, motion, speed: null };
  }
  if (areaRatio > GROW_RATIO) return { ...base, motion: "grow", speed: areaRatio > FAST.grow ? "fast" : "slow" };
  if (areaRatio < 1 / GROW_RATIO)
    return { ...base, motion: "shrink", speed: areaRatio < FAST.shrink ? "fast" : "slow" };
  if (relief >= RELIEF_MIN && Math.abs(rotation) > SPIN_MIN)
    return { ...base, motion: "spin", speed: Math.abs(rotation) > FAST.spin ? "fast" : "slow" };
  const dist = Math.hypot(dx, dy);
  if (dist > MOVE_MIN)
    return { ...base, motion: `move-${direction(dx, dy)}`, speed: dist > FAST.move ? "fast" : "slow" };
  return { ...base, motion: "stay", speed: null };
}
