/**
 * A toy-world scene and its kinematics. World units are frame heights: at the first frame
 * the view shows x ∈ [camX0 − aspect/2, camX0 + aspect/2], y ∈ [0, 1] (y down). Time is the
 * clip fraction u ∈ [0, 1] (first to last frame), so any frame count shows the same motion.
 */
import { geometry, renderScale } from "./shapes.ts";
import {
  type Background,
  type Camera,
  type Colour,
  directionVector,
  type Motion,
  PAN_DISTANCE,
  type Shape,
  SIZE_RADIUS,
  type Size,
  type Speed,
  ZOOM_FACTOR,
} from "./vocab.ts";

/** One visible object. Objects of one group share everything but their start. */
export interface SceneObject {
  readonly group: number;
  readonly shape: Shape;
  readonly colour: Colour;
  readonly size: Size;
  readonly motion: Motion;
  /** null for motions without a speed (bounce, stay). */
  readonly speed: Speed | null;
  /** Centre at u = 0 (world units). */
  readonly x0: number;
  readonly y0: number;
  /** Spin direction: 1 clockwise on screen, −1 counter-clockwise. */
  readonly spinDir: 1 | -1;
  /** Bounce: gravity (frame heights per clip²) and the ground line (world y). */
  readonly gravity: number;
  readonly floor: number;
}

export interface Scene {
  readonly seed: number;
  /** Width / height of the frame the scene was laid out for. */
  readonly aspect: number;
  readonly background: Background;
  /** Seeds the background's procedural detail (clouds, stars, grass blades). */
  readonly backgroundSeed: number;
  readonly camera: Camera;
  /** Camera x at u = 0 (texture phase). */
  readonly camX0: number;
  readonly objects: readonly SceneObject[];
}

export interface Pose {
  readonly x: number;
  readonly y: number;
  /** Unit-space → world scale (size and grow/shrink). */
  readonly scale: number;
  /** Rotation in radians, clockwise on screen. */
  readonly angle: number;
}

export interface CameraPose {
  /** World x at the centre of the view. */
  readonly x: number;
  /** World y at the centre of the view. */
  readonly y: number;
  /** Screen magnification: 1 at u = 0. */
  readonly zoom: number;
}

/** Move distance over the clip, in frame heights. */
export const MOVE_DISTANCE: Readonly<Record<Speed, number>> = { slow: 0.22, fast: 0.45 };
/** Final scale of grow/shrink relative to the start. */
export const GROW_FACTOR: Readonly<Record<Speed, number>> = { slow: 1.3, fast: 1.6 };
export const SHRINK_FACTOR: Readonly<Record<Speed, number>> = { slow: 0.75, fast: 0.55 };
/** Spin over the clip, in turns. */
export const SPIN_TURNS: Readonly<Record<Speed, number>> = { slow: 0.4, fast: 1 };
/** Horizontal travel of a bounce to the left or right, in frame heights per clip. */
export const BOUNCE_TRAVEL = 0.3;
/** Fraction of the speed kept at each bounce. */
export const RESTITUTION = 0.7;

function bounceY(o: SceneObject, u: number, radius: number): number {
  const ground = o.floor - geometry(o.shape).bottom * radius;
  const g = o.gravity;
  let y = o.y0;
  let v = 0;
  let t0 = 0;
  for (let k = 0; k < 32; k++) {
    const dt = (-v + Math.sqrt(v * v + 2 * g * Math.max(0, ground - y))) / g;
    if (u <= t0 + dt) {
      const t = u - t0;
      return y + v * t + 0.5 * g * t * t;
    }
    t0 += dt;
    v = -RESTITUTION * (v + g * dt);
    y = ground;
  }
  return ground;
}

/** Where an object is, how big and how turned, at clip fraction u. */
export function poseAt(o: SceneObject, u: number): Pose {
  const base = renderScale(o.shape, SIZE_RADIUS[o.size]);
  const speed = o.speed ?? "slow";
  const m = o.motion;
  if (m.startsWith("move-")) {
    const [dx, dy] = directionVector(m.slice(5) as Parameters<typeof directionVector>[0]);
    const d = MOVE_DISTANCE[speed] * u;
    return { x: o.x0 + dx * d, y: o.y0 + dy * d, scale: base, angle: 0 };
  }
  switch (m) {
    case "bounce":
    case "bounce-left":
    case "bounce-right": {
      const dx = m === "bounce" ? 0 : m === "bounce-left" ? -BOUNCE_TRAVEL : BOUNCE_TRAVEL;
      return { x: o.x0 + dx * u, y: bounceY(o, u, base), scale: base, angle: 0 };
    }
    case "grow":
      return { x: o.x0, y: o.y0, scale: base * (1 + (GROW_FACTOR[speed] - 1) * u), angle: 0 };
    case "shrink":
      return { x: o.x0, y: o.y0, scale: base * (1 + (SHRINK_FACTOR[speed] - 1) * u), angle: 0 };
    case "spin":
      return { x: o.x0, y: o.y0, scale: base, angle: o.spinDir * 2 * Math.PI * SPIN_TURNS[speed] * u };
    default:
      return { x: o.x0, y: o.y0, scale: base, angle: 0 };
  }
}

export function cameraAt(s: Scene, u: number): CameraPose {
  switch (s.camera) {
    case "pan-left":
      return { x: s.camX0 - PAN_DISTANCE * u, y: 0.5, zoom: 1 };
    case "pan-right":
      return { x: s.camX0 + PAN_DISTANCE * u, y: 0.5, zoom: 1 };
    case "zoom-in":
      return { x: s.camX0, y: 0.5, zoom: ZOOM_FACTOR ** u };
    case "zoom-out":
      return { x: s.camX0, y: 0.5, zoom: ZOOM_FACTOR ** -u };
    default:
      return { x: s.camX0, y: 0.5, zoom: 1 };
  }
}

/** Clip fraction of frame t out of T. */
export function clipTime(t: number, frames: number): number {
  return frames > 1 ? t / (frames - 1) : 0;
}

/** Screen position of a world point in a W×H view (pixels, or frame heights with H = 1). */
export function toScreen(cam: CameraPose, x: number, y: number, W: number, H: number): readonly [number, number] {
  return [(x - cam.x) * cam.zoom * H + W / 2, (y - cam.y) * cam.zoom * H + H / 2];
}
