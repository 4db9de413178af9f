/**
 * The words of the toy world: every phrase the caption grammar can say, by meaning. The
 * grammar (caption.ts) picks from these lists and the parser (parse.ts) builds its phrase
 * dictionary from the same lists plus a few extra synonyms people use, so whatever the
 * grammar says, the parser reads back.
 */
import type { Background, Camera, Colour, Direction, Shape, Size, Speed } from "./vocab.ts";

export const COLOUR_WORDS: Readonly<Record<Colour, readonly string[]>> = {
  red: ["red"],
  orange: ["orange"],
  yellow: ["yellow"],
  green: ["green"],
  blue: ["blue"],
  purple: ["purple", "violet"],
  pink: ["pink"],
  white: ["white"],
  black: ["black"],
  brown: ["brown"],
};

export interface NounForms {
  readonly one: string;
  readonly many: string;
  /** Relative weight in the grammar (0: the parser knows it, the grammar never says it). */
  readonly weight: number;
}

export const SHAPE_WORDS: Readonly<Record<Shape, readonly NounForms[]>> = {
  ball: [
    { one: "ball", many: "balls", weight: 4 },
    { one: "circle", many: "circles", weight: 2 },
    { one: "sphere", many: "spheres", weight: 1 },
    { one: "orb", many: "orbs", weight: 0.5 },
    { one: "disc", many: "discs", weight: 0 },
    { one: "disk", many: "disks", weight: 0 },
  ],
  square: [
    { one: "square", many: "squares", weight: 4 },
    { one: "box", many: "boxes", weight: 1 },
    { one: "block", many: "blocks", weight: 1 },
    { one: "cube", many: "cubes", weight: 0 },
  ],
  triangle: [{ one: "triangle", many: "triangles", weight: 1 }],
  star: [{ one: "star", many: "stars", weight: 1 }],
  ring: [
    { one: "ring", many: "rings", weight: 3 },
    { one: "donut", many: "donuts", weight: 1 },
    { one: "hoop", many: "hoops", weight: 1 },
    { one: "doughnut", many: "doughnuts", weight: 0 },
  ],
  diamond: [
    { one: "diamond", many: "diamonds", weight: 3 },
    { one: "rhombus", many: "rhombuses", weight: 1 },
  ],
  heart: [{ one: "heart", many: "hearts", weight: 1 }],
  cross: [
    { one: "cross", many: "crosses", weight: 3 },
    { one: "plus sign", many: "plus signs", weight: 1 },
    { one: "plus shape", many: "plus shapes", weight: 0 },
  ],
};

export const SIZE_WORDS: Readonly<Record<Size, readonly string[]>> = {
  small: ["small", "little", "tiny"],
  medium: ["medium-sized", "medium", "mid-sized"],
  large: ["large", "big", "huge"],
};

/** Determiners by count; the grammar uses "a"/"an" by the next word's sound. */
export const COUNT_WORDS: Readonly<Record<1 | 2 | 3, readonly string[]>> = {
  1: ["a", "one", "a single"],
  2: ["two", "2", "a pair of"],
  3: ["three", "3"],
};

export const SPEED_WORDS: Readonly<Record<Speed, readonly string[]>> = {
  slow: ["slowly", "gently", "lazily"],
  fast: ["quickly", "rapidly", "swiftly", "fast"],
};
/** Adjective forms the parser also takes ("a slow drift"). */
export const SPEED_EXTRA: Readonly<Record<Speed, readonly string[]>> = {
  slow: ["slow", "gradually", "leisurely"],
  fast: ["quick", "rapid", "speedy", "fast-moving"],
};

