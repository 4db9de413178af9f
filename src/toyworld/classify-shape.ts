/**
 * Shape classifier: nearest neighbour over reference masks rendered by the toy renderer
 * itself (every shape at five sizes and four turns, segmented exactly like a video), in a
 * weighted feature space of hole fraction, solidity, elongation and profile harmonics.
 * References are built once per frame height. A frame whose outline lies farther than
 * SHAPE_MATCH_LIMIT from every reference is not any shape (a blob): see describeTrack.
 */
import { drawObject } from "./draw-object.ts";
import { nearest } from "./nearest.ts";
import { findObjects, backgroundTable, type FrameObjects } from "./segment.ts";
import { type ShapeFeatures, shapeFeatures } from "./shape-features.ts";
import { renderScale } from "./shapes.ts";
import { PALETTE, SHAPES, type Shape } from "./vocab.ts";

/** The classifier's feature vector: weights set how far apart the shapes fall. */
export function featureVector(f: ShapeFeatures): number[] {
  const h = f.harmonics;
  return [
    4 * f.hole,
    3 * f.solidity,
    2 * f.elongation,
    6 * h[0]!,
    6 * h[1]!,
    6 * h[2]!,
    6 * h[3]!,
    6 * h[4]!,
    3 * h[5]!,
    3 * h[6]!,
    3 * h[7]!,
  ];
}

/**
 * Largest feature distance still read as a shape. Rendered ground truth (300 clips, 7,378
 * segmented objects, every size, turn, occlusion and frame edge): median 0.035, p99 0.19, max
 * 0.31. reel-toy's amorphous blobs: median 0.42-0.53.
 */
export const SHAPE_MATCH_LIMIT = 0.35;

interface Reference {
  readonly shape: Shape;
  readonly v: number[];
}

const references = new Map<number, Reference[]>();

/** Area-equivalent radii (frame heights) the references cover: shrunk small to grown large. */
const REFERENCE_RADII = [0.045, 0.07, 0.1, 0.14, 0.2];

function buildReferences(H: number): Reference[] {
  const out: Reference[] = [];
  const grey: [number, number, number] = [128, 128, 132];
  for (const shape of SHAPES)
    for (const rEq of REFERENCE_RADII)
      for (const turn of [0, 0.07, 0.14, 0.21]) {
        const R = renderScale(shape, rEq) * H;
        const W = Math.ceil(2 * R + 8);
        const data = new Uint8Array(W * W * 3);
        for (let i = 0; i < data.length; i += 3) data.set(grey, i);
        drawObject(data, W, W, shape, PALETTE.red, {
          cx: W / 2 + 0.3,
          cy: W / 2 - 0.2,
          radius: R,
          angle: turn * 2 * Math.PI,
        });
        const frame = { width: W, height: W, data };
        const objs: FrameObjects = findObjects(frame, backgroundTable([frame]));
        const c = objs.components.reduce((a, b) => (b.area > a.area ? b : a), objs.components[0]!);
        if (!c) continue;
        out.push({ shape, v: featureVector(shapeFeatures(c, objs.labels, W, W)) });
      }
  return out;
}

/** The nearest reference shape and its distance. */
export function classifyShape(f: ShapeFeatures, frameHeight: number): { shape: Shape; distance: number } {
  let refs = references.get(frameHeight);
  if (!refs) {
    refs = buildReferences(frameHeight);
    references.set(frameHeight, refs);
  }
  const { ref, distance } = nearest(featureVector(f), refs);
  return { shape: ref.shape, distance };
}
