/**
 * umT5 encoder kwargs from the two other places they can come from: a Hugging Face
 * `config.json` (UMT5Config, as in a diffusers `text_encoder/` folder), or the weights alone
 * (ComfyUI's `text_encoders/umt5_xxl_*.safetensors` ship without a config). Names are the
 * official `T5Encoder` kwargs (config.ts); parse the result with parseT5Config.
 */
import { ReelError } from "../../errors.ts";

export function fromHfT5Config(d: Record<string, unknown>): Record<string, unknown> {
  const heads = Number(d.num_heads);
  return {
    vocab: d.vocab_size,
    dim: d.d_model,
    dim_attn: heads * Number(d.d_kv),
    dim_ffn: d.d_ff,
    num_heads: heads,
    num_layers: d.num_layers,
    num_buckets: d.relative_attention_num_buckets ?? 32,
    // umT5 keeps one relative-position table per layer (the only layout keys.ts maps).
    shared_pos: false,
  };
}

/** Reads the kwargs off official-named weights (after the HF rename). */
export function inferT5Config(shapes: ReadonlyMap<string, readonly number[]>, where: string): Record<string, unknown> {
  const shape = (k: string): readonly number[] => {
    const s = shapes.get(k);
    if (!s) throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: not a umT5 encoder (no "${k}" tensor)`);
    return s;
  };
  let layers = 0;
  for (const k of shapes.keys()) {
    const m = /^blocks\.(\d+)\./.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  const emb = shape("token_embedding.weight");
  const bias = shape("blocks.0.pos_embedding.embedding.weight"); // [buckets, heads]
  return {
    vocab: emb[0],
    dim: emb[1],
    dim_attn: shape("blocks.0.attn.q.weight")[0],
    dim_ffn: shape("blocks.0.ffn.fc1.weight")[0],
    num_heads: bias[1],
    num_layers: layers,
    num_buckets: bias[0],
    shared_pos: false,
  };
}