export const DIRECTION_WORDS: Readonly<Record<Direction, readonly string[]>> = {
  left: ["left", "to the left", "leftward", "toward the left", "towards the left"],
  right: ["right", "to the right", "rightward", "toward the right", "towards the right"],
  up: ["up", "upward", "upwards", "toward the top"],
  down: ["down", "downward", "downwards", "toward the bottom"],
  "up-left": ["diagonally up and to the left", "up and to the left", "toward the top left", "to the upper left"],
  "up-right": ["diagonally up and to the right", "up and to the right", "toward the top right", "to the upper right"],
  "down-left": [
    "diagonally down and to the left",
    "down and to the left",
    "toward the bottom left",
    "to the lower left",
  ],
  "down-right": [
    "diagonally down and to the right",
    "down and to the right",
    "toward the bottom right",
    "to the lower right",
  ],
};

/** Single words that carry a direction component, for the parser. */
export const DIRECTION_PARTS: Readonly<Record<string, { h?: "left" | "right"; v?: "up" | "down" }>> = {
  left: { h: "left" },
  leftward: { h: "left" },
  leftwards: { h: "left" },
  right: { h: "right" },
  rightward: { h: "right" },
  rightwards: { h: "right" },
  up: { v: "up" },
  upward: { v: "up" },
  upwards: { v: "up" },
  top: { v: "up" },
  upper: { v: "up" },
  down: { v: "down" },
  downward: { v: "down" },
  downwards: { v: "down" },
  bottom: { v: "down" },
  lower: { v: "down" },
};

export type MotionKind = "move" | "bounce" | "grow" | "shrink" | "spin" | "stay";

/** A verb (phrase) in its three forms: "moves" / "move" / "moving". */
export interface Verb {
  readonly kind: MotionKind;
  readonly s: string;
  readonly base: string;
  readonly ing: string;
  /** A direction the verb implies ("rises": up). */
  readonly v?: "up" | "down";
  /** Only for these shapes in the grammar (a ball rolls). */
  readonly shapes?: readonly Shape[];
  /** Only horizontal directions in the grammar. */
  readonly horizontal?: boolean;
  /** 0: the parser knows it, the grammar never says it. */
  readonly weight: number;
}

function verb(kind: MotionKind, s: string, base: string, ing: string, weight = 1, extra: Partial<Verb> = {}): Verb {
  return { kind, s, base, ing, weight, ...extra };
}

