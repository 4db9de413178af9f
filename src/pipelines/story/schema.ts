/**
 * The story file (YAML or JSON): what `reel story plan` writes, what a person edits, and what
 * `reel story render` reads. One zod schema validates every source (the offline planner, a
 * language model's plan, a hand-written file); docs/story.md documents it field by field.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ReelError } from "../../errors.ts";
import { parseWith, seedSchema } from "../../validate.ts";

export const SHOT_SIZES = ["wide", "medium", "close"] as const;
export const CAMERA_MOVES = [
  "static",
  "slow push-in",
  "pull-out",
  "pan left",
  "pan right",
  "tilt up",
  "tilt down",
  "tracking",
  "handheld",
  "orbit",
] as const;
export const TRANSITIONS = ["cut", "crossfade"] as const;
export const CONTINUITY = ["continue", "cut"] as const;

const text = (max: number) => z.string().trim().min(1).max(max);
/** espeak-ng voice names: `en`, `en-us`, `cmn`, `fr`, ... (checked against the installed voices at render time). */
const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i, "a language code such as en, en-us, cmn, fr, de")
  .default("en");

export const LineSchema = z
  .object({
    text: text(1000),
    language,
  })
  .strict();

export const DialogueSchema = LineSchema.extend({
  /** Who speaks: a character's name (shown in subtitles). */
  character: text(80),
}).strict();

export const CharacterSchema = z
  .object({
    name: text(80),
    description: text(1000),
    /** A reference image (path relative to the story file); first frame of shots that show it, where the model takes images. */
    image: z.string().min(1).optional(),
  })
  .strict();

export const ShotSchema = z
  .object({
    prompt: text(2000),
    /** Seconds; rounded to the model's frame grid (4n + 1 frames). */
    duration: z.number().positive().max(60),
    size: z.enum(SHOT_SIZES).default("medium"),
    camera: z.enum(CAMERA_MOVES).default("static"),
    /** How this shot joins the previous one in the edit. */
    transition: z.enum(TRANSITIONS).default("cut"),
    /** continue: start from the previous shot's last frame (image-to-video) or, without image input, its seed. */
    continuity: z.enum(CONTINUITY).default("cut"),
    /** Names of the characters this shot shows; their descriptions are added to the prompt. */
    characters: z.array(text(80)).default([]),
    seed: seedSchema().optional(),
    narration: LineSchema.optional(),
    dialogue: DialogueSchema.optional(),
  })
  .strict();

export const StorySchema = z
  .object({
    version: z.literal(1).default(1),
    title: text(200),
    /** Appended to every shot's prompt: the look shared by the whole film. */
    style: z.string().trim().max(500).default(""),
    model: z.string().min(1).optional(),
    seed: seedSchema().optional(),
    width: z.number().int().positive().max(4096).optional(),
    height: z.number().int().positive().max(4096).optional(),
    fps: z.number().positive().max(120).optional(),
    steps: z.number().int().min(1).max(1000).optional(),
    /** Length of each crossfade, seconds. */
    crossfade: z.number().positive().max(5).default(0.25),
    /** An audio file mixed under the voices, ducked while they speak. */
    soundtrack: z.string().min(1).optional(),
    /** Burn the subtitles into the picture (they are always written as .vtt and .srt). */
    burn_subtitles: z.boolean().default(false),
    characters: z.array(CharacterSchema).default([]),
    shots: z.array(ShotSchema).min(1, "a story needs at least one shot").max(200),
    /** Written by `reel story render` into the resolved plan; ignored when read back. */
    resolved: z.unknown().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const names = new Set<string>();
    s.characters.forEach((c, i) => {
      const k = c.name.toLowerCase();
      if (names.has(k))
        ctx.addIssue({ code: "custom", path: ["characters", i, "name"], message: `duplicate ${c.name}` });
      names.add(k);
    });
    s.shots.forEach((shot, i) => {
      shot.characters.forEach((n, j) => {
        if (!names.has(n.toLowerCase()))
          ctx.addIssue({
            code: "custom",
            path: ["shots", i, "characters", j],
            message: `unknown character "${n}"; declared: ${[...names].join(", ") || "(none)"}`,
          });
      });
      if (shot.narration && shot.dialogue)
        ctx.addIssue({ code: "custom", path: ["shots", i], message: "a shot has narration or dialogue, not both" });
      if (shot.dialogue && !names.has(shot.dialogue.character.toLowerCase()))
        ctx.addIssue({
          code: "custom",
          path: ["shots", i, "dialogue", "character"],
          message: `unknown character "${shot.dialogue.character}"`,
        });
      if (i === 0 && shot.continuity === "continue")
        ctx.addIssue({ code: "custom", path: ["shots", 0, "continuity"], message: "the first shot cannot continue" });
    });
    if ((s.width === undefined) !== (s.height === undefined))
      ctx.addIssue({ code: "custom", path: ["width"], message: "give width and height together" });
  });

export type Story = z.output<typeof StorySchema>;
export type StoryInput = z.input<typeof StorySchema>;
export type Shot = Story["shots"][number];
export type Character = Story["characters"][number];

/** Validates a parsed story; the error names every bad field and what is allowed. */
export function parseStory(raw: unknown, where = "story"): Story {
  const { resolved: _ignored, ...story } = parseWith(StorySchema, raw, "E_INPUT_INVALID", where);
  return story;
}

/** Parses story text: JSON when it looks like JSON, YAML otherwise. */
export function parseStoryText(src: string, where = "story"): Story {
  let raw: unknown;
  try {
    raw = /^\s*[{[]/.test(src) ? JSON.parse(src) : parseYaml(src);
  } catch (e) {
    throw new ReelError("E_INPUT_INVALID", `${where}: not valid JSON or YAML (${(e as Error).message})`, { cause: e });
  }
  return parseStory(raw, where);
}

export function readStoryFile(path: string): Story {
  let src: string;
  try {
    src = readFileSync(path, "utf8");
  } catch (e) {
    throw new ReelError("E_IO", `cannot read story file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseStoryText(src, path);
}

/** The JSON Schema of a story file (for language models and editors). */
export function storyJsonSchema(): unknown {
  return z.toJSONSchema(StorySchema, { io: "input", unrepresentable: "any" });
}
