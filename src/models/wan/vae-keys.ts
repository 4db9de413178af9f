/**
 * Key layouts of the Wan VAE. reel's canonical names are the official ones (Wan-Video
 * `WanVAE_` state_dict: `Wan2.1_VAE.pth`, `Wan2.2_VAE.pth`, and ComfyUI's repackaged
 * `wan_2.1_vae.safetensors` / `wan2.2_vae.safetensors`, which keep them). diffusers'
 * `AutoencoderKLWan` (the `vae/` folder of a diffusers Wan pipeline) is renamed at load: a
 * pure rename, both directions, written from the key names in diffusers'
 * scripts/convert_wan_to_diffusers.py (`convert_vae`, `convert_vae_22`) and
 * src/diffusers/models/autoencoders/autoencoder_kl_wan.py.
 *
 * Structure (nrb = num_res_blocks):
 * - 2.1: the encoder's `downsamples` list is flat in both layouts (`down_blocks.{i}`); the
 *   decoder's flat `upsamples.{i}` is grouped by diffusers into `up_blocks.{s}` of nrb+1
 *   `resnets` and one `upsamplers.0`, i.e. i = s·(nrb+2) + r.
 * - 2.2: both are already grouped officially (`downsamples.{s}.downsamples.{j}`,
 *   `upsamples.{s}.upsamples.{j}`); diffusers calls the residual blocks `resnets.{j}` and the
 *   resample `downsampler` (j = nrb) / `upsampler` (j = nrb+1).
 * - Residual blocks: residual.0 / .2 / .3 / .6 / shortcut ↔ norm1 / conv1 / norm2 / conv2 /
 *   conv_shortcut; middle.0 / .1 / .2 ↔ mid_block.resnets.0 / attentions.0 / resnets.1;
 *   head.0 / .2 ↔ norm_out / conv_out; conv1 / conv2 ↔ quant_conv / post_quant_conv.
 */
import { ReelError } from "../../errors.ts";
import type { WanVaeVersion } from "./vae-config.ts";

const RES: readonly (readonly [string, string])[] = [
  ["residual.0", "norm1"],
  ["residual.2", "conv1"],
  ["residual.3", "norm2"],
  ["residual.6", "conv2"],
  ["shortcut", "conv_shortcut"],
];

function resOfficialToDiff(rest: string): string | null {
  for (const [o, d] of RES) if (rest.startsWith(`${o}.`)) return d + rest.slice(o.length);
  return null;
}

function resDiffToOfficial(rest: string): string | null {
  for (const [o, d] of RES) if (rest.startsWith(`${d}.`)) return o + rest.slice(d.length);
  return null;
}

const FIXED: readonly (readonly [string, string])[] = [
  ["conv1.", "quant_conv."],
  ["conv2.", "post_quant_conv."],
  ["encoder.conv1.", "encoder.conv_in."],
  ["decoder.conv1.", "decoder.conv_in."],
  ["encoder.head.0.", "encoder.norm_out."],
  ["encoder.head.2.", "encoder.conv_out."],
  ["decoder.head.0.", "decoder.norm_out."],
  ["decoder.head.2.", "decoder.conv_out."],
  ["encoder.middle.1.", "encoder.mid_block.attentions.0."],
  ["decoder.middle.1.", "decoder.mid_block.attentions.0."],
];

/** official VAE key → diffusers `AutoencoderKLWan` key (null when the key is not a VAE key). */
export function vaeOfficialToDiffusers(key: string, version: WanVaeVersion, nrb: number): string | null {
  for (const [o, d] of FIXED) if (key.startsWith(o)) return d + key.slice(o.length);
  let m = /^(encoder|decoder)\.middle\.([02])\.(.+)$/.exec(key);
  if (m) {
    const r = resOfficialToDiff(m[3]!);
    return r && `${m[1]}.mid_block.resnets.${m[2] === "0" ? 0 : 1}.${r}`;
  }
  if (version === "2.1") {
    m = /^encoder\.downsamples\.(\d+)\.(.+)$/.exec(key);
    if (m) return `encoder.down_blocks.${m[1]}.${resOfficialToDiff(m[2]!) ?? m[2]}`;
    m = /^decoder\.upsamples\.(\d+)\.(.+)$/.exec(key);
    if (m) {
      const i = Number(m[1]);
      const s = Math.floor(i / (nrb + 2));
      const r = i % (nrb + 2);
      if (r === nrb + 1) return `decoder.up_blocks.${s}.upsamplers.0.${m[2]}`;
      const rest = resOfficialToDiff(m[2]!);
      return rest && `decoder.up_blocks.${s}.resnets.${r}.${rest}`;
    }
    return null;
  }
  m = /^(encoder|decoder)\.(downsamples|upsamples)\.(\d+)\.\2\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    const [, part, , s, j, rest] = m;
    const blocks = part === "encoder" ? "down_blocks" : "up_blocks";
    const res = resOfficialToDiff(rest!);
    if (res) return `${part}.${blocks}.${s}.resnets.${j}.${res}`;
    return `${part}.${blocks}.${s}.${part === "encoder" ? "downsampler" : "upsampler"}.${rest}`;
  }
  return null;
}

