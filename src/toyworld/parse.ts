/**
 * Reads a prompt back into attributes. Every caption the grammar (caption.ts) produces
 * parses to exactly the attributes it was made from; free prompts ("red ball moving right",
 * "a blue circle") parse as far as their words go, the rest left unspecified.
 *
 * How: lower-case tokens; camera phrases are found around their trigger words ("camera",
 * "pans", "zoom") and removed; the rest is matched against a phrase dictionary built from
 * the lexicon, longest phrase first. Noun phrases end at a shape noun and collect the
 * determiner, size, colour (and a participle: "a spinning star") before it; verbs, directions
 * and speeds after a noun phrase go to it, or to all noun phrases joined before one verb
 * ("a ball and a square spin"). Colours inside background phrases ("green grass") belong
 * to the background.
 */
import {
  BACKGROUND_EXTRA,
  BACKGROUND_PHRASES,
  CAMERA_AFTER,
  CAMERA_BEFORE,
  CAMERA_TRIGGERS,
  COLOUR_WORDS,
  COUNT_WORDS,
  DIRECTION_PARTS,
  MOTION_WORDS,
  type MotionKind,
  SHAPE_WORDS,
  SIZE_WORDS,
  SPEED_EXTRA,
  SPEED_WORDS,
  VERBS,
} from "./lexicon.ts";
import type { ObjectPhrase, PromptAttrs, PromptMotion } from "./prompt.ts";
import {
  BACKGROUNDS,
  type Background,
  type Camera,
  COLOURS,
  type Colour,
  SHAPES,
  type Shape,
  SIZES,
  type Size,
  SPEEDS,
  type Speed,
} from "./vocab.ts";

type Item =
  | { t: "colour"; v: Colour }
  | { t: "shape"; v: Shape; plural: boolean }
  | { t: "size"; v: Size }
  | { t: "count"; v: number }
  | { t: "speed"; v: Speed }
  | { t: "dir"; h?: "left" | "right"; v?: "up" | "down" }
  | { t: "verb"; kind: MotionKind; v?: "up" | "down" }
  | { t: "background"; v: Background | null };

/** Lower-case words; punctuation becomes ","; hyphens split words; apostrophes vanish. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]/g, "")
    .replace(/[-–—/]/g, " ")
    .replace(/[.,;:!?()"[\]]/g, " , ")
    .split(/\s+/)
    .filter(Boolean);
}

interface Entry {
  readonly words: readonly string[];
  readonly item: Item;
}

function buildDictionary(): Map<string, Entry[]> {
  const dict = new Map<string, Entry[]>();
  const add = (phrase: string, item: Item) => {
    const words = tokenize(phrase);
    const first = words[0];
    if (!first) return;
    const list = dict.get(first) ?? [];
    if (!list.some((e) => e.words.join(" ") === words.join(" "))) list.push({ words, item });
    dict.set(first, list);
  };
  for (const c of COLOURS) for (const w of COLOUR_WORDS[c]) add(w, { t: "colour", v: c });
  for (const s of SHAPES)
    for (const n of SHAPE_WORDS[s]) {
      add(n.one, { t: "shape", v: s, plural: false });
      add(n.many, { t: "shape", v: s, plural: true });
    }
  for (const s of SIZES) for (const w of SIZE_WORDS[s]) add(w, { t: "size", v: s });
  for (const [n, ws] of Object.entries(COUNT_WORDS)) for (const w of ws) add(w, { t: "count", v: Number(n) });
  add("an", { t: "count", v: 1 });
  for (const s of SPEEDS) for (const w of [...SPEED_WORDS[s], ...SPEED_EXTRA[s]]) add(w, { t: "speed", v: s });
  for (const [w, d] of Object.entries(DIRECTION_PARTS)) add(w, { t: "dir", ...d });
  for (const v of VERBS)
    for (const form of [v.s, v.base, v.ing]) add(form, { t: "verb", kind: v.kind, ...(v.v ? { v: v.v } : {}) });
  for (const [w, kind] of Object.entries(MOTION_WORDS)) add(w, { t: "verb", kind });
  for (const b of BACKGROUNDS)
    for (const p of [...BACKGROUND_PHRASES[b], ...BACKGROUND_EXTRA[b]])
      add(p.replace(/^(a|an|the) /, ""), { t: "background", v: b });
  // "<colour> background": the colour belongs to the background, whichever it is.
  const plain: Record<string, Background> = { white: "white", grey: "grey", gray: "grey", black: "dark", dark: "dark" };
  for (const w of [...COLOURS.flatMap((c) => COLOUR_WORDS[c]), "gray", "grey", "dark"])
    for (const noun of ["background", "backdrop", "backround", "wall"])
      for (const pre of ["", "plain ", "solid "]) add(`${pre}${w} ${noun}`, { t: "background", v: plain[w] ?? null });
  for (const list of dict.values()) list.sort((a, b) => b.words.length - a.words.length);
  return dict;
}

let dictionary: Map<string, Entry[]> | null = null;

/** Finds camera phrases, returns the camera move they state and the tokens without them. */
function extractCamera(tokens: string[]): { camera: Camera | undefined; rest: string[] } {
  let camera: Camera | undefined;
  const keep = tokens.map(() => true);
  for (let i = 0; i < tokens.length; i++) {
    if (!CAMERA_TRIGGERS.has(tokens[i]!) || !keep[i]) continue;
    let a = i;
    // Extend left over camera words, but not past "with" ("… slowly with a slow pan").
    while (a > 0 && CAMERA_BEFORE.has(tokens[a - 1]!) && tokens[a] !== "with") a--;
    let b = i + 1;
    while (b < tokens.length && CAMERA_AFTER.has(tokens[b]!)) b++;
    const span = tokens.slice(a, b);
    for (let k = a; k < b; k++) keep[k] = false;
    const has = (...ws: string[]) => ws.some((w) => span.includes(w));
    if (has("pan", "pans", "panning", "panned", "moves", "moving", "move") && !has("not")) {
      if (has("left")) camera = "pan-left";
      else if (has("right")) camera = "pan-right";
    } else if (has("zoom", "zooms", "zooming", "zoomed", "push", "pushes", "pushing", "pull", "pulls", "pulling")) {
      if (has("in", "push", "pushes", "pushing")) camera = "zoom-in";
      else if (has("out", "back", "away", "pull", "pulls", "pulling")) camera = "zoom-out";
    } else if (has("static", "still", "fixed", "locked", "steady", "stationary", "not")) camera = "static";
    i = b - 1;
  }
  return { camera, rest: tokens.filter((_, k) => keep[k]) };
}

