/**
 * WanModel configuration: the official constructor kwargs (names kept verbatim), validated
 * with zod, plus presets for the released models (shared/docs/wan-architecture.md §2).
 */
import { z } from "zod";
import { parseWith } from "../../validate.ts";

export const WanConfigSchema = z
  .object({
    model_type: z.enum(["t2v", "i2v", "flf2v", "ti2v"]),
    patch_size: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    text_len: z.number().int().positive(),
    in_dim: z.number().int().positive(),
    dim: z.number().int().positive(),
    ffn_dim: z.number().int().positive(),
    freq_dim: z.number().int().positive(),
    text_dim: z.number().int().positive(),
    out_dim: z.number().int().positive(),
    num_heads: z.number().int().positive(),
    num_layers: z.number().int().positive(),
    window_size: z.tuple([z.number().int(), z.number().int()]).default([-1, -1]),
    qk_norm: z.boolean().default(true),
    cross_attn_norm: z.boolean().default(true),
    eps: z.number().positive().default(1e-6),
    /**
     * reel's addition: which Wan release the weights come from. It decides whether an
     * i2v/flf2v model has the CLIP image branch (2.1 yes, 2.2 no). Defaults to 2.2 for ti2v.
     */
    wan_version: z.enum(["2.1", "2.2"]).optional(),
  })
  .strip()
  .superRefine((c, ctx) => {
    if (c.dim % c.num_heads !== 0)
      ctx.addIssue({ code: "custom", message: `dim ${c.dim} is not divisible by num_heads ${c.num_heads}` });
    else if ((c.dim / c.num_heads) % 2 !== 0)
      ctx.addIssue({ code: "custom", message: `head dim ${c.dim / c.num_heads} must be even for RoPE` });
    if (c.window_size[0] !== -1 || c.window_size[1] !== -1)
      ctx.addIssue({
        code: "custom",
        message: `window_size ${JSON.stringify(c.window_size)}: only global attention [-1, -1] is supported (as in every released Wan model)`,
      });
  });

export type WanConfigInput = z.input<typeof WanConfigSchema>;
export type WanConfig = z.output<typeof WanConfigSchema> & { wan_version: "2.1" | "2.2" };

export function parseWanConfig(raw: unknown, where: string): WanConfig {
  const c = parseWith(WanConfigSchema, raw, "E_CONFIG_INVALID", `${where}: invalid WanModel config`);
  return { ...c, wan_version: c.wan_version ?? (c.model_type === "ti2v" ? "2.2" : "2.1") };
}

/** True when the model has the Wan 2.1 CLIP image branch (img_emb, k_img, v_img). */
export function hasImageBranch(c: WanConfig): boolean {
  return (c.model_type === "i2v" || c.model_type === "flf2v") && c.wan_version === "2.1";
}

export function headDim(c: WanConfig): number {
  return c.dim / c.num_heads;
}

const COMMON = {
  patch_size: [1, 2, 2] as [number, number, number],
  text_len: 512,
  text_dim: 4096,
  freq_dim: 256,
  window_size: [-1, -1] as [number, number],
  qk_norm: true,
  cross_attn_norm: true,
  eps: 1e-6,
};

const W14B = { dim: 5120, ffn_dim: 13824, num_heads: 40, num_layers: 40, out_dim: 16 };

/** Released DiTs (wan-architecture.md §2). A14B presets describe one expert. */
export const WAN_PRESETS = {
  "t2v-1.3B": {
    ...COMMON,
    model_type: "t2v",
    dim: 1536,
    ffn_dim: 8960,
    num_heads: 12,
    num_layers: 30,
    in_dim: 16,
    out_dim: 16,
    wan_version: "2.1",
  },
  "t2v-14B": { ...COMMON, ...W14B, model_type: "t2v", in_dim: 16, wan_version: "2.1" },
  "i2v-14B": { ...COMMON, ...W14B, model_type: "i2v", in_dim: 36, wan_version: "2.1" },
  "flf2v-14B": { ...COMMON, ...W14B, model_type: "flf2v", in_dim: 36, wan_version: "2.1" },
  "ti2v-5B": {
    ...COMMON,
    model_type: "ti2v",
    dim: 3072,
    ffn_dim: 14336,
    num_heads: 24,
    num_layers: 30,
    in_dim: 48,
    out_dim: 48,
    wan_version: "2.2",
  },
  "t2v-A14B": { ...COMMON, ...W14B, model_type: "t2v", in_dim: 16, wan_version: "2.2" },
  "i2v-A14B": { ...COMMON, ...W14B, model_type: "i2v", in_dim: 36, wan_version: "2.2" },
} as const satisfies Record<string, WanConfigInput>;

export type WanPresetName = keyof typeof WAN_PRESETS;

/** Wan 2.2 A14B: two experts switched at a boundary timestep (wan-architecture.md §3.11). */
export const WAN_MOE = {
  "t2v-A14B": { boundary: 0.875, guide_scale: { low: 3.0, high: 4.0 } },
  "i2v-A14B": { boundary: 0.9, guide_scale: { low: 3.5, high: 3.5 } },
} as const;

/**
 * reel.json `experts` of reel's own two-expert models (high_noise_model/ + low_noise_model/, as
 * A14B): where the low-noise expert takes over. Official A14B folders use WAN_MOE's boundary.
 */
export const ExpertsSchema = z.object({
  boundary: z.number().gt(0).lt(1),
});

export function parseExperts(raw: unknown, where: string): z.output<typeof ExpertsSchema> {
  return parseWith(
    ExpertsSchema,
    raw,
    "E_CONFIG_INVALID",
    `${where}: invalid experts (boundary: a noise level in (0, 1))`,
  );
}

export function preset(name: WanPresetName): WanConfig {
  return parseWanConfig(WAN_PRESETS[name], `preset ${name}`);
}
