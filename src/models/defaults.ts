/**
 * Per-model generation defaults of the official Wan code (shared/docs/wan-architecture.md
 * §8.5) and the negative prompts it uses when the user gives none.
 */
import { createHash } from "node:crypto";

export interface GenerationDefaults {
  readonly steps: number;
  readonly shift: number;
  /** CFG scale; A14B models switch between (low, high) at the boundary. */
  readonly guidance: number | { readonly low: number; readonly high: number };
  readonly frames: number;
  readonly fps: number;
  /** Allowed sizes as [width, height]; the first is the default. */
  readonly sizes: readonly (readonly [number, number])[];
  readonly sampler: "unipc" | "dpm++" | "euler";
  readonly negativePrompt: string;
}

/** The official default negative prompt (137 characters, full-width commas). */
export const WAN_NEGATIVE_PROMPT =
  "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

/** SHA-256 of WAN_NEGATIVE_PROMPT's UTF-8 bytes, from the spec; checked by a test. */
export const WAN_NEGATIVE_PROMPT_SHA256 = "ce96e0324e4b54ce4b6e867f669ca520952e1a34cc116543516b1897f0d3c47e";

export function sha256(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

const SIZES_480 = [
  [832, 480],
  [480, 832],
] as const;
const SIZES_720 = [[1280, 720], [720, 1280], ...SIZES_480] as const;

export const WAN_DEFAULTS = {
  "t2v-1.3B": {
    steps: 50,
    shift: 5,
    guidance: 5,
    frames: 81,
    fps: 16,
    sizes: SIZES_480,
    sampler: "unipc",
    negativePrompt: WAN_NEGATIVE_PROMPT,
  },
  "t2v-14B": {
    steps: 50,
    shift: 5,
    guidance: 5,
    frames: 81,
    fps: 16,
    sizes: SIZES_720,
    sampler: "unipc",
    negativePrompt: WAN_NEGATIVE_PROMPT,
  },
  "i2v-14B": {
    steps: 40,
    shift: 3,
    guidance: 5,
    frames: 81,
    fps: 16,
    sizes: SIZES_480,
    sampler: "unipc",
    negativePrompt: `镜头晃动，${WAN_NEGATIVE_PROMPT}`,
  },
  "flf2v-14B": {
    steps: 50,
    shift: 16,
    guidance: 5,
    frames: 81,
    fps: 16,
    sizes: SIZES_720,
    sampler: "unipc",
    negativePrompt: `镜头切换，镜头晃动，${WAN_NEGATIVE_PROMPT}`,
  },
  "t2v-A14B": {
    steps: 40,
    shift: 12,
    guidance: { low: 3, high: 4 },
    frames: 81,
    fps: 16,
    sizes: SIZES_720,
    sampler: "unipc",
    negativePrompt: WAN_NEGATIVE_PROMPT,
  },
  "i2v-A14B": {
    steps: 40,
    shift: 5,
    guidance: { low: 3.5, high: 3.5 },
    frames: 81,
    fps: 16,
    sizes: SIZES_720,
    sampler: "unipc",
    negativePrompt: WAN_NEGATIVE_PROMPT,
  },
  "ti2v-5B": {
    steps: 50,
    shift: 5,
    guidance: 5,
    frames: 121,
    fps: 24,
    sizes: [
      [1280, 704],
      [704, 1280],
    ],
    sampler: "unipc",
    negativePrompt: WAN_NEGATIVE_PROMPT,
  },
} as const satisfies Record<string, GenerationDefaults>;
