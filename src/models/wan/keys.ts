/**
 * Checkpoint key layouts of the Wan DiT. reel's canonical names are the official ones
 * (Wan-Video/Wan2.1 state_dict). diffusers (`WanTransformer3DModel`) and ComfyUI files are
 * renamed at load; the map is a pure rename (no value transforms), in both directions.
 * Spec: shared/docs/wan-architecture.md §3.13.
 */

/** [official, diffusers] module paths; `{i}` is a block index. Suffixes (.weight/.bias) carry over. */
const PAIRS: readonly (readonly [string, string])[] = [
  ["time_embedding.0", "condition_embedder.time_embedder.linear_1"],
  ["time_embedding.2", "condition_embedder.time_embedder.linear_2"],
  ["text_embedding.0", "condition_embedder.text_embedder.linear_1"],
  ["text_embedding.2", "condition_embedder.text_embedder.linear_2"],
  ["time_projection.1", "condition_embedder.time_proj"],
  ["img_emb.proj.0", "condition_embedder.image_embedder.norm1"],
  ["img_emb.proj.1", "condition_embedder.image_embedder.ff.net.0.proj"],
  ["img_emb.proj.3", "condition_embedder.image_embedder.ff.net.2"],
  ["img_emb.proj.4", "condition_embedder.image_embedder.norm2"],
  ["img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"],
  ["head.modulation", "scale_shift_table"],
  ["head.head", "proj_out"],
  ["patch_embedding", "patch_embedding"],
  ["blocks.{i}.modulation", "blocks.{i}.scale_shift_table"],
  ["blocks.{i}.norm3", "blocks.{i}.norm2"],
  ["blocks.{i}.ffn.0", "blocks.{i}.ffn.net.0.proj"],
  ["blocks.{i}.ffn.2", "blocks.{i}.ffn.net.2"],
  ["blocks.{i}.self_attn.q", "blocks.{i}.attn1.to_q"],
  ["blocks.{i}.self_attn.k", "blocks.{i}.attn1.to_k"],
  ["blocks.{i}.self_attn.v", "blocks.{i}.attn1.to_v"],
  ["blocks.{i}.self_attn.o", "blocks.{i}.attn1.to_out.0"],
  ["blocks.{i}.self_attn.norm_q", "blocks.{i}.attn1.norm_q"],
  ["blocks.{i}.self_attn.norm_k", "blocks.{i}.attn1.norm_k"],
  ["blocks.{i}.cross_attn.q", "blocks.{i}.attn2.to_q"],
  ["blocks.{i}.cross_attn.k", "blocks.{i}.attn2.to_k"],
  ["blocks.{i}.cross_attn.v", "blocks.{i}.attn2.to_v"],
  ["blocks.{i}.cross_attn.o", "blocks.{i}.attn2.to_out.0"],
  ["blocks.{i}.cross_attn.norm_q", "blocks.{i}.attn2.norm_q"],
  ["blocks.{i}.cross_attn.norm_k", "blocks.{i}.attn2.norm_k"],
  ["blocks.{i}.cross_attn.k_img", "blocks.{i}.attn2.add_k_proj"],
  ["blocks.{i}.cross_attn.v_img", "blocks.{i}.attn2.add_v_proj"],
  ["blocks.{i}.cross_attn.norm_k_img", "blocks.{i}.attn2.norm_added_k"],
];

type Rule = { re: RegExp; to: string };

function rules(fromIdx: 0 | 1): Rule[] {
  return PAIRS.map((p) => {
    const from = p[fromIdx].replace(/\./g, "\\.").replace("{i}", "(\\d+)");
    return { re: new RegExp(`^${from}(\\.(?:weight|bias))?$`), to: p[1 - fromIdx]! };
  });
}

const D2O = rules(1);
const O2D = rules(0);

function apply(rs: Rule[], key: string): string | null {
  for (const r of rs) {
    const m = r.re.exec(key);
    if (m === null) continue;
    const hasIndex = r.to.includes("{i}");
    const idx = hasIndex ? m[1]! : "";
    const suffix = (hasIndex ? m[2] : m[1]) ?? "";
    return r.to.replace("{i}", idx) + suffix;
  }
  return null;
}

/** diffusers key → official key (null when the key is not part of the Wan DiT). */
export function diffusersToOfficial(key: string): string | null {
  return apply(D2O, key);
}

/** official key → diffusers key (null when unknown). */
export function officialToDiffusers(key: string): string | null {
  return apply(O2D, key);
}

export type KeyLayout = "official" | "diffusers" | "comfyui";

/** ComfyUI prefixes its diffusion model keys; single-file checkpoints may hold other models too. */
export const COMFY_PREFIXES = ["model.diffusion_model.", "diffusion_model.", "model."] as const;

export function detectLayout(keys: readonly string[]): KeyLayout {
  if (keys.some((k) => COMFY_PREFIXES.some((p) => k.startsWith(`${p}blocks.`) || k.startsWith(`${p}patch_embedding.`))))
    return "comfyui";
  if (keys.some((k) => k.startsWith("condition_embedder.") || k.includes(".attn1.") || k === "scale_shift_table"))
    return "diffusers";
  return "official";
}

/** The rename from a layout to official keys; null drops a key that belongs to another model. */
export function renamerFor(layout: KeyLayout, keys: readonly string[]): (key: string) => string | null {
  if (layout === "diffusers") return (k) => diffusersToOfficial(k) ?? k;
  if (layout === "comfyui") {
    const prefix = COMFY_PREFIXES.find((p) => keys.some((k) => k.startsWith(`${p}blocks.`)))!;
    return (k) => (k.startsWith(prefix) ? k.slice(prefix.length) : null);
  }
  return (k) => k;
}
