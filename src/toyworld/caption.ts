/**
 * The caption grammar: turns a scene into a natural prompt in the style people write
 * ("a small blue square drifts slowly up against a sunset sky, the camera zooms in"), with
 * synonyms, optional attributes (size, speed, background, camera are sometimes left out),
 * participle and prefix forms, and varied clause order. Returns the text and exactly the
 * attributes it states (what the parser must read back).
 */
import {
  BACKGROUND_PHRASES,
  backgroundPrepositions,
  CAMERA_CLAUSES,
  CAMERA_WITH,
  COLOUR_WORDS,
  COUNT_WORDS,
  DIRECTION_WORDS,
  SHAPE_WORDS,
  SIZE_WORDS,
  SPEED_WORDS,
  VERBS,
  type Verb,
} from "./lexicon.ts";
import type { ObjectPhrase, PromptAttrs, SceneGroup } from "./prompt.ts";
import { sceneGroups } from "./prompt.ts";
import { hash32, Rng } from "./rng.ts";
import type { Scene } from "./scene.ts";
import type { Direction } from "./vocab.ts";

export interface Caption {
  readonly text: string;
  readonly attrs: PromptAttrs;
}

type Form = "s" | "base" | "ing";

function article(next: string): string {
  return /^[aeio]/.test(next) || /^u(?!ni)/.test(next) ? "an" : "a";
}

function weightedPick<T extends { weight: number }>(rng: Rng, xs: readonly T[]): T {
  return rng.weighted(xs.filter((x) => x.weight > 0).map((x) => [x, x.weight] as const));
}

/** The noun phrase: determiner, [participle], [size], colour, noun. */
function nounPhrase(rng: Rng, g: SceneGroup, p: ObjectPhrase, participle: string | null): string {
  const noun = weightedPick(rng, SHAPE_WORDS[g.shape]);
  const words: string[] = [];
  if (participle) words.push(participle);
  if (p.size) words.push(rng.pick(SIZE_WORDS[p.size]));
  words.push(rng.pick(COLOUR_WORDS[g.colour]));
  words.push(g.count === 1 ? noun.one : noun.many);
  const rest = words.join(" ");
  // Determiners by count (COUNT_WORDS order), mostly the plainest.
  const weights: Record<1 | 2 | 3, readonly number[]> = { 1: [0.86, 0.06, 0.08], 2: [0.7, 0.1, 0.2], 3: [0.85, 0.15] };
  const n = g.count as 1 | 2 | 3;
  let det = rng.weighted(COUNT_WORDS[n].map((w, i) => [w, weights[n][i] ?? 0] as const));
  if (det === "a") det = article(rest);
  return `${det} ${rest}`;
}

function verbsFor(g: SceneGroup): Verb[] {
  const m = g.motion;
  const kind = m.startsWith("move-") ? "move" : m.startsWith("bounce") ? "bounce" : m;
  const dir = m.startsWith("move-") ? (m.slice(5) as Direction) : null;
  return VERBS.filter((v) => {
    if (v.kind !== kind || v.weight <= 0) return false;
    if (v.shapes && !v.shapes.includes(g.shape)) return false;
    if (v.horizontal && dir !== "left" && dir !== "right") return false;
    if (v.v && !(dir ?? "").includes(v.v)) return false;
    return true;
  });
}

/** The verb phrase for a group in the given form, with its direction and speed. */
function verbPhrase(rng: Rng, g: SceneGroup, p: ObjectPhrase, form: Form): string {
  const verb = weightedPick(rng, verbsFor(g));
  const head = verb[form];
  const m = g.motion;
  let tail = "";
  if (m.startsWith("move-")) {
    const dir = m.slice(5) as Direction;
    if (verb.v) {
      // "rises", "sinks": the verb gives the vertical part; add the horizontal one.
      const h = dir.endsWith("left") ? "left" : dir.endsWith("right") ? "right" : null;
      tail = h ? rng.pick(DIRECTION_WORDS[h]) : "";
    } else tail = rng.pick(DIRECTION_WORDS[dir]);
  } else if (m === "bounce-left" || m === "bounce-right") {
    const h = m === "bounce-left" ? "left" : "right";
    tail = `${rng.pick(["", "", "along "])}${rng.pick(DIRECTION_WORDS[h])}`;
  } else if (m === "bounce" && verb.base === "bounce") {
    tail = rng.pick(["", "", "up and down", "in place"]);
  }
  const speed = p.speed ? rng.pick(SPEED_WORDS[p.speed]) : "";
  if (!speed) return [head, tail].filter(Boolean).join(" ");
  const single = !head.includes(" ");
  const where = rng.weighted([
    ["pre", speed === "fast" ? 0 : 1],
    ["mid", single && tail ? 1 : 0],
    ["post", 1],
  ] as const);
  if (where === "pre") return [speed, head, tail].filter(Boolean).join(" ");
  if (where === "mid") return [head, speed, tail].filter(Boolean).join(" ");
  return [head, tail, speed].filter(Boolean).join(" ");
}

function backgroundPhrase(rng: Rng, s: Scene): string {
  return `${rng.pick(backgroundPrepositions(s.background))} ${rng.pick(BACKGROUND_PHRASES[s.background])}`;
}

