/**
 * Samples a scene from a seed: a background, a camera move and 1–3 objects in one to three
 * groups (a group is 2–3 identical objects: "two yellow stars"). Every choice is drawn from
 * the seed's own stream, and layouts are redrawn until every object stays fully in view,
 * clear of the others, for the whole clip, so the evaluator can always see what the caption
 * says. Objects are composed: each is first tried with its mid-clip position at a slot picked
 * by its place in the caption (one object centred, two or three on the thirds) with a small
 * jitter, and placed anywhere it fits only when the slot fails. The layout is then mostly a
 * function of the caption, which a small model trained on 2 cores can learn; free placement
 * left it to the noise, and the model drew blurred averages of all places. Object colours are
 * kept clear of the background's colours (no green ball on grass).
 */
import { appearanceSamples } from "./draw-object.ts";
import { backgroundColours, floorOf } from "./background.ts";
import { checkSeed, hash32, Rng } from "./rng.ts";
import { cameraAt, poseAt, type Scene, type SceneObject, toScreen } from "./scene.ts";
import { geometry } from "./shapes.ts";
import {
  BACKGROUNDS,
  type Background,
  type Camera,
  COLOURS,
  type Colour,
  DIRECTIONS,
  hasSpeed,
  type Motion,
  PALETTE,
  PLAIN_BACKGROUNDS,
  ROUND_SHAPES,
  SHAPES,
  type Size,
  SPEEDS,
} from "./vocab.ts";

/** Smallest RGB distance between any colour an object shows and any background colour. */
export const MIN_CONTRAST = 60;
/** Gap kept between objects and between an object and the frame edge (frame heights). */
const GAP = 0.04;
const EDGE = 0.03;

const allowedCache = new Map<Background, Colour[]>();

/** Object colours that stay clear of every colour of this background. */
export function allowedColours(bg: Background): readonly Colour[] {
  const hit = allowedCache.get(bg);
  if (hit) return hit;
  const bgc = backgroundColours(bg);
  const ok = COLOURS.filter((c) =>
    appearanceSamples(PALETTE[c]).every((a) =>
      bgc.every((b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) >= MIN_CONTRAST),
    ),
  );
  allowedCache.set(bg, ok);
  return ok;
}

interface GroupSpec {
  shape: (typeof SHAPES)[number];
  colour: Colour;
  size: Size;
  motion: Motion;
  speed: (typeof SPEEDS)[number] | null;
  count: number;
}

function sampleMotion(rng: Rng, round: boolean): Motion {
  for (;;) {
    const kind = rng.weighted([
      ["move", 0.4],
      ["bounce", 0.15],
      ["grow", 0.1],
      ["shrink", 0.1],
      ["spin", 0.15],
      ["stay", 0.1],
    ] as const);
    if (kind === "move") return `move-${rng.pick(DIRECTIONS)}`;
    if (kind === "bounce") return rng.pick(["bounce", "bounce-left", "bounce-right"] as const);
    if (kind === "spin" && round) continue;
    return kind;
  }
}

function sampleSize(rng: Rng, motion: Motion, objects: number): Size {
  if (motion === "grow") return rng.pick(["small", "medium"] as const);
  if (motion === "shrink") return rng.pick(["medium", "large"] as const);
  if (objects === 3) return rng.pick(["small", "small", "medium", "large"] as const);
  return rng.pick(["small", "medium", "large"] as const);
}

function groupCounts(rng: Rng): number[] {
  const n = rng.weighted([
    [1, 0.5],
    [2, 0.3],
    [3, 0.2],
  ] as const);
  if (n === 1) return [1];
  if (n === 2) return rng.chance(0.4) ? [2] : [1, 1];
  return rng.weighted([
    [[3], 0.3],
    [[2, 1], 0.3],
    [[1, 1, 1], 0.4],
  ] as const);
}

/** True when the object stays in view with a margin for the whole clip, and clear of `others`. */
function fits(scene: Scene, o: SceneObject, others: readonly SceneObject[]): boolean {
  const steps = 32;
  for (let k = 0; k <= steps; k++) {
    const u = k / steps;
    const cam = cameraAt(scene, u);
    const p = poseAt(o, u);
    const [x, y] = toScreen(cam, p.x, p.y, scene.aspect, 1);
    const r = geometry(o.shape).bound * p.scale * cam.zoom;
    if (x - r < EDGE || x + r > scene.aspect - EDGE || y - r < EDGE || y + r > 1 - EDGE) return false;
    for (const q of others) {
      const pq = poseAt(q, u);
      const [qx, qy] = toScreen(cam, pq.x, pq.y, scene.aspect, 1);
      const rq = geometry(q.shape).bound * pq.scale * cam.zoom;
      if (Math.hypot(x - qx, y - qy) < r + rq + GAP) return false;
    }
  }
  return true;
}

/** Attempts at a composition slot before an object is placed anywhere it fits. */
const SLOT_ATTEMPTS = 24;
/** Largest offset from a slot, frame heights (about 5 px of a 128-px frame). */
const SLOT_JITTER = 0.04;

