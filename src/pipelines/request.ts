/**
 * The generation request: one zod schema validated at the edges (CLI flags, HTTP bodies),
 * then checked against the chosen model's rules (`checkAgainstModel`). Pipelines receive the
 * parsed, resolved form and never re-validate.
 */
import { z } from "zod";
import { DEVICES } from "../engine/runtime.ts";
import { ReelError } from "../errors.ts";
import { parseWith, seedSchema } from "../validate.ts";

export const SAMPLERS = ["unipc", "dpm++", "euler"] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const MAX_PROMPT_CHARS = 4000;

export const GenerateRequestSchema = z
  .object({
    prompt: z.string().trim().min(1, "prompt must not be empty").max(MAX_PROMPT_CHARS),
    negative_prompt: z.string().max(MAX_PROMPT_CHARS).optional(),
    model: z.string().min(1).optional(),
    /** First frame (image-to-video). A file path on the CLI; bytes in the server. */
    image: z.string().min(1).optional(),
    /** Last frame (first-last-frame-to-video). */
    last_image: z.string().min(1).optional(),
    width: z.number().int().positive().max(4096).optional(),
    height: z.number().int().positive().max(4096).optional(),
    frames: z.number().int().positive().max(1025).optional(),
    fps: z.number().positive().max(120).optional(),
    steps: z.number().int().min(1).max(1000).optional(),
    guidance: z.number().min(0).max(50).optional(),
    shift: z.number().positive().max(100).optional(),
    sampler: z.enum(SAMPLERS).optional(),
    seed: seedSchema().optional(),
    device: z.enum(DEVICES as [string, ...string[]]).optional(),
    threads: z.number().int().positive().max(256).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.last_image !== undefined && r.image === undefined)
      ctx.addIssue({ code: "custom", path: ["last_image"], message: "a last frame needs a first frame (image)" });
  });

export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

/** Parses a request; the error names every bad field and what is allowed. */
export function parseRequest(raw: unknown, where = "request"): GenerateRequest {
  return parseWith(GenerateRequestSchema, raw, "E_INPUT_INVALID", where);
}

/** What a model can make: pixel size multiple and frame rule. */
export interface ModelRules {
  readonly name: string;
  /** Width and height must be multiples of this (VAE stride × patch size). */
  readonly sizeMultiple: number;
  /** Frame counts must be ≡ 1 (mod this): 4 for Wan's causal VAE. */
  readonly frameStep: number;
  readonly maxFrames?: number;
  readonly supportsImage: boolean;
  readonly supportsLastImage: boolean;
}

/** Checks size, frame count and conditioning against a model; the message says the rule. */
export function checkAgainstModel(
  r: { width: number; height: number; frames: number; image?: unknown; last_image?: unknown },
  m: ModelRules,
): void {
  const problems: string[] = [];
  if (r.width % m.sizeMultiple || r.height % m.sizeMultiple)
    problems.push(
      `size ${r.width}x${r.height}: width and height must be multiples of ${m.sizeMultiple} (e.g. ${Math.round(r.width / m.sizeMultiple) * m.sizeMultiple || m.sizeMultiple}x${Math.round(r.height / m.sizeMultiple) * m.sizeMultiple || m.sizeMultiple})`,
    );
  if ((r.frames - 1) % m.frameStep)
    problems.push(
      `frames ${r.frames}: must be ${m.frameStep}n + 1 (e.g. ${Math.max(1, Math.round((r.frames - 1) / m.frameStep) * m.frameStep + 1)})`,
    );
  if (m.maxFrames !== undefined && r.frames > m.maxFrames) problems.push(`frames ${r.frames}: at most ${m.maxFrames}`);
  if (r.image !== undefined && !m.supportsImage) problems.push(`model ${m.name} does not take a first-frame image`);
  if (r.last_image !== undefined && !m.supportsLastImage)
    problems.push(`model ${m.name} does not take a last-frame image`);
  if (problems.length) throw new ReelError("E_INPUT_INVALID", `model ${m.name}: ${problems.join("; ")}`);
}
