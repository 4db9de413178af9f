/**
 * T5Encoder configuration: the official constructor kwargs of Wan-Video/Wan2.1 wan/modules/t5.py
 * @9737cba (`T5Encoder(vocab, dim, dim_attn, dim_ffn, num_heads, num_layers, num_buckets,
 * shared_pos=True, dropout=0.1)`), names kept verbatim, validated with zod, plus the preset of
 * the released umT5-XXL encoder (shared/docs/wan-architecture.md §4.1).
 *
 * Not kwargs of the official class, hence constants here: the RMSNorm eps (T5LayerNorm, 1e-6)
 * and the relative-position max distance (T5RelativeEmbedding, 128).
 */
import { z } from "zod";
import { parseWith } from "../../validate.ts";

/** T5LayerNorm eps. */
export const T5_EPS = 1e-6;
/** T5RelativeEmbedding max_dist. */
export const T5_MAX_DISTANCE = 128;

const posInt = z.number().int().positive();

export const T5ConfigSchema = z
  .object({
    vocab: posInt,
    dim: posInt,
    dim_attn: posInt,
    dim_ffn: posInt,
    num_heads: posInt,
    num_layers: posInt,
    num_buckets: posInt,
    /** One relative-position table for all layers (T5) or one per layer (umT5: false). */
    shared_pos: z.boolean().default(true),
    /** Inactive at inference; kept so official configs parse unchanged. */
    dropout: z.number().min(0).max(1).default(0.1),
  })
  .strip()
  .superRefine((c, ctx) => {
    if (c.dim_attn % c.num_heads !== 0)
      ctx.addIssue({ code: "custom", message: `dim_attn ${c.dim_attn} is not divisible by num_heads ${c.num_heads}` });
    // Bidirectional buckets: half per direction, and at least one exact bucket per half.
    if (c.num_buckets < 4)
      ctx.addIssue({ code: "custom", message: `num_buckets ${c.num_buckets} must be at least 4 (bidirectional)` });
  });

export type T5ConfigInput = z.input<typeof T5ConfigSchema>;
export type T5Config = z.output<typeof T5ConfigSchema>;

export function parseT5Config(raw: unknown, where: string): T5Config {
  return parseWith(T5ConfigSchema, raw, "E_CONFIG_INVALID", `${where}: invalid T5Encoder config`);
}

export function t5HeadDim(c: T5Config): number {
  return c.dim_attn / c.num_heads;
}

/** Released encoders: umT5-XXL, the text encoder of every Wan model (t5.py `umt5_xxl`). */
export const T5_PRESETS = {
  "umt5-xxl": {
    vocab: 256384,
    dim: 4096,
    dim_attn: 4096,
    dim_ffn: 10240,
    num_heads: 64,
    num_layers: 24,
    num_buckets: 32,
    shared_pos: false,
    dropout: 0.1,
  },
} as const satisfies Record<string, T5ConfigInput>;

export type T5PresetName = keyof typeof T5_PRESETS;

export function t5Preset(name: T5PresetName): T5Config {
  return parseT5Config(T5_PRESETS[name], `preset ${name}`);
}
