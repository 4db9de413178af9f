/**
 * CLIP vision tower configuration: the `VisionTransformer` constructor kwargs of
 * Wan-Video/Wan2.1 wan/modules/clip.py @9737cba (names kept verbatim, as the clip-tiny
 * fixture's `__metadata__.config` records them), validated with zod, plus the preset of the
 * ViT-H/14 that Wan 2.1 i2v / flf2v use (shared/docs/wan-architecture.md §5).
 *
 * Deviations: `pool_type` 'attn_pool' and `activation` 'swi_glu' are rejected (no released
 * Wan model uses them); dropout rates are not kwargs here (inference only).
 */
import { z } from "zod";
import { parseWith } from "../../validate.ts";

const positiveInt = z.number().int().positive();

export const ClipVisionConfigSchema = z
  .object({
    image_size: positiveInt,
    patch_size: positiveInt,
    dim: positiveInt,
    mlp_ratio: z.number().positive(),
    /** Width of the (unused) pooled-token head. `null`/0 means `dim`, as in the reference. */
    out_dim: z.number().int().nonnegative().nullable().default(null),
    num_heads: positiveInt,
    num_layers: positiveInt,
    pool_type: z.enum(["token", "token_fc", "attn_pool"]).default("token"),
    /** true: LayerNorm after the embeddings, and the patch conv has no bias. */
    pre_norm: z.boolean().default(true),
    /** Block-level flag: true puts norm1/norm2 after attn/mlp (x + norm(f(x))). */
    post_norm: z.boolean().default(false),
    /** The reference default is QuickGELU; the ViT-H/14 factory passes 'gelu' (exact erf). */
    activation: z.enum(["quick_gelu", "gelu", "swi_glu"]).default("quick_gelu"),
    norm_eps: z.number().positive().default(1e-5),
  })
  .strip()
  .superRefine((c, ctx) => {
    if (c.dim % c.num_heads !== 0)
      ctx.addIssue({ code: "custom", message: `dim ${c.dim} is not divisible by num_heads ${c.num_heads}` });
    if (c.patch_size > c.image_size)
      ctx.addIssue({ code: "custom", message: `patch_size ${c.patch_size} is larger than image_size ${c.image_size}` });
    if (!Number.isInteger(c.dim * c.mlp_ratio))
      ctx.addIssue({ code: "custom", message: `dim·mlp_ratio = ${c.dim * c.mlp_ratio} is not an integer` });
    if (c.pool_type === "attn_pool")
      ctx.addIssue({
        code: "custom",
        path: ["pool_type"],
        message: "only 'token' and 'token_fc' (with a class token) are supported; 'attn_pool' is not used by Wan",
      });
    if (c.activation === "swi_glu")
      ctx.addIssue({
        code: "custom",
        path: ["activation"],
        message: "only 'gelu' and 'quick_gelu' are supported; 'swi_glu' is not used by Wan",
      });
  });

export type ClipVisionConfigInput = z.input<typeof ClipVisionConfigSchema>;
export type ClipVisionConfig = Omit<z.output<typeof ClipVisionConfigSchema>, "out_dim" | "pool_type" | "activation"> & {
  readonly out_dim: number;
  readonly pool_type: "token" | "token_fc";
  readonly activation: "gelu" | "quick_gelu";
};

export function parseClipVisionConfig(raw: unknown, where: string): ClipVisionConfig {
  const c = parseWith(
    ClipVisionConfigSchema,
    raw,
    "E_CONFIG_INVALID",
    `${where}: invalid CLIP VisionTransformer config`,
  );
  // The superRefine above rejected attn_pool and swi_glu.
  return {
    ...c,
    out_dim: c.out_dim || c.dim,
    pool_type: c.pool_type as "token" | "token_fc",
    activation: c.activation as "gelu" | "quick_gelu",
  };
}

/** Side of the patch grid: the stride-`patch_size` conv drops a remainder, as in the reference. */
export function gridSize(c: ClipVisionConfig): number {
  return Math.floor(c.image_size / c.patch_size);
}

/** Tokens per image: the class token plus grid² patches (257 for ViT-H/14 at 224). */
export function tokenCount(c: ClipVisionConfig): number {
  return gridSize(c) ** 2 + 1;
}

export function headDim(c: ClipVisionConfig): number {
  return c.dim / c.num_heads;
}

export function mlpDim(c: ClipVisionConfig): number {
  return c.dim * c.mlp_ratio;
}

/**
 * Blocks Wan runs: all but the last (`use_31_block=True` in `CLIPModel.visual`, i.e.
 * `transformer[:-1]`): 31 of 32 for ViT-H/14.
 */
export function wanBlocks(c: ClipVisionConfig): number {
  return c.num_layers - 1;
}

/** CLIP image normalisation (OpenAI CLIP mean/std), per RGB channel, applied in [0, 1]. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * The visual tower of open-clip xlm-roberta-large-vit-huge-14 as built by
 * `clip_xlm_roberta_vit_h_14()` (models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth).
 */
export const CLIP_PRESETS = {
  "vit-h-14": {
    image_size: 224,
    patch_size: 14,
    dim: 1280,
    mlp_ratio: 4,
    out_dim: 1024,
    num_heads: 16,
    num_layers: 32,
    pool_type: "token",
    pre_norm: true,
    post_norm: false,
    activation: "gelu",
    norm_eps: 1e-5,
  },
} as const satisfies Record<string, ClipVisionConfigInput>;

export type ClipPresetName = keyof typeof CLIP_PRESETS;

export function clipPreset(name: ClipPresetName): ClipVisionConfig {
  return parseClipVisionConfig(CLIP_PRESETS[name], `preset ${name}`);
}
