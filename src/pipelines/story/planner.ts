/**
 * The offline storyboard planner: a few prompts -> a shot list, deterministically (the same
 * prompts and options always give the same plan; no randomness, no network).
 *
 * Rules (docs/story.md):
 * - shot sizes: the first shot is an establishing wide shot, the last a close-up, the ones
 *   between medium; `coverage: 2` adds a second angle per prompt (wide->medium, medium->close).
 * - camera moves follow the size: wide = slow push-in (or pan), medium = tracking, close = static.
 * - characters: given ones, or the subject of the first prompt ("a small red fox wakes up" ->
 *   fox: "a small red fox"). A shot shows a character when its prompt names it or starts
 *   with a pronoun right after a shot that showed it.
 * - narration (`narrate`): each prompt is spoken over its shot, and the shot lasts at least
 *   as long as the line (speechSeconds).
 * - continuity: a pronoun-led prompt continues the previous shot's action (hard cut, continue);
 *   a prompt that jumps in time ("later", "at night", "finally", ...) dissolves (crossfade).
 */
import type { Character, Shot, Story, StoryInput } from "./schema.ts";
import { parseStory, SHOT_SIZES } from "./schema.ts";

export const DEFAULT_STYLE = "cinematic, natural light, consistent colour grade, 35mm film look";

export interface PlanOptions {
  readonly title?: string;
  readonly style?: string;
  /** Seconds per shot (the model's default clip length is a good choice); a narrated shot is lengthened to fit its line. */
  readonly duration: number;
  readonly characters?: readonly Character[];
  /** Shots per prompt: 1 (default) or 2 (a second angle). */
  readonly coverage?: 1 | 2;
  /** Speak each prompt as narration in this language. */
  readonly narrate?: string;
  readonly seed?: number;
  readonly model?: string;
}

const PRONOUNS = new Set(["it", "he", "she", "they", "its", "his", "her", "their", "then"]);
const TIME_JUMP =
  /\b(later|meanwhile|at night|that night|next (?:day|morning)|the next|finally|in the end|years? later|hours? later|morning|evening|dawn|dusk|afterwards?)\b/i;
const ARTICLES = new Set(["a", "an", "the", "one"]);
const BREAKS = new Set([
  "with",
  "in",
  "on",
  "at",
  "by",
  "of",
  "near",
  "under",
  "over",
  "from",
  "and",
  "who",
  "that",
  "is",
  "are",
  "was",
  "sits",
  "runs",
]);

/**
 * About how long espeak-ng takes to say a line at its default rate (measured with espeak-ng
 * 1.51: about 0.26 s per English word, 0.43 s per Mandarin syllable), plus the 0.15 s lead-in
 * and a short pause, rounded up to 0.25 s.
 */
export function speechSeconds(text: string): number {
  const cjk = (text.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu) ?? []).length;
  const latin = (
    text
      .replace(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu, " ")
      .match(/[\p{L}\p{N}'-]+/gu) ?? []
  ).length;
  const s = latin * 0.26 + cjk * 0.43 + 0.5;
  return Math.ceil(s * 4) / 4;
}

const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}'-]+/gu) ?? [];

/**
 * The subject of a prompt: its leading noun phrase. Returns the name (the phrase's last
 * word before any qualifier) and the description (the phrase with its qualifier, up to the verb).
 */
