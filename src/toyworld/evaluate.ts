/**
 * Scores videos against prompts. The prompt is parsed (parse.ts); the video analysed
 * (analyze.ts); each attribute the prompt names is checked:
 *
 * - per object group, matched to detected objects by colour first (a group of n takes up
 *   to n objects of its colour), else to the largest unmatched object: colour, shape, size,
 *   motion ("move"/"bounce" without a direction accept any direction), speed;
 * - count (when every group's count is stated), background, camera.
 *
 * Per video: {attribute: {expected, detected, correct}} and the fraction correct; quality
 * scores (stability, sharpness) ride along. evaluateMany aggregates per-attribute accuracy.
 *
 * Report-only, outside the checks and the overall score: direction, for each object group whose
 * prompt names a move in a direction ("drifts left"), whether its objects' net displacement
 * points that way (the compass sector of at least MOVE_MIN frame heights), whatever their size
 * did on the way. The motion check reads an object that also grows or shrinks as grow or shrink;
 * this one asks only the issue's "motion direction" question. Also report-only: binding, for
 * prompts naming objects of two or more different colours, whether every named colour was found
 * (each group's colour check passed); a clip whose objects all took one of the named colours
 * passes half its colour checks but fails this.
 */
import type { RgbFrame } from "../media/frames.ts";
import { analyzeVideo, type DetectedObject, type VideoAnalysis } from "./analyze.ts";
import { direction as compassDirection, MOVE_MIN } from "./classify-motion.ts";
import { parsePrompt } from "./parse.ts";
import { namedObjectCount, type ObjectPhrase, type PromptAttrs, type PromptMotion } from "./prompt.ts";
import { DIRECTIONS, type Direction } from "./vocab.ts";

export const ATTRIBUTES = ["colour", "shape", "size", "count", "motion", "speed", "background", "camera"] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export interface Check {
  readonly attribute: Attribute;
  /** Object group (0-based) for per-object attributes, null for scene attributes. */
  readonly object: number | null;
  readonly expected: string | number;
  readonly detected: string | number | null;
  readonly correct: boolean;
}

/** A direction the prompt names for an object group, and where its objects went (report-only). */
export interface DirectionCheck {
  readonly object: number;
  readonly expected: Direction;
  /** Majority over the group's objects: a compass direction, "none" (moved < MOVE_MIN), null (no object). */
  readonly detected: Direction | "none" | null;
  readonly correct: boolean;
}

export interface VideoEvaluation {
  readonly prompt: string;
  readonly parsed: PromptAttrs;
  /** Keyed by attribute ("colour"), or "colour[2]" for the second object group. */
  readonly attributes: Record<
    string,
    { expected: string | number; detected: string | number | null; correct: boolean }
  >;
  readonly checks: Check[];
  /** Report-only direction checks (see the file comment): not in `checks` nor in `score`. */
  readonly directions: DirectionCheck[];
  /** Fraction of checks passed; null when the prompt names nothing the evaluator can check. */
  readonly score: number | null;
  readonly quality: VideoAnalysis["quality"];
  readonly detected: {
    readonly objects: readonly (Pick<DetectedObject, "colour" | "shape" | "size" | "motion" | "speed" | "radius"> & {
      /** What the motion was read from: net displacement (frame heights), last/first area. */
      readonly dx: number;
      readonly dy: number;
      readonly areaRatio: number;
      /** Jitter of ln(area) around its trend (see MotionEstimate.sizeWobble). */
      readonly sizeWobble: number;
    })[];
    readonly background: string;
    readonly camera: string;
  };
}

function motionMatches(expected: PromptMotion, detected: string): boolean {
  if (expected === "move") return detected.startsWith("move-");
  if (expected === "bounce") return detected.startsWith("bounce");
  return expected === detected;
}

function majority<T>(xs: readonly T[]): T | null {
  const tally = new Map<T, number>();
  let best: T | null = null;
  let bn = 0;
  for (const x of xs) {
    const n = (tally.get(x) ?? 0) + 1;
    tally.set(x, n);
    if (n > bn) {
      bn = n;
      best = x;
    }
  }
  return best;
}

/** The direction a prompt's motion names ("move-up-left" -> "up-left"), if any. */
function namedDirection(m: PromptMotion | undefined): Direction | null {
  const d = m?.startsWith("move-") ? m.slice("move-".length) : null;
  return d !== null && (DIRECTIONS as readonly string[]).includes(d) ? (d as Direction) : null;
}

/** Where an object went: the compass sector of its net displacement, or "none" when it moved less than MOVE_MIN. */
function wentTowards(o: DetectedObject): Direction | "none" {
  const { dx, dy } = o.detail;
  return Math.hypot(dx, dy) >= MOVE_MIN ? compassDirection(dx, dy) : "none";
}

