/**
 * Renders a scene to frames: background through the camera, then the objects in order.
 * Output: T packed RGB24 frames (the media layer's RgbFrame), and a [3, T, H, W] float
 * tensor in [−1, 1] for training (the layout the Wan VAE encodes).
 */
import { ReelError } from "../errors.ts";
import type { RgbFrame } from "../media/frames.ts";
import { drawBackground } from "./background.ts";
import { drawObject } from "./draw-object.ts";
import { cameraAt, clipTime, poseAt, type Scene, type SceneObject, toScreen } from "./scene.ts";
import { DEFAULT_CLIP, PALETTE } from "./vocab.ts";

export interface ClipSize {
  readonly width?: number;
  readonly height?: number;
  readonly frames?: number;
}

export function resolveClip(o: ClipSize = {}): { width: number; height: number; frames: number } {
  const width = o.width ?? DEFAULT_CLIP.width;
  const height = o.height ?? DEFAULT_CLIP.height;
  const frames = o.frames ?? DEFAULT_CLIP.frames;
  for (const [k, v, min, max] of [
    ["width", width, 8, 4096],
    ["height", height, 8, 4096],
    ["frames", frames, 1, 1024],
  ] as const)
    if (!Number.isInteger(v) || v < min || v > max)
      throw new ReelError("E_INPUT_INVALID", `toyworld ${k} must be an integer in [${min}, ${max}], got ${v}`);
  return { width, height, frames };
}

/** Draws frame t of T into `img` (RGB24, width×height). */
export function renderFrame(s: Scene, t: number, T: number, width: number, height: number, img: Uint8Array): void {
  const cam = cameraAt(s, clipTime(t, T));
  drawBackground(img, width, height, { kind: s.background, seed: s.backgroundSeed }, cam);
  drawObjects(s, t, T, width, height, img);
}

/** Draws the scene's objects in order; `drawn` (if given) is called after each. */
function drawObjects(
  s: Scene,
  t: number,
  T: number,
  width: number,
  height: number,
  img: Uint8Array,
  drawn?: (o: SceneObject) => void,
): void {
  const u = clipTime(t, T);
  const cam = cameraAt(s, u);
  // A render at another aspect than the scene's keeps the geometry and crops or widens the view.
  for (const o of s.objects) {
    const p = poseAt(o, u);
    const [cx, cy] = toScreen(cam, p.x, p.y, width, height);
    drawObject(img, width, height, o.shape, PALETTE[o.colour], {
      cx,
      cy,
      radius: p.scale * cam.zoom * height,
      angle: p.angle,
    });
    drawn?.(o);
  }
}

/** Renders all frames of a scene. */
export function renderScene(s: Scene, clip: ClipSize = {}): RgbFrame[] {
  const { width, height, frames } = resolveClip(clip);
  const out: RgbFrame[] = [];
  for (let t = 0; t < frames; t++) {
    const data = new Uint8Array(width * height * 3);
    renderFrame(s, t, frames, width, height, data);
    out.push({ width, height, data });
  }
  return out;
}

/**
 * Renders all frames and, per frame, where the objects are: masks[t] is width·height bytes, 0
 * where the background's pixel is unchanged, else 1 + the group (the noun phrase's place in the
 * caption) of the last-drawn object that changed it, its anti-aliased edge included. Ground
 * truth for training (the trainer weighs object cells up, and can ask which named object a
 * cell shows); textured backgrounds, which an edge detector would mark, stay 0.
 */
export function renderSceneWithMasks(s: Scene, clip: ClipSize = {}): { frames: RgbFrame[]; masks: Uint8Array[] } {
  const { width, height, frames: T } = resolveClip(clip);
  const frames: RgbFrame[] = [];
  const masks: Uint8Array[] = [];
  const plane = width * height;
  for (let t = 0; t < T; t++) {
    const data = new Uint8Array(plane * 3);
    drawBackground(data, width, height, { kind: s.background, seed: s.backgroundSeed }, cameraAt(s, clipTime(t, T)));
    const bg = data.slice();
    const before = data.slice();
    const mask = new Uint8Array(plane);
    drawObjects(s, t, T, width, height, data, (o) => {
      for (let i = 0, k = 0; i < plane; i++, k += 3)
        if (data[k] !== before[k] || data[k + 1] !== before[k + 1] || data[k + 2] !== before[k + 2])
          mask[i] = 1 + o.group;
      before.set(data);
    });
    for (let i = 0, k = 0; i < plane; i++, k += 3)
      if (data[k] === bg[k] && data[k + 1] === bg[k + 1] && data[k + 2] === bg[k + 2]) mask[i] = 0;
    frames.push({ width, height, data });
    masks.push(mask);
  }
  return { frames, masks };
}

/** Frames → [3, T, H, W] float32 in [−1, 1] (x / 127.5 − 1). */
export function framesToTensor(frames: readonly RgbFrame[]): {
  data: Float32Array;
  dims: [number, number, number, number];
} {
  const first = frames[0];
  if (!first) throw new ReelError("E_INPUT_INVALID", "no frames to convert");
  const { width: W, height: H } = first;
  const T = frames.length;
  const plane = W * H;
  const data = new Float32Array(3 * T * plane);
  for (let t = 0; t < T; t++) {
    const f = frames[t]!;
    if (f.width !== W || f.height !== H || f.data.length !== plane * 3)
      throw new ReelError("E_INPUT_INVALID", `frame ${t} is ${f.width}x${f.height}, expected ${W}x${H} RGB24`);
    const src = f.data;
    const r = t * plane;
    const g = (T + t) * plane;
    const b = (2 * T + t) * plane;
    for (let i = 0, k = 0; i < plane; i++, k += 3) {
      data[r + i] = src[k]! / 127.5 - 1;
      data[g + i] = src[k + 1]! / 127.5 - 1;
      data[b + i] = src[k + 2]! / 127.5 - 1;
    }
  }
  return { data, dims: [3, T, H, W] };
}
