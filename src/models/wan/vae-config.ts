/**
 * Wan VAE configuration: the constructor kwargs of the official `WanVAE_` (names kept
 * verbatim, including `temperal_downsample`), validated with zod, presets for the released
 * VAEs, and the latent normalisation constants of the official wrappers.
 *
 * Reference: Wan-Video/Wan2.1 @9737cba wan/modules/vae.py (`_video_vae`, `WanVAE`) and
 * Wan-Video/Wan2.2 @42bf4cf wan/modules/vae2_2.py (`_video_vae`, `Wan2_2_VAE`); spec:
 * shared/docs/wan-architecture.md §6.1, §6.6, §7.
 *
 * Deviations: `attn_scales` must be empty. The official chunked forward hands the cache
 * arguments to every down/upsample layer, which an AttentionBlock does not accept, so a
 * non-empty `attn_scales` cannot run there either; every released VAE uses [].
 */
import { z } from "zod";
import { ReelError } from "../../errors.ts";
import { parseWith } from "../../validate.ts";

const posInt = z.number().int().positive();

const common = {
  dim: posInt,
  z_dim: posInt,
  dim_mult: z.array(posInt).min(2).max(4),
  num_res_blocks: posInt,
  attn_scales: z.array(z.number()).default([]),
  temperal_downsample: z.array(z.boolean()),
  /** Training only; inference ignores it. */
  dropout: z.number().min(0).max(1).default(0),
};

function refine(
  c: { dim_mult: number[]; attn_scales: number[]; temperal_downsample: boolean[] },
  ctx: z.RefinementCtx,
) {
  if (c.attn_scales.length > 0)
    ctx.addIssue({
      code: "custom",
      path: ["attn_scales"],
      message: `attn_scales ${JSON.stringify(c.attn_scales)}: only [] is supported (the official chunked forward cannot run attention inside the down/upsamples; every released VAE uses [])`,
    });
  if (c.temperal_downsample.length !== c.dim_mult.length - 1)
    ctx.addIssue({
      code: "custom",
      path: ["temperal_downsample"],
      message: `temperal_downsample has ${c.temperal_downsample.length} entries, dim_mult [${c.dim_mult}] needs ${c.dim_mult.length - 1} (one per downsampling stage)`,
    });
}

/** Wan 2.1 `WanVAE_` kwargs (vae.py). */
export const WanVae21ConfigSchema = z.object(common).strip().superRefine(refine);
/** Wan 2.2 `WanVAE_` kwargs (vae2_2.py): `dim` is the encoder width, `dec_dim` the decoder's. */
export const WanVae22ConfigSchema = z
  .object({ ...common, dec_dim: posInt })
  .strip()
  .superRefine(refine);

export type WanVae21Config = z.output<typeof WanVae21ConfigSchema> & { readonly version: "2.1" };
export type WanVae22Config = z.output<typeof WanVae22ConfigSchema> & { readonly version: "2.2" };
export type WanVaeConfig = WanVae21Config | WanVae22Config;
export type WanVaeVersion = WanVaeConfig["version"];

export function parseWanVaeConfig(raw: unknown, version: WanVaeVersion, where: string): WanVaeConfig {
  const schema = version === "2.1" ? WanVae21ConfigSchema : WanVae22ConfigSchema;
  const c = parseWith(schema, raw, "E_CONFIG_INVALID", `${where}: invalid Wan ${version} VAE config`);
  return { ...c, version } as WanVaeConfig;
}

/** Width of the decoder (2.1 shares `dim`; 2.2 has its own `dec_dim`). */
export function decoderDim(c: WanVaeConfig): number {
  return c.version === "2.2" ? c.dec_dim : c.dim;
}

/** Pixels per latent cell along H and W: 2 per downsampling stage, ×2 more for the 2.2 patchify. */
export function spatialFactor(c: WanVaeConfig): number {
  return 2 ** (c.dim_mult.length - 1) * (c.version === "2.2" ? 2 : 1);
}

/** Video frames per latent frame after the first: 2 per temporal downsample (4 for the released VAEs). */
export function temporalFactor(c: WanVaeConfig): number {
  return 2 ** c.temperal_downsample.filter(Boolean).length;
}

/** Released VAEs: Wan2.1_VAE.pth (also used by Wan2.2 T2V/I2V-A14B) and Wan2.2_VAE.pth (TI2V-5B). */
export const WAN_VAE_PRESETS = {
  "wan2.1": {
    dim: 96,
    z_dim: 16,
    dim_mult: [1, 2, 4, 4],
    num_res_blocks: 2,
    attn_scales: [],
    temperal_downsample: [false, true, true],
    dropout: 0,
  },
  "wan2.2": {
    dim: 160,
    dec_dim: 256,
    z_dim: 48,
    dim_mult: [1, 2, 4, 4],
    num_res_blocks: 2,
    attn_scales: [],
    temperal_downsample: [false, true, true],
    dropout: 0,
  },
} as const;

export function vaePreset(name: keyof typeof WAN_VAE_PRESETS): WanVaeConfig {
  return parseWanVaeConfig(
    structuredClone(WAN_VAE_PRESETS[name]),
    name === "wan2.1" ? "2.1" : "2.2",
    `VAE preset ${name}`,
  );
}

/** `WanVAE.mean` / `.std` (vae.py): the per-channel statistics of the 16 latent channels. */
export const WAN21_LATENTS_MEAN: readonly number[] = [
  -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922,
  -0.9497, 0.2503, -0.2921,
];
export const WAN21_LATENTS_STD: readonly number[] = [
  2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253,
  2.8251, 1.916,
];

/** `Wan2_2_VAE` mean / std (vae2_2.py): 48 latent channels. */
export const WAN22_LATENTS_MEAN: readonly number[] = [
  -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557, -0.1382, 0.0542, 0.2813, 0.0891, 0.157, -0.0098,
  0.0375, -0.1825, -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502, -0.2055, -0.0322, 0.1109,
  0.1567, -0.0729, 0.0899, -0.2799, -0.123, -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.052, 0.3748, 0.0152,
  0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
];
export const WAN22_LATENTS_STD: readonly number[] = [
  0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.499, 0.4818, 0.5013, 0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454,
  0.4978, 0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659, 0.7069, 0.5338, 0.4889, 0.4917, 0.4069,
  0.4999, 0.6866, 0.4093, 0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887, 0.3971, 1.06, 0.3943, 0.5537,
  0.5444, 0.4089, 0.7468, 0.7744,
];

/** Latent mean and std (float32, as the wrappers hold them). */
export interface LatentStats {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

/**
 * The wrapper's constants for a config: by version, and only when z_dim matches them
 * (tiny test configs with another z_dim must bring their own).
 */
export function defaultLatentStats(c: WanVaeConfig): LatentStats {
  const [mean, std] =
    c.version === "2.1" ? [WAN21_LATENTS_MEAN, WAN21_LATENTS_STD] : [WAN22_LATENTS_MEAN, WAN22_LATENTS_STD];
  if (mean.length !== c.z_dim)
    throw new ReelError(
      "E_CONFIG_INVALID",
      `Wan ${c.version} VAE: the official latent mean/std have ${mean.length} channels, this config has z_dim ${c.z_dim}; pass latentsMean/latentsStd`,
    );
  return { mean: Float32Array.from(mean), std: Float32Array.from(std) };
}