export function subjectOf(prompt: string): Character | null {
  const w = prompt.trim().split(/\s+/);
  const first = w[0]?.toLowerCase().replace(/[^a-z]/g, "");
  if (first === undefined || !ARTICLES.has(first)) return null;
  let nameEnd = -1;
  let end = 1;
  for (let i = 1; i < w.length; i++) {
    const t = w[i]!.toLowerCase().replace(/[^\p{L}'-]/gu, "");
    const verbLike = i > 1 && (/(s|ing)$/.test(t) || (t.length > 4 && t.endsWith("ed"))) && !/(ss|us)$/.test(t);
    if (BREAKS.has(t)) {
      if (nameEnd < 0) nameEnd = i - 1;
      if (t !== "with") break;
      end = i + 1;
      continue;
    }
    if (verbLike) break;
    end = i + 1;
    if (/[,.;:]$/.test(w[i]!)) break;
  }
  if (nameEnd < 0) nameEnd = end - 1;
  if (nameEnd < 1) return null;
  const name = w[nameEnd]!.toLowerCase().replace(/[^\p{L}'-]/gu, "");
  const description = w
    .slice(0, end)
    .join(" ")
    .replace(/[,.;:]+$/, "");
  if (!name) return null;
  return { name, description };
}

function mentions(prompt: string, c: Character): boolean {
  return words(prompt).includes(c.name.toLowerCase());
}

function cameraFor(size: Shot["size"], index: number): Shot["camera"] {
  if (size === "wide") return index === 0 ? "slow push-in" : index % 2 ? "pan right" : "pan left";
  if (size === "medium") return "tracking";
  return "static";
}

/** Plans a story from prompts. Pure and deterministic. */
export function planStory(prompts: readonly string[], o: PlanOptions): Story {
  const list = prompts.map((p) => p.trim()).filter((p) => p.length > 0);
  const characters: Character[] = [...(o.characters ?? [])];
  if (characters.length === 0 && list[0]) {
    const s = subjectOf(list[0]);
    if (s) characters.push(s);
  }
  const shots: StoryInput["shots"] = [];
  let previous: string[] = [];
  list.forEach((prompt, i) => {
    const size: Shot["size"] =
      i === 0 ? "wide" : i === list.length - 1 && list.length > 2 ? "close" : list.length === 2 ? "close" : "medium";
    const firstWord = words(prompt)[0] ?? "";
    const pronounLed = PRONOUNS.has(firstWord);
    const shown = characters
      .filter(
        (c) => mentions(prompt, c) || (pronounLed && previous.includes(c.name)) || (i === 0 && c === characters[0]),
      )
      .map((c) => c.name);
    const timeJump = i > 0 && TIME_JUMP.test(prompt);
    const continues = i > 0 && pronounLed && !timeJump;
    const base = {
      prompt,
      duration: o.narrate ? Math.max(o.duration, speechSeconds(prompt)) : o.duration,
      characters: shown,
      ...(o.narrate ? { narration: { text: prompt, language: o.narrate } } : {}),
    };
    shots.push({
      ...base,
      size,
      camera: cameraFor(size, i),
      transition: i > 0 && !continues ? "crossfade" : "cut",
      continuity: continues ? "continue" : "cut",
    });
    if (o.coverage === 2) {
      const next = SHOT_SIZES[Math.min(SHOT_SIZES.indexOf(size) + 1, SHOT_SIZES.length - 1)]!;
      const { narration: _n, ...rest } = base as typeof base & { narration?: unknown };
      shots.push({
        ...rest,
        duration: o.duration,
        size: next,
        camera: cameraFor(next, i + 1),
        transition: "cut",
        continuity: "continue",
      });
    }
    previous = shown;
  });
  const title = o.title ?? (list[0] ? list[0].replace(/[.!?]+$/, "").slice(0, 80) : "untitled");
  return parseStory(
    {
      title,
      style: o.style ?? DEFAULT_STYLE,
      ...(o.model ? { model: o.model } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      characters,
      shots,
    },
    "planner",
  );
}

/** Words the prompt composer uses for each shot size and camera move. */
export const SIZE_WORDS: Record<Shot["size"], string> = {
  wide: "establishing wide shot",
  medium: "medium shot",
  close: "close-up",
};

/** The prompt a model receives for one shot: the action, size and camera, who is in it, the style line. */
export function composePrompt(story: Story, shot: Shot): string {
  const who = shot.characters
    .map((n) => story.characters.find((c) => c.name.toLowerCase() === n.toLowerCase()))
    .filter((c): c is Character => c !== undefined)
    .map((c) => `${c.name}: ${c.description}`);
  const camera = shot.camera === "static" ? "static camera" : `camera ${shot.camera}`;
  // The action first (what the model must show), then framing, who is in it, the style line.
  const parts = [`${shot.prompt.replace(/[.\s]+$/, "")}. ${SIZE_WORDS[shot.size]}, ${camera}.`];
  if (who.length) parts.push(`${who.join("; ")}.`);
  if (story.style) parts.push(`${story.style.replace(/[.\s]+$/, "")}.`);
  return parts.join(" ");
}
