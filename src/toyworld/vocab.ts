/**
 * The toy world's closed vocabulary: object kinds, colours, sizes, motions, speeds,
 * backgrounds and camera moves, with the numbers that make them visible (palette RGB,
 * area-equivalent radii). Shared by the sampler, the renderer, the captions, the parser
 * and the evaluator, so a word always means the same pixels.
 */

export const SHAPES = ["ball", "square", "triangle", "star", "ring", "diamond", "heart", "cross"] as const;
export type Shape = (typeof SHAPES)[number];

/** Shapes whose rotation cannot be seen (a spinning ball looks still), so they never spin. */
export const ROUND_SHAPES: readonly Shape[] = ["ball", "ring"];

export const COLOURS = [
  "red",
  "orange",
  "yellow",
  "green",
  "blue",
  "purple",
  "pink",
  "white",
  "black",
  "brown",
] as const;
export type Colour = (typeof COLOURS)[number];
export type Rgb = readonly [number, number, number];

/** Base RGB of each colour: pairwise far apart (≥ 60 in RGB) even after the ±25 % shading. */
export const PALETTE: Readonly<Record<Colour, Rgb>> = {
  red: [214, 38, 38],
  orange: [246, 132, 24],
  yellow: [246, 214, 36],
  green: [44, 160, 60],
  blue: [36, 84, 216],
  purple: [132, 54, 184],
  pink: [246, 124, 188],
  white: [246, 246, 246],
  black: [28, 28, 30],
  brown: [122, 72, 34],
};

export const SIZES = ["small", "medium", "large"] as const;
export type Size = (typeof SIZES)[number];

/** Area-equivalent radius (√(area/π)) of each size at the first frame, in frame heights. */
export const SIZE_RADIUS: Readonly<Record<Size, number>> = { small: 0.075, medium: 0.11, large: 0.16 };

export const SPEEDS = ["slow", "fast"] as const;
export type Speed = (typeof SPEEDS)[number];

export const DIRECTIONS = ["left", "right", "up", "down", "up-left", "up-right", "down-left", "down-right"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Unit screen vector of a direction (y grows downwards). */
export function directionVector(d: Direction): readonly [number, number] {
  const s = Math.SQRT1_2;
  switch (d) {
    case "left":
      return [-1, 0];
    case "right":
      return [1, 0];
    case "up":
      return [0, -1];
    case "down":
      return [0, 1];
    case "up-left":
      return [-s, -s];
    case "up-right":
      return [s, -s];
    case "down-left":
      return [-s, s];
    case "down-right":
      return [s, s];
  }
}

export const MOTIONS = [
  "move-left",
  "move-right",
  "move-up",
  "move-down",
  "move-up-left",
  "move-up-right",
  "move-down-left",
  "move-down-right",
  "bounce",
  "bounce-left",
  "bounce-right",
  "grow",
  "shrink",
  "spin",
  "stay",
] as const;
export type Motion = (typeof MOTIONS)[number];

/** Motions that come at a slow or fast speed; the others (bounce, stay) have none. */
export function hasSpeed(m: Motion): boolean {
  return m.startsWith("move-") || m === "grow" || m === "shrink" || m === "spin";
}

export const BACKGROUNDS = [
  "white",
  "grey",
  "dark",
  "sky",
  "sunset",
  "night",
  "grass",
  "checkerboard",
  "stripes",
  "dots",
] as const;
export type Background = (typeof BACKGROUNDS)[number];

/** Backgrounds without texture: a pan or zoom over them cannot be seen, so their camera is static. */
export const PLAIN_BACKGROUNDS: readonly Background[] = ["white", "grey", "dark"];

export const CAMERAS = ["static", "pan-left", "pan-right", "zoom-in", "zoom-out"] as const;
export type Camera = (typeof CAMERAS)[number];

/** Camera travel over a clip: a pan moves the view by this many frame heights ... */
export const PAN_DISTANCE = 0.3;
/** ... and a zoom scales it by this factor (in) or its inverse (out). */
export const ZOOM_FACTOR = 1.5;

/** Default clip: 17 frames of 128×128 at 16 fps. */
export const DEFAULT_CLIP = { width: 128, height: 128, frames: 17, fps: 16 } as const;
