/**
 * Checkpoint key layouts of the umT5 encoder. reel's canonical names are the official ones
 * (Wan-Video/Wan2.1 wan/modules/t5.py @9737cba, `models_t5_umt5-xxl-enc-bf16.pth`). The
 * Hugging Face `UMT5EncoderModel` layout (google/umt5-xxl, the diffusers `text_encoder/`
 * folder of Wan, ComfyUI's umt5_xxl files) is renamed at load; a pure rename, both directions.
 * Spec: shared/docs/wan-architecture.md §4.6.
 *
 * Only the per-layer (umT5, shared_pos False) layout is mapped: HF keeps one bias table per
 * block there too. HF ties `shared.weight` and `encoder.embed_tokens.weight`; a file may hold
 * either or both, and both name the official `token_embedding.weight`.
 */
import { readHeader } from "../../engine/safetensors.ts";
import { type WeightMap, weightMapFromFiles } from "../../engine/weights.ts";

/** [official, HF] key patterns; `{i}` is a block index. */
const PAIRS: readonly (readonly [string, string])[] = [
  ["token_embedding.weight", "shared.weight"],
  ["norm.weight", "encoder.final_layer_norm.weight"],
  ["blocks.{i}.norm1.weight", "encoder.block.{i}.layer.0.layer_norm.weight"],
  ["blocks.{i}.attn.q.weight", "encoder.block.{i}.layer.0.SelfAttention.q.weight"],
  ["blocks.{i}.attn.k.weight", "encoder.block.{i}.layer.0.SelfAttention.k.weight"],
  ["blocks.{i}.attn.v.weight", "encoder.block.{i}.layer.0.SelfAttention.v.weight"],
  ["blocks.{i}.attn.o.weight", "encoder.block.{i}.layer.0.SelfAttention.o.weight"],
  [
    "blocks.{i}.pos_embedding.embedding.weight",
    "encoder.block.{i}.layer.0.SelfAttention.relative_attention_bias.weight",
  ],
  ["blocks.{i}.norm2.weight", "encoder.block.{i}.layer.1.layer_norm.weight"],
  ["blocks.{i}.ffn.gate.0.weight", "encoder.block.{i}.layer.1.DenseReluDense.wi_0.weight"],
  ["blocks.{i}.ffn.fc1.weight", "encoder.block.{i}.layer.1.DenseReluDense.wi_1.weight"],
  ["blocks.{i}.ffn.fc2.weight", "encoder.block.{i}.layer.1.DenseReluDense.wo.weight"],
];

/** The HF alias of `shared.weight` (tied input embedding). */
const HF_EMBED_ALIAS = "encoder.embed_tokens.weight";

type Rule = { re: RegExp; to: string };

function rules(fromIdx: 0 | 1): Rule[] {
  return PAIRS.map((p) => {
    const from = p[fromIdx].replace(/\./g, "\\.").replace("{i}", "(\\d+)");
    return { re: new RegExp(`^${from}$`), to: p[1 - fromIdx]! };
  });
}

const H2O = rules(1);
const O2H = rules(0);

function apply(rs: Rule[], key: string): string | null {
  for (const r of rs) {
    const m = r.re.exec(key);
    if (m !== null) return r.to.replace("{i}", m[1] ?? "");
  }
  return null;
}

/** HF UMT5EncoderModel key → official key (null when the key is not part of the encoder). */
export function hfToOfficial(key: string): string | null {
  if (key === HF_EMBED_ALIAS) return "token_embedding.weight";
  return apply(H2O, key);
}

/** official key → HF UMT5EncoderModel key (`token_embedding.weight` → `shared.weight`; null when unknown). */
export function officialToHf(key: string): string | null {
  return apply(O2H, key);
}

export type T5KeyLayout = "official" | "hf";

export function detectT5Layout(keys: readonly string[]): T5KeyLayout {
  return keys.some((k) => k.startsWith("encoder.") || k === "shared.weight") ? "hf" : "official";
}

/**
 * Keys of full HF checkpoints that belong to other parts: the T5 decoder and LM head, and
 * the SentencePiece model ComfyUI stores as a tensor.
 */
function notEncoder(key: string): boolean {
  return key.startsWith("decoder.") || key.startsWith("lm_head.") || key === "spiece_model";
}

/**
 * The rename from a layout to official keys (null drops a key). Unknown keys pass through
 * unchanged so the weight check reports them.
 */
export function t5RenamerFor(layout: T5KeyLayout, keys: readonly string[]): (key: string) => string | null {
  if (layout === "official") return (k) => k;
  const hasShared = keys.includes("shared.weight");
  return (k) => {
    if (notEncoder(k) || (hasShared && k === HF_EMBED_ALIAS)) return null;
    return hfToOfficial(k) ?? k;
  };
}

/** The weights of safetensors files in either layout, under official keys. */
export function t5WeightMapFromFiles(paths: readonly string[]): { weights: WeightMap; layout: T5KeyLayout } {
  const keys = paths.flatMap((p) => [...readHeader(p).tensors.keys()]);
  const layout = detectT5Layout(keys);
  return { weights: weightMapFromFiles(paths, t5RenamerFor(layout, keys)), layout };
}