function match(tokens: readonly string[]): Item[] {
  dictionary ??= buildDictionary();
  const items: Item[] = [];
  for (let i = 0; i < tokens.length; ) {
    const entries = dictionary.get(tokens[i]!) ?? [];
    const hit = entries.find((e) => e.words.every((w, k) => tokens[i + k] === w));
    if (hit) {
      items.push(hit.item);
      i += hit.words.length;
    } else i++;
  }
  return items;
}

interface Building {
  phrase: ObjectPhrase;
  kind?: MotionKind;
  h?: "left" | "right";
  v?: "up" | "down";
}

interface Pending {
  count?: number;
  size?: Size;
  colour?: Colour;
  kind?: MotionKind;
  impliedV?: "up" | "down";
  speed?: Speed;
  h?: "left" | "right";
  v?: "up" | "down";
}

function finishMotion(b: Building): PromptMotion | undefined {
  switch (b.kind) {
    case undefined:
      return undefined;
    case "move":
      if (b.v && b.h) return `move-${b.v}-${b.h}`;
      if (b.v) return `move-${b.v}`;
      if (b.h) return `move-${b.h}`;
      return "move";
    case "bounce":
      return b.h ? `bounce-${b.h}` : "bounce";
    default:
      return b.kind;
  }
}

/** Parses a prompt into the attributes it states. */
export function parsePrompt(text: string): PromptAttrs {
  const { camera, rest } = extractCamera(tokenize(text));
  const items = match(rest);
  const built: Building[] = [];
  let current: Building[] = [];
  let currentHasVerb = false;
  let pending: Pending = {};
  let background: Background | undefined;
  const hasModifiers = () => pending.count !== undefined || pending.size !== undefined || pending.colour !== undefined;
  const target = (): Building[] | null => (hasModifiers() || current.length === 0 ? null : current);

  for (const it of items) {
    switch (it.t) {
      case "count":
        pending.count = it.v;
        break;
      case "size":
        pending.size = it.v;
        break;
      case "colour":
        pending.colour = it.v;
        break;
      case "shape": {
        const b: Building = {
          phrase: {
            ...(pending.count !== undefined ? { count: pending.count } : it.plural ? {} : { count: 1 }),
            ...(pending.colour ? { colour: pending.colour } : {}),
            shape: it.v,
            ...(pending.size ? { size: pending.size } : {}),
            ...(pending.speed ? { speed: pending.speed } : {}),
          },
          ...(pending.kind ? { kind: pending.kind } : {}),
          ...(pending.h ? { h: pending.h } : {}),
          ...((pending.v ?? pending.impliedV) ? { v: pending.v ?? pending.impliedV } : {}),
        };
        built.push(b);
        if (currentHasVerb) {
          current = [];
          currentHasVerb = false;
        }
        current.push(b);
        if (b.kind) currentHasVerb = true;
        pending = {};
        break;
      }
      case "verb": {
        const to = target();
        if (!to) {
          pending.kind ??= it.kind;
          if (it.v) pending.impliedV ??= it.v;
          break;
        }
        for (const b of to)
          if (!b.kind) {
            b.kind = it.kind;
            if (it.v && !b.v) b.v = it.v;
          }
        currentHasVerb = true;
        break;
      }
      case "speed": {
        const to = target();
        if (to) for (const b of to) b.phrase.speed = it.v;
        else pending.speed = it.v;
        break;
      }
      case "dir": {
        const to = target();
        for (const b of to ?? [])
          if (b.kind === "move" || b.kind === "bounce" || b.kind === undefined) {
            if (it.h) b.h = it.h;
            if (it.v) b.v = it.v;
          }
        if (!to) {
          if (it.h) pending.h = it.h;
          if (it.v) pending.v = it.v;
        }
        break;
      }
      case "background":
        if (it.v) background = it.v;
        pending = {};
        break;
    }
  }
  // A prompt without a shape noun ("something red moving left") still names one object.
  if (built.length === 0 && (pending.colour || pending.kind || pending.size)) {
    built.push({
      phrase: {
        ...(pending.count !== undefined ? { count: pending.count } : {}),
        ...(pending.colour ? { colour: pending.colour } : {}),
        ...(pending.size ? { size: pending.size } : {}),
        ...(pending.speed ? { speed: pending.speed } : {}),
      },
      ...(pending.kind ? { kind: pending.kind } : {}),
      ...(pending.h ? { h: pending.h } : {}),
      ...((pending.v ?? pending.impliedV) ? { v: pending.v ?? pending.impliedV } : {}),
    });
  }
  const objects = built.map((b) => {
    const motion = finishMotion(b);
    return motion ? { ...b.phrase, motion } : b.phrase;
  });
  return {
    objects,
    ...(background ? { background } : {}),
    ...(camera ? { camera } : {}),
  };
}