/** Picks the detected objects a prompt group refers to. */
function matchGroup(g: ObjectPhrase, free: DetectedObject[]): DetectedObject[] {
  const want = g.count ?? Number.POSITIVE_INFINITY;
  const same = g.colour ? free.filter((o) => o.colour === g.colour) : [];
  const chosen = same.length ? same.slice(0, want) : free.slice(0, 1);
  for (const o of chosen) free.splice(free.indexOf(o), 1);
  return chosen;
}

/** Checks a prompt (text or parsed attributes) against an analysed video. */
export function scoreAnalysis(a: VideoAnalysis, prompt: string | PromptAttrs): VideoEvaluation {
  const parsed = typeof prompt === "string" ? parsePrompt(prompt) : prompt;
  const checks: Check[] = [];
  const directions: DirectionCheck[] = [];
  const free = [...a.objects];
  parsed.objects.forEach((g, i) => {
    const m = matchGroup(g, free);
    const check = (attribute: Attribute, expected: string | undefined, detected: string | null, ok?: boolean) => {
      if (expected === undefined) return;
      checks.push({ attribute, object: i, expected, detected, correct: ok ?? expected === detected });
    };
    check("colour", g.colour, majority(m.map((o) => o.colour)));
    check("shape", g.shape, majority(m.map((o) => o.shape)));
    check("size", g.size, majority(m.map((o) => o.size)));
    const motion = majority(m.map((o) => o.motion));
    if (g.motion) check("motion", g.motion, motion, motion !== null && motionMatches(g.motion, motion));
    const named = namedDirection(g.motion);
    if (named) {
      const went = majority(m.map(wentTowards));
      directions.push({ object: i, expected: named, detected: went, correct: went === named });
    }
    check("speed", g.speed, majority(m.map((o) => o.speed ?? "none")));
  });
  const expected = namedObjectCount(parsed);
  if (expected !== undefined) {
    checks.push({
      attribute: "count",
      object: null,
      expected,
      detected: a.objects.length,
      correct: expected === a.objects.length,
    });
  }
  if (parsed.background)
    checks.push({
      attribute: "background",
      object: null,
      expected: parsed.background,
      detected: a.background,
      correct: parsed.background === a.background,
    });
  if (parsed.camera)
    checks.push({
      attribute: "camera",
      object: null,
      expected: parsed.camera,
      detected: a.camera,
      correct: parsed.camera === a.camera,
    });
  const multi = parsed.objects.length > 1;
  const attributes: VideoEvaluation["attributes"] = {};
  for (const c of checks) {
    const key = multi && c.object !== null ? `${c.attribute}[${c.object + 1}]` : c.attribute;
    attributes[key] = { expected: c.expected, detected: c.detected, correct: c.correct };
  }
  return {
    prompt: typeof prompt === "string" ? prompt : JSON.stringify(prompt),
    parsed,
    attributes,
    checks,
    directions,
    score: checks.length ? checks.filter((c) => c.correct).length / checks.length : null,
    quality: a.quality,
    detected: {
      objects: a.objects.map(({ colour, shape, size, motion, speed, radius, detail }) => ({
        colour,
        shape,
        size,
        motion,
        speed,
        radius: round3(radius),
        dx: round3(detail.dx),
        dy: round3(detail.dy),
        areaRatio: round3(detail.areaRatio),
        sizeWobble: round3(detail.sizeWobble),
      })),
      background: a.background,
      camera: a.camera,
    },
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Scores one video (RGB frames) against one prompt. */
export function evaluateVideo(frames: readonly RgbFrame[], prompt: string): VideoEvaluation {
  return scoreAnalysis(analyzeVideo(frames), prompt);
}

/** A value the evaluator detected where a check failed, and how often ("none": nothing detected). */
export interface Miss {
  readonly detected: string;
  readonly count: number;
}

export interface AttributeAccuracy {
  correct: number;
  total: number;
  /** null when no prompt named the attribute. */
  accuracy: number | null;
  /**
   * What was detected where the check failed, most frequent first (ties by name): tells a
   * model that draws the wrong thing from one that draws nothing, e.g. motion read as
   * grow/shrink (objects that change size) versus stay versus another direction.
   */
  misses: Miss[];
  /** Accuracy by the value the prompt named (e.g. motion: move-up 2/14, grow 7/30), by name. */
  byExpected: { expected: string; correct: number; total: number }[];
}

export interface EvaluationReport {
  readonly count: number;
  readonly attributes: Record<Attribute, AttributeAccuracy>;
  /** Fraction of all checks passed (every named attribute of every video counts once). */
  readonly overall: number | null;
  /**
   * Report-only (not in `overall`): of the object groups whose prompt named a move in a
   * direction, how many went that way, size change or not (VideoEvaluation.directions).
   */
  readonly direction: Pick<AttributeAccuracy, "correct" | "total" | "accuracy" | "misses">;
  /**
   * Report-only (not in `overall`): of the prompts naming objects of two or more different
   * colours, how many showed every named colour (see the file comment).
   */
  readonly binding: Pick<AttributeAccuracy, "correct" | "total" | "accuracy">;
  /** Mean of the per-video scores. */
  readonly meanScore: number | null;
  readonly quality: {
    readonly stability: number | null;
    readonly sharpness: number | null;
    /** Median sizeWobble over every detected object of every video (null: none found). */
    readonly sizeWobble: number | null;
  };
  readonly items: { readonly id: string; readonly prompt: string; readonly score: number | null }[];
}

function mean(xs: readonly number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A tally of detected values where checks failed, most frequent first (ties by name). */
function missList(tally: ReadonlyMap<string, number>): Miss[] {
  return [...tally.entries()]
    .map(([detected, count]) => ({ detected, count }))
    .sort((x, y) => y.count - x.count || x.detected.localeCompare(y.detected));
}

/** What `aggregate` reads of a video's evaluation: also what `reel eval --details` writes per line. */
export type ScoredVideo = Pick<VideoEvaluation, "prompt" | "checks" | "directions" | "score" | "quality"> & {
  readonly detected: {
    readonly objects: readonly Pick<VideoEvaluation["detected"]["objects"][number], "sizeWobble">[];
  };
};

/** Aggregates evaluations: per-attribute accuracy, overall accuracy, mean quality. */
export function aggregate(evals: readonly ScoredVideo[], ids?: readonly string[]): EvaluationReport {
  const attributes = Object.fromEntries(
    ATTRIBUTES.map((a): [Attribute, AttributeAccuracy] => [
      a,
      { correct: 0, total: 0, accuracy: null, misses: [], byExpected: [] },
    ]),
  ) as Record<Attribute, AttributeAccuracy>;
  const tallies = new Map<Attribute, Map<string, number>>(ATTRIBUTES.map((a) => [a, new Map()]));
  const named = new Map<Attribute, Map<string, { correct: number; total: number }>>(
    ATTRIBUTES.map((a) => [a, new Map()]),
  );
  let correct = 0;
  let total = 0;
  for (const e of evals)
    for (const c of e.checks) {
      const s = attributes[c.attribute];
      s.total++;
      total++;
      const byValue = named.get(c.attribute)!;
      const v = byValue.get(String(c.expected)) ?? { correct: 0, total: 0 };
      byValue.set(String(c.expected), { correct: v.correct + (c.correct ? 1 : 0), total: v.total + 1 });
      if (c.correct) {
        s.correct++;
        correct++;
      } else {
        const tally = tallies.get(c.attribute)!;
        const key = c.detected === null ? "none" : String(c.detected);
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
    }
  for (const [a, s] of Object.entries(attributes) as [Attribute, AttributeAccuracy][]) {
    s.accuracy = s.total ? s.correct / s.total : null;
    s.misses = missList(tallies.get(a)!);
    s.byExpected = [...named.get(a)!.entries()]
      .map(([expected, v]) => ({ expected, ...v }))
      .sort((x, y) => x.expected.localeCompare(y.expected));
  }
  const dirs = evals.flatMap((e) => e.directions);
  const dirRight = dirs.filter((d) => d.correct).length;
  const dirMisses = new Map<string, number>();
  for (const d of dirs)
    if (!d.correct) dirMisses.set(d.detected ?? "no object", (dirMisses.get(d.detected ?? "no object") ?? 0) + 1);
  const bound = evals
    .map((e) => e.checks.filter((c) => c.attribute === "colour"))
    .filter((cs) => new Set(cs.map((c) => c.expected)).size >= 2);
  const boundRight = bound.filter((cs) => cs.every((c) => c.correct)).length;
  return {
    count: evals.length,
    attributes,
    overall: total ? correct / total : null,
    binding: { correct: boundRight, total: bound.length, accuracy: bound.length ? boundRight / bound.length : null },
    direction: {
      correct: dirRight,
      total: dirs.length,
      accuracy: dirs.length ? dirRight / dirs.length : null,
      misses: missList(dirMisses),
    },
    meanScore: mean(evals.flatMap((e) => (e.score === null ? [] : [e.score]))),
    quality: {
      stability: mean(evals.map((e) => e.quality.stability)),
      sharpness: mean(evals.flatMap((e) => (e.quality.sharpness === null ? [] : [e.quality.sharpness]))),
      sizeWobble: median(evals.flatMap((e) => e.detected.objects.map((o) => o.sizeWobble))),
    },
    items: evals.map((e, i) => ({ id: ids?.[i] ?? String(i), prompt: e.prompt, score: e.score })),
  };
}

export interface EvaluationItem {
  readonly frames: readonly RgbFrame[];
  readonly prompt: string;
  readonly id?: string;
}

/** Scores many (video, prompt) pairs and aggregates them. */
export function evaluateMany(items: readonly EvaluationItem[]): EvaluationReport {
  return aggregate(
    items.map((it) => evaluateVideo(it.frames, it.prompt)),
    items.map((it, i) => it.id ?? String(i)),
  );
}