/**
 * Composition slots (screen fractions of width and height) for objects with these motions, in
 * caption order: one object in the centre; two or three on the thirds, stacked when any of them
 * moves sideways (so side-by-side objects do not cross) and side by side otherwise.
 */
export function compositionSlots(motions: readonly Motion[]): readonly (readonly [number, number])[] {
  const n = motions.length;
  const sideways = motions.some((m) => /left|right/.test(m));
  if (n <= 1) return [[0.5, 0.5]];
  const at = n === 2 ? [0.3, 0.7] : [0.2, 0.5, 0.8];
  return at.map((v) => (sideways ? ([0.5, v] as const) : ([v, 0.5] as const)));
}

/**
 * World start (x0, y0) that puts the object's mid-clip position at screen point (sx, sy) given
 * as fractions of the view. Motions are translations of the start, so the mid-clip offset does
 * not depend on it (bounce's height does, so bounces keep a drawn height and only x is set).
 */
function startForSlot(scene: Scene, o: SceneObject, sx: number, sy: number): { x0: number; y0: number } {
  const cam = cameraAt(scene, 0.5);
  const mid = poseAt({ ...o, x0: 0, y0: 0 }, 0.5);
  const wx = cam.x + ((sx - 0.5) * scene.aspect) / cam.zoom;
  const wy = cam.y + (sy - 0.5) / cam.zoom;
  return { x0: wx - mid.x, y0: o.motion.startsWith("bounce") ? o.y0 : wy - mid.y };
}

function place(
  rng: Rng,
  scene: Scene,
  g: GroupSpec,
  group: number,
  placed: SceneObject[],
  slot: readonly [number, number] | null,
): SceneObject | null {
  const floor = floorOf(scene.background);
  for (let attempt = 0; attempt < 150; attempt++) {
    const bounce = g.motion.startsWith("bounce");
    let o: SceneObject = {
      group,
      shape: g.shape,
      colour: g.colour,
      size: g.size,
      motion: g.motion,
      speed: g.speed,
      x0: scene.camX0 + (rng.next() - 0.5) * scene.aspect,
      y0: bounce ? rng.range(0.12, floor - 0.45) : rng.range(0.05, 0.95),
      spinDir: rng.chance(0.5) ? 1 : -1,
      gravity: rng.range(4.5, 7),
      floor,
    };
    if (slot && attempt < SLOT_ATTEMPTS) {
      const jx = rng.range(-SLOT_JITTER, SLOT_JITTER) / scene.aspect;
      const jy = rng.range(-SLOT_JITTER, SLOT_JITTER);
      o = { ...o, ...startForSlot(scene, o, slot[0] + jx, slot[1] + jy) };
    }
    if (fits(scene, o, placed)) return o;
  }
  return null;
}

export interface WorldOptions {
  /** Width / height of the frames the scene will be rendered at (default 1). */
  readonly aspect?: number;
}

/** A scene from a seed (any safe integer). */
export function sampleWorld(seed: number, o: WorldOptions = {}): Scene {
  checkSeed(seed);
  const aspect = o.aspect ?? 1;
  const rng = new Rng(hash32(seed, 0x5ce4e));
  const background = rng.pick(BACKGROUNDS);
  const camera: Camera = PLAIN_BACKGROUNDS.includes(background)
    ? "static"
    : rng.weighted([
        ["static", 0.4],
        ["pan-left", 0.15],
        ["pan-right", 0.15],
        ["zoom-in", 0.15],
        ["zoom-out", 0.15],
      ] as const);
  const base = {
    seed,
    aspect,
    background,
    backgroundSeed: hash32(seed, 0xb9) & 0x7fffffff,
    camera,
    camX0: rng.range(-5, 5),
  };
  const palette = allowedColours(background);
  for (let layout = 0; ; layout++) {
    // After many failed layouts fall back to one object, which always fits.
    const counts = layout < 40 ? groupCounts(rng) : [1];
    if (counts.length > palette.length) continue;
    const total = counts.reduce((a, b) => a + b, 0);
    const colours = [...palette];
    const groups: GroupSpec[] = counts.map((count) => {
      const shape = rng.pick(SHAPES);
      const colour = colours.splice(rng.int(colours.length), 1)[0]!;
      const motion = sampleMotion(rng, ROUND_SHAPES.includes(shape));
      return {
        shape,
        colour,
        motion,
        size: sampleSize(rng, motion, total),
        speed: hasSpeed(motion) ? rng.pick(SPEEDS) : null,
        count,
      };
    });
    const scene: Scene = { ...base, objects: [] };
    const placed: SceneObject[] = [];
    const slots = compositionSlots(groups.flatMap((g) => Array<Motion>(g.count).fill(g.motion)));
    let ok = true;
    for (let gi = 0; gi < groups.length && ok; gi++)
      for (let k = 0; k < groups[gi]!.count && ok; k++) {
        const obj = place(rng, scene, groups[gi]!, gi, placed, slots[placed.length] ?? null);
        if (obj) placed.push(obj);
        else ok = false;
      }
    if (ok) return { ...base, objects: placed };
  }
}