/** Joins clauses as "A, B and C" (or with "while" for two). */
function joinClauses(rng: Rng, parts: string[]): string {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) return `${parts[0]} ${rng.pick(["and", "and", "while"])} ${parts[1]}`;
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

function sameMotion(gs: readonly SceneGroup[], ps: readonly ObjectPhrase[]): boolean {
  return gs.every((g, i) => g.motion === gs[0]!.motion && ps[i]!.speed === ps[0]!.speed);
}

/** Verbs that read well as adjectives before the noun ("a spinning star"). */
const ADJECTIVES: Partial<Record<string, readonly string[]>> = {
  bounce: ["bouncing"],
  spin: ["spinning", "rotating"],
  grow: ["growing", "expanding"],
  shrink: ["shrinking"],
};

function participleAdjective(rng: Rng, g: SceneGroup, p: ObjectPhrase): string | null {
  const w = ADJECTIVES[g.motion];
  if (!w) return null;
  const speed = p.speed ? `${rng.pick(p.speed === "slow" ? ["slowly", "gently"] : ["quickly", "rapidly"])} ` : "";
  return `${speed}${rng.pick(w)}`;
}

/** Samples a caption for a scene; `seed` picks the wording (default: the scene's seed). */
export function captionScene(s: Scene, seed = s.seed): Caption {
  const rng = new Rng(hash32(seed, 0xca97));
  const groups = sceneGroups(s);
  const phrases: ObjectPhrase[] = groups.map((g) => ({
    count: g.count,
    colour: g.colour,
    shape: g.shape,
    ...(rng.chance(0.55) ? { size: g.size } : {}),
    motion: g.motion,
    ...(g.speed && rng.chance(0.7) ? { speed: g.speed } : {}),
  }));
  const withBackground = rng.chance(0.85);
  const withCamera = s.camera === "static" ? rng.chance(0.2) : rng.chance(0.9);
  const attrs: PromptAttrs = {
    objects: phrases,
    ...(withBackground ? { background: s.background } : {}),
    ...(withCamera ? { camera: s.camera } : {}),
  };

  const style = rng.weighted([
    ["finite", 0.45],
    ["front", 0.15],
    ["participle", 0.2],
    ["there", 0.1],
    ["adjective", groups.length === 1 && ADJECTIVES[groups[0]!.motion] ? 0.15 : 0],
  ] as const);
  const plural = (i: number) => groups[i]!.count > 1;
  let body: string;
  if (style === "adjective") {
    // "a spinning red star [against …]": the motion lives in the noun phrase.
    body = nounPhrase(rng, groups[0]!, phrases[0]!, participleAdjective(rng, groups[0]!, phrases[0]!));
    body = `${rng.pick(["", "", "a video of ", "footage of "])}${body}`;
  } else if (groups.length > 1 && sameMotion(groups, phrases) && rng.chance(0.4)) {
    // "a red ball and a blue square spin": one verb for all groups.
    const nps = groups.map((g, i) => nounPhrase(rng, g, phrases[i]!, null));
    const np = nps.length === 2 ? nps.join(" and ") : `${nps.slice(0, -1).join(", ")} and ${nps[nps.length - 1]}`;
    const form: Form = style === "participle" || style === "there" ? "ing" : "base";
    const vp = verbPhrase(rng, groups[0]!, phrases[0]!, form);
    body = style === "there" ? `there are ${np} ${vp}` : `${np} ${vp}`;
  } else {
    const form: Form = style === "participle" || style === "there" ? "ing" : "s";
    const clauses = groups.map((g, i) => {
      const f: Form = form === "s" && plural(i) ? "base" : form;
      const np = nounPhrase(rng, g, phrases[i]!, null);
      const vp = verbPhrase(rng, g, phrases[i]!, f);
      if (style === "there" && i === 0) return `there ${plural(i) ? "are" : "is"} ${np} ${vp}`;
      return `${np} ${vp}`;
    });
    body = joinClauses(rng, clauses);
    if (style === "participle")
      body = `${rng.pick(["", "a video of ", "footage of ", "an animation of ", "a clip of "])}${body}`;
  }

  let text = body;
  if (withBackground) {
    const bg = backgroundPhrase(rng, s);
    text = style === "front" ? `${bg}, ${text}` : `${text} ${bg}`;
  }
  if (withCamera) {
    const cam = s.camera;
    const how = rng.weighted([
      ["comma", 0.35],
      ["sentence", 0.2],
      ["as", 0.15],
      ["with", 0.3],
    ] as const);
    if (how === "with") {
      const w = rng.pick(CAMERA_WITH[cam]);
      text = w.startsWith("with") ? `${text} ${w}` : `${text}, ${w}`;
    } else {
      const c = rng.pick(CAMERA_CLAUSES[cam]);
      if (how === "comma") text = `${text}, ${c}`;
      else if (how === "as") text = `${text} ${rng.pick(["as", "while"])} ${c}`;
      else text = `${text}. ${c.charAt(0).toUpperCase()}${c.slice(1)}`;
    }
  }
  if (rng.chance(0.5)) text = `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
  if (rng.chance(0.5) || /\. [A-Z]/.test(text)) text = `${text}.`;
  return { text, attrs };
}