export const VERBS: readonly Verb[] = [
  verb("move", "moves", "move", "moving", 3),
  verb("move", "drifts", "drift", "drifting", 2),
  verb("move", "slides", "slide", "sliding", 2),
  verb("move", "glides", "glide", "gliding", 1),
  verb("move", "travels", "travel", "traveling", 1),
  verb("move", "floats", "float", "floating", 1),
  verb("move", "flies", "fly", "flying", 1),
  verb("move", "heads", "head", "heading", 0.5),
  verb("move", "rolls", "roll", "rolling", 1, { shapes: ["ball", "ring"], horizontal: true }),
  verb("move", "goes", "go", "going", 0),
  verb("move", "travels", "travel", "travelling", 0),
  verb("move", "rises", "rise", "rising", 1, { v: "up" }),
  verb("move", "falls", "fall", "falling", 1, { v: "down" }),
  verb("move", "sinks", "sink", "sinking", 1, { v: "down" }),
  verb("move", "drops", "drop", "dropping", 0, { v: "down" }),
  verb("move", "ascends", "ascend", "ascending", 0, { v: "up" }),
  verb("move", "descends", "descend", "descending", 0, { v: "down" }),
  verb("bounce", "bounces", "bounce", "bouncing", 4),
  verb("bounce", "hops", "hop", "hopping", 1),
  verb("bounce", "bounces up and down", "bounce up and down", "bouncing up and down", 0),
  verb("bounce", "bounces in place", "bounce in place", "bouncing in place", 0),
  verb("grow", "grows", "grow", "growing", 3),
  verb("grow", "grows bigger", "grow bigger", "growing bigger", 1),
  verb("grow", "gets bigger", "get bigger", "getting bigger", 1),
  verb("grow", "gets larger", "get larger", "getting larger", 1),
  verb("grow", "expands", "expand", "expanding", 1),
  verb("grow", "swells", "swell", "swelling", 0.5),
  verb("grow", "enlarges", "enlarge", "enlarging", 0),
  verb("grow", "scales up", "scale up", "scaling up", 0),
  verb("shrink", "shrinks", "shrink", "shrinking", 3),
  verb("shrink", "gets smaller", "get smaller", "getting smaller", 1),
  verb("shrink", "contracts", "contract", "contracting", 1),
  verb("shrink", "shrinks away", "shrink away", "shrinking away", 0.5),
  verb("shrink", "scales down", "scale down", "scaling down", 0),
  verb("spin", "spins", "spin", "spinning", 4),
  verb("spin", "rotates", "rotate", "rotating", 2),
  verb("spin", "spins around", "spin around", "spinning around", 1),
  verb("spin", "turns around", "turn around", "turning around", 1),
  verb("spin", "twirls", "twirl", "twirling", 1),
  verb("spin", "spins in place", "spin in place", "spinning in place", 0.5),
  verb("spin", "whirls", "whirl", "whirling", 0),
  verb("stay", "stays still", "stay still", "staying still", 2),
  verb("stay", "sits still", "sit still", "sitting still", 2),
  verb("stay", "rests", "rest", "resting", 1),
  verb("stay", "remains still", "remain still", "remaining still", 1),
  verb("stay", "stays in place", "stay in place", "staying in place", 1),
  verb("stay", "stays put", "stay put", "staying put", 1),
  verb("stay", "does not move", "do not move", "not moving", 1),
  verb("stay", "sits motionless", "sit motionless", "sitting motionless", 1),
  verb("stay", "hovers in place", "hover in place", "hovering in place", 0.5),
  verb("stay", "sits", "sit", "sitting", 0),
  verb("stay", "stays", "stay", "staying", 0),
  verb("stay", "doesn't move", "don't move", "not moving", 0),
  verb("stay", "is still", "are still", "being still", 0),
];

/** Single words that mean a motion without a verb ("a motionless ball", "still"). */
export const MOTION_WORDS: Readonly<Record<string, MotionKind>> = {
  still: "stay",
  motionless: "stay",
  stationary: "stay",
  static: "stay",
  immobile: "stay",
  bouncy: "bounce",
};

/** Background noun phrases with their article; the parser strips the article. */
export const BACKGROUND_PHRASES: Readonly<Record<Background, readonly string[]>> = {
  white: ["a white background", "a plain white background", "a white backdrop", "a blank white background"],
  grey: ["a grey background", "a gray background", "a plain grey background", "a grey backdrop"],
  dark: ["a black background", "a dark background", "a plain black background", "a dark backdrop"],
  sky: ["a blue sky", "a clear blue sky", "the sky", "a bright blue sky", "a sky with soft clouds", "a daytime sky"],
  sunset: ["a sunset sky", "an orange sunset", "a sunset", "a pink sunset sky", "an evening sky", "a dusky sky"],
  night: ["a night sky", "a starry sky", "a starry night sky", "a dark starry sky", "the night sky"],
  grass: [
    "green grass",
    "a grassy field",
    "a green meadow",
    "a meadow",
    "a green lawn",
    "the grass",
    "a grassy meadow",
  ],
  checkerboard: [
    "a checkered background",
    "a checkerboard",
    "a checkerboard pattern",
    "a checkered pattern",
    "a checkered backdrop",
  ],
  stripes: ["a striped background", "diagonal stripes", "a striped pattern", "a background of diagonal stripes"],
  dots: ["a polka dot background", "polka dots", "a dotted background", "a polka dot pattern", "a dotted pattern"],
};
/** More background phrases people use, known to the parser only. */
export const BACKGROUND_EXTRA: Readonly<Record<Background, readonly string[]>> = {
  white: ["white backdrop", "plain white"],
  grey: ["gray backdrop", "plain gray background", "plain grey", "plain gray"],
  dark: ["black backdrop", "darkness", "plain black"],
  sky: ["sky", "cloudy sky", "blue sky with clouds", "daylight sky"],
  sunset: ["sunset", "dusk", "twilight", "evening", "sunset background"],
  night: ["night", "starry night", "under the stars", "night time", "nighttime", "night background"],
  grass: ["grass", "lawn", "field", "grassy field", "field of grass", "grassland", "green field"],
  checkerboard: ["checkerboard background", "checker pattern", "checkered", "chequered background", "checkers"],
  stripes: ["stripes", "striped", "stripe pattern", "striped wallpaper"],
  dots: ["dots", "polka dots", "dotted", "dot pattern", "spotted background", "polka dot"],
};

