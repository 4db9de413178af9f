/**
 * What a video shows, prompt-independent: its objects (colour, shape, size, motion, speed),
 * their count, the background kind, the camera move, and quality scores. Works on any
 * RGB frames: rendered ground truth, decoded MP4s, model output.
 */
import { ReelError } from "../errors.ts";
import type { RgbFrame } from "../media/frames.ts";
import { type CameraMotion, estimateCamera, luma } from "./camera-motion.ts";
import { classifyBackground } from "./classify-background.ts";
import { nameColour } from "./classify-colour.ts";
import { classifyMotion, type MotionEstimate } from "./classify-motion.ts";
import { classifyShape, SHAPE_MATCH_LIMIT } from "./classify-shape.ts";
import { sharpnessScore, stabilityScore } from "./quality.ts";
import { backgroundTable, type FrameObjects, findObjects } from "./segment.ts";
import { shapeFeatures } from "./shape-features.ts";
import { linkTracks, type Track } from "./track.ts";
import {
  type Background,
  type Camera,
  type Colour,
  COLOURS,
  type Motion,
  type Shape,
  SIZE_RADIUS,
  type Size,
  type Speed,
} from "./vocab.ts";

export interface DetectedObject {
  readonly colour: Colour;
  /** null when most of its outline (by area) matches no shape: a blob. */
  readonly shape: Shape | null;
  readonly size: Size;
  readonly motion: Motion;
  readonly speed: Speed | null;
  /** Area-equivalent radius at its first frame, in frame heights (camera zoom removed). */
  readonly radius: number;
  /** Frames it was seen in. */
  readonly frames: number;
  /** Its area in each frame it was seen in, as a fraction of the frame (raw: camera zoom not removed). */
  readonly areas: readonly number[];
  readonly detail: MotionEstimate;
}

export interface VideoAnalysis {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  /** Largest first. */
  readonly objects: DetectedObject[];
  readonly background: Background;
  readonly camera: Camera;
  readonly cameraDetail: { readonly logZoom: number; readonly pan: number; readonly texture: number };
  readonly quality: { readonly stability: number; readonly sharpness: number | null };
}

const SMALL_MEDIUM = Math.sqrt(SIZE_RADIUS.small * SIZE_RADIUS.medium);
const MEDIUM_LARGE = Math.sqrt(SIZE_RADIUS.medium * SIZE_RADIUS.large);

function checkFrames(frames: readonly RgbFrame[]): { W: number; H: number } {
  const first = frames[0];
  if (!first || frames.length < 2)
    throw new ReelError("E_INPUT_INVALID", `a video needs at least 2 frames to evaluate, got ${frames.length}`);
  const { width: W, height: H } = first;
  if (W < 16 || H < 16) throw new ReelError("E_INPUT_INVALID", `frames must be at least 16x16, got ${W}x${H}`);
  frames.forEach((f, t) => {
    if (f.width !== W || f.height !== H || f.data.length !== W * H * 3)
      throw new ReelError("E_INPUT_INVALID", `frame ${t} is ${f.width}x${f.height}, expected ${W}x${H} RGB24`);
  });
  return { W, H };
}

/** Object pixels grown by `r` pixels in x and y (a square), what the camera estimate ignores. */
function dilatedMask(objs: FrameObjects, r: number): Uint8Array {
  const { width: W, height: H, labels } = objs;
  // Separable running counts: a pixel is set when any object pixel lies within ±r.
  const rows = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    let count = 0;
    for (let x = -r; x < W; x++) {
      const add = x + r;
      if (add < W && labels[y * W + add]) count++;
      const drop = x - r - 1;
      if (drop >= 0 && labels[y * W + drop]) count--;
      if (x >= 0 && count > 0) rows[y * W + x] = 1;
    }
  }
  const out = new Uint8Array(W * H);
  for (let x = 0; x < W; x++) {
    let count = 0;
    for (let y = -r; y < H; y++) {
      const add = y + r;
      if (add < H && rows[add * W + x]) count++;
      const drop = y - r - 1;
      if (drop >= 0 && rows[drop * W + x]) count--;
      if (y >= 0 && count > 0) out[y * W + x] = 1;
    }
  }
  return out;
}

function majority<T>(votes: readonly (readonly [T, number])[]): T {
  const tally = new Map<T, number>();
  for (const [v, w] of votes) tally.set(v, (tally.get(v) ?? 0) + w);
  let best = votes[0]![0];
  let bw = Number.NEGATIVE_INFINITY;
  for (const [v, w] of tally)
    if (w > bw) {
      bw = w;
      best = v;
    }
  return best;
}

function describeTrack(
  tr: Track,
  objs: readonly FrameObjects[],
  cam: CameraMotion,
  W: number,
  H: number,
): DetectedObject {
  const feats = tr.obs.map((o) => shapeFeatures(o.comp, objs[o.t]!.labels, W, H));
  const shape = majority(
    tr.obs.map((o, i) => {
      const c = classifyShape(feats[i]!, H);
      return [c.distance <= SHAPE_MATCH_LIMIT ? c.shape : null, Math.sqrt(o.comp.area)] as const;
    }),
  );
  const rgb: [number, number, number] = [0, 0, 0];
  for (const o of tr.obs) for (let k = 0; k < 3; k++) rgb[k] = rgb[k]! + o.comp.rgb[k]! / tr.obs.length;
  const colour = nameColour(rgb).colour;
  const first = tr.obs[0]!;
  const radius = Math.sqrt(first.comp.area / Math.PI) / cam.zoom[first.t]! / H;
  const size: Size = radius < SMALL_MEDIUM ? "small" : radius < MEDIUM_LARGE ? "medium" : "large";
  const detail = classifyMotion(tr.obs, feats, cam, W, H);
  const areas = tr.obs.map((o) => o.comp.area / (W * H));
  return {
    colour,
    shape,
    size,
    motion: detail.motion,
    speed: detail.speed,
    radius,
    frames: tr.obs.length,
    areas,
    detail,
  };
}

export function analyzeVideo(frames: readonly RgbFrame[]): VideoAnalysis {
  const { W, H } = checkFrames(frames);
  const table = backgroundTable(frames);
  const objs = frames.map((f) => findObjects(f, table));
  const masks = objs.map((o) => dilatedMask(o, 4));
  const cam = estimateCamera(frames.map(luma), masks, W, H);
  const colours = objs.map((o) => o.components.map((c) => nameColour(c.rgb).colour));
  const tracks = linkTracks(objs, colours);
  const objects = tracks
    .map((tr) => describeTrack(tr, objs, cam, W, H))
    .sort((a, b) => b.radius - a.radius || COLOURS.indexOf(a.colour) - COLOURS.indexOf(b.colour));
  return {
    width: W,
    height: H,
    frames: frames.length,
    objects,
    background: classifyBackground(frames[0]!, masks[0]!),
    camera: cam.move,
    cameraDetail: { logZoom: cam.logZoom, pan: cam.pan, texture: cam.texture },
    quality: {
      stability: stabilityScore(cam.residual, tracks),
      sharpness: sharpnessScore(
        frames,
        objs.map((o) => o.labels),
        tracks,
      ),
    },
  };
}
