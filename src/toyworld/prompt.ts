/**
 * What a prompt says about a video, attribute by attribute: the caption grammar produces it
 * from a scene, the parser recovers it from text, and the evaluator checks a video against
 * it. An attribute left undefined is unspecified.
 */
import type { Scene } from "./scene.ts";
import type { Background, Camera, Colour, Motion, Shape, Size, Speed } from "./vocab.ts";

/** A motion as a prompt can state it: a world motion, or "move" with no direction given. */
export type PromptMotion = Motion | "move";

/** One group of identical objects ("two small yellow stars spinning"). */
export interface ObjectPhrase {
  /** Number of objects; undefined for a bare plural ("stars"). */
  count?: number;
  colour?: Colour;
  shape?: Shape;
  size?: Size;
  motion?: PromptMotion;
  speed?: Speed;
}

export interface PromptAttrs {
  objects: ObjectPhrase[];
  background?: Background;
  camera?: Camera;
}

/**
 * How many objects a prompt names in all ("a red ball and two blue stars": 3); undefined where
 * it names none or leaves a group's count unstated (a bare plural: "stars").
 */
export function namedObjectCount(p: PromptAttrs): number | undefined {
  if (!p.objects.length || p.objects.some((g) => g.count === undefined)) return undefined;
  return p.objects.reduce((n, g) => n + g.count!, 0);
}

/** A scene's object groups, in order, each with its size. */
export interface SceneGroup {
  readonly count: number;
  readonly shape: Shape;
  readonly colour: Colour;
  readonly size: Size;
  readonly motion: Motion;
  readonly speed: Speed | null;
}

export function sceneGroups(s: Scene): SceneGroup[] {
  const out: SceneGroup[] = [];
  for (const o of s.objects) {
    const g = out[o.group];
    if (g) out[o.group] = { ...g, count: g.count + 1 };
    else out[o.group] = { count: 1, shape: o.shape, colour: o.colour, size: o.size, motion: o.motion, speed: o.speed };
  }
  return out;
}

/** Everything about a scene, as a prompt that names every attribute would state it. */
export function fullAttrs(s: Scene): PromptAttrs {
  return {
    objects: sceneGroups(s).map((g) => ({
      count: g.count,
      colour: g.colour,
      shape: g.shape,
      size: g.size,
      motion: g.motion,
      ...(g.speed ? { speed: g.speed } : {}),
    })),
    background: s.background,
    camera: s.camera,
  };
}