/** Prepositions that introduce a background, by kind. */
export function backgroundPrepositions(bg: Background): readonly string[] {
  switch (bg) {
    case "sky":
    case "sunset":
    case "night":
      return ["against", "in", "across", "under"];
    case "grass":
      return ["over", "on", "above"];
    default:
      return ["on", "against", "in front of"];
  }
}

/** Camera clauses the grammar says, by move: finite clauses and "with …" phrases. */
export const CAMERA_CLAUSES: Readonly<Record<Camera, readonly string[]>> = {
  static: ["the camera is still", "the camera stays fixed", "the camera does not move", "the camera is static"],
  "pan-left": [
    "the camera pans left",
    "the camera pans to the left",
    "the camera slowly pans left",
    "the view pans left",
  ],
  "pan-right": [
    "the camera pans right",
    "the camera pans to the right",
    "the camera slowly pans right",
    "the view pans right",
  ],
  "zoom-in": ["the camera zooms in", "the camera slowly zooms in", "the camera pushes in", "the view zooms in"],
  "zoom-out": ["the camera zooms out", "the camera pulls back", "the camera slowly zooms out", "the view zooms out"],
};
export const CAMERA_WITH: Readonly<Record<Camera, readonly string[]>> = {
  static: ["with a static camera", "with a fixed camera", "with a locked-off camera", "static camera", "fixed camera"],
  "pan-left": ["with the camera panning left", "with a slow pan to the left", "with a pan to the left"],
  "pan-right": ["with the camera panning right", "with a slow pan to the right", "with a pan to the right"],
  "zoom-in": ["with the camera zooming in", "with a slow zoom in", "with a zoom in"],
  "zoom-out": ["with the camera zooming out", "with a slow zoom out", "with the camera pulling back"],
};

/** Words that start a camera phrase. */
export const CAMERA_TRIGGERS: ReadonlySet<string> = new Set([
  "camera",
  "view",
  "pan",
  "pans",
  "panning",
  "zoom",
  "zooms",
  "zooming",
  "zoomed",
  "panned",
]);
/** Words a camera phrase may extend over, after its trigger ... */
export const CAMERA_AFTER: ReadonlySet<string> = new Set([
  "the",
  "camera",
  "view",
  "shot",
  "slowly",
  "slow",
  "gently",
  "gradually",
  "smoothly",
  "steadily",
  "pans",
  "pan",
  "panning",
  "panned",
  "to",
  "toward",
  "towards",
  "left",
  "right",
  "zooms",
  "zoom",
  "zooming",
  "zoomed",
  "in",
  "out",
  "is",
  "stays",
  "stay",
  "remains",
  "static",
  "still",
  "fixed",
  "locked",
  "off",
  "steady",
  "stationary",
  "pulls",
  "pull",
  "pulling",
  "back",
  "away",
  "pushes",
  "push",
  "pushing",
  "does",
  "doesnt",
  "not",
  "move",
  "moves",
  "moving",
]);
/** ... and before it. */
export const CAMERA_BEFORE: ReadonlySet<string> = new Set([
  "static",
  "fixed",
  "steady",
  "locked",
  "off",
  "slow",
  "slowly",
  "gentle",
  "gradual",
  "smooth",
  "the",
  "a",
  "an",
  "with",
]);