/** diffusers `AutoencoderKLWan` key → official key (null when unknown). */
export function vaeDiffusersToOfficial(key: string, version: WanVaeVersion, nrb: number): string | null {
  for (const [o, d] of FIXED) if (key.startsWith(d)) return o + key.slice(d.length);
  let m = /^(encoder|decoder)\.mid_block\.resnets\.([01])\.(.+)$/.exec(key);
  if (m) {
    const r = resDiffToOfficial(m[3]!);
    return r && `${m[1]}.middle.${m[2] === "0" ? 0 : 2}.${r}`;
  }
  if (version === "2.1") {
    m = /^encoder\.down_blocks\.(\d+)\.(.+)$/.exec(key);
    if (m) return `encoder.downsamples.${m[1]}.${resDiffToOfficial(m[2]!) ?? m[2]}`;
    m = /^decoder\.up_blocks\.(\d+)\.(resnets\.(\d+)|upsamplers\.0)\.(.+)$/.exec(key);
    if (m) {
      const s = Number(m[1]);
      const r = m[3] === undefined ? nrb + 1 : Number(m[3]);
      const rest = m[3] === undefined ? m[4]! : resDiffToOfficial(m[4]!);
      return rest && `decoder.upsamples.${s * (nrb + 2) + r}.${rest}`;
    }
    return null;
  }
  m = /^(encoder|decoder)\.(down_blocks|up_blocks)\.(\d+)\.(resnets\.(\d+)|downsampler|upsampler)\.(.+)$/.exec(key);
  if (m) {
    const [, part, , s, , j, rest] = m;
    const list = part === "encoder" ? "downsamples" : "upsamples";
    if (j !== undefined) {
      const res = resDiffToOfficial(rest!);
      return res && `${part}.${list}.${s}.${list}.${j}.${res}`;
    }
    return `${part}.${list}.${s}.${list}.${part === "encoder" ? nrb : nrb + 1}.${rest}`;
  }
  return null;
}

export function isDiffusersVaeKeys(keys: readonly string[]): boolean {
  return keys.some((k) => k.startsWith("quant_conv.") || k.startsWith("encoder.conv_in."));
}

/** What a diffusers `vae/config.json` (AutoencoderKLWan) says, in reel's terms. */
export interface DiffusersVaeConfig {
  readonly version: WanVaeVersion;
  /** `WanVAE_` kwargs (parse with parseWanVaeConfig). */
  readonly config: Record<string, unknown>;
  readonly latentsMean?: readonly number[];
  readonly latentsStd?: readonly number[];
}

export function fromDiffusersVaeConfig(d: Record<string, unknown>, where: string): DiffusersVaeConfig {
  if (d._class_name !== undefined && d._class_name !== "AutoencoderKLWan")
    throw new ReelError(
      "E_CONFIG_INVALID",
      `${where}: _class_name "${String(d._class_name)}": only AutoencoderKLWan (the Wan VAE) is supported`,
    );
  const version: WanVaeVersion = d.is_residual === true ? "2.2" : "2.1";
  const config: Record<string, unknown> = {
    dim: d.base_dim ?? 96,
    z_dim: d.z_dim ?? 16,
    dim_mult: d.dim_mult ?? [1, 2, 4, 4],
    num_res_blocks: d.num_res_blocks ?? 2,
    attn_scales: d.attn_scales ?? [],
    temperal_downsample: d.temperal_downsample ?? [false, true, true],
    dropout: d.dropout ?? 0,
    ...(version === "2.2" ? { dec_dim: d.decoder_base_dim ?? d.base_dim } : {}),
  };
  const nums = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === "number") ? v : undefined);
  const latentsMean = nums(d.latents_mean);
  const latentsStd = nums(d.latents_std);
  return { version, config, ...(latentsMean ? { latentsMean } : {}), ...(latentsStd ? { latentsStd } : {}) };
}
