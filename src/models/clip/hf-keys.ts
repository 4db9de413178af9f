/**
 * Hugging Face `CLIPVisionModel` / `CLIPVisionModelWithProjection` checkpoints (the
 * `image_encoder/` folder of a diffusers Wan i2v pipeline, ComfyUI's
 * `clip_vision/clip_vision_h.safetensors`) as the official open-clip `visual.*` tower.
 *
 * Names from transformers' CLIP modeling (`vision_model.embeddings.{class_embedding,
 * patch_embedding, position_embedding}`, `vision_model.pre_layrnorm` (sic),
 * `vision_model.encoder.layers.{i}.{layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2,
 * mlp.fc1, mlp.fc2}`, `vision_model.post_layernorm`, `visual_projection`). Unlike the DiT and
 * umT5 maps this is not a pure rename: the official attention has one fused `to_qkv`
 * ([q; k; v] rows), and the class and position embeddings carry leading 1-dims. The file is
 * therefore converted once, tensor by tensor in its stored dtype, into
 * `<cacheDir>/converted/` (keyed by the source's path, size and mtime) and bound from there.
 * `visual_projection` (the pooled head, never used by Wan) and any text tower are dropped.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readHeader, readTensorRaw, type StreamEntry, writeSafetensorsStream } from "../../engine/safetensors.ts";
import type { TypedData } from "../../engine/tensor.ts";
import { ReelError } from "../../errors.ts";

const V = "vision_model.";

export function isHfClipKeys(keys: readonly string[]): boolean {
  return keys.some((k) => k.startsWith(`${V}embeddings.`));
}

/** Plain renames (suffix `.weight`/`.bias` carries over); `{i}` is a layer index. */
const RENAMES: readonly (readonly [string, string])[] = [
  [`${V}embeddings.patch_embedding`, "visual.patch_embedding"],
  [`${V}pre_layrnorm`, "visual.pre_norm"],
  [`${V}post_layernorm`, "visual.post_norm"],
  [`${V}encoder.layers.{i}.layer_norm1`, "visual.transformer.{i}.norm1"],
  [`${V}encoder.layers.{i}.layer_norm2`, "visual.transformer.{i}.norm2"],
  [`${V}encoder.layers.{i}.self_attn.out_proj`, "visual.transformer.{i}.attn.proj"],
  [`${V}encoder.layers.{i}.mlp.fc1`, "visual.transformer.{i}.mlp.0"],
  [`${V}encoder.layers.{i}.mlp.fc2`, "visual.transformer.{i}.mlp.2"],
];

function rename(key: string): string | null {
  for (const [hf, off] of RENAMES) {
    const re = new RegExp(`^${hf.replace(/\./g, "\\.").replace("{i}", "(\\d+)")}(\\.(?:weight|bias))$`);
    const m = re.exec(key);
    if (!m) continue;
    return off.includes("{i}") ? off.replace("{i}", m[1]!) + m[2] : off + m[1];
  }
  return null;
}

/** A tensor of the official layout and the HF tensors (in order) its rows are made of. */
interface Plan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly from: readonly string[];
}

/** The official tensors and where each comes from; unknown keys are reported, not guessed. */
export function planHfClip(shapes: ReadonlyMap<string, readonly number[]>, where: string): Plan[] {
  const plans: Plan[] = [];
  const unknown: string[] = [];
  for (const [k, s] of shapes) {
    if (!k.startsWith(V)) continue; // visual_projection, text_model.*, logit_scale
    if (k === `${V}embeddings.position_ids`) continue; // an index buffer, not a weight
    if (k === `${V}embeddings.class_embedding`)
      plans.push({ name: "visual.cls_embedding", shape: [1, 1, s[0]!], from: [k] });
    else if (k === `${V}embeddings.position_embedding.weight`)
      plans.push({ name: "visual.pos_embedding", shape: [1, ...s], from: [k] });
    else {
      const m = /^vision_model\.encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$/.exec(k);
      if (m) {
        if (m[2] !== "q") continue; // q carries the fused plan
        const base = `${V}encoder.layers.${m[1]}.self_attn.`;
        const from = ["q", "k", "v"].map((p) => `${base}${p}_proj.${m[3]}`);
        const missing = from.filter((f) => !shapes.has(f));
        if (missing.length) throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: missing ${missing.join(", ")}`);
        plans.push({
          name: `visual.transformer.${m[1]}.attn.to_qkv.${m[3]}`,
          shape: [s[0]! * 3, ...s.slice(1)],
          from,
        });
      } else {
        const r = rename(k);
        if (r) plans.push({ name: r, shape: s, from: [k] });
        else unknown.push(k);
      }
    }
  }
  if (unknown.length)
    throw new ReelError(
      "E_WEIGHTS_MISMATCH",
      `${where}: ${unknown.length} tensors are not part of a CLIP vision tower: ${unknown.slice(0, 8).join(", ")}`,
    );
  if (plans.length === 0)
    throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: no CLIP vision tensors (vision_model.*)`);
  return plans.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Converts an HF CLIP vision file to the official layout in `cacheDir/converted/` (once); returns its path. */
export function convertHfClip(path: string, cacheDir: string): string {
  const st = statSync(path);
  const id = createHash("sha256").update(`${path}\0${st.size}\0${st.mtimeMs}\0clip-hf-v1`).digest("hex").slice(0, 20);
  const dir = join(cacheDir, "converted");
  const out = join(dir, `clip-${id}.safetensors`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const header = readHeader(path);
  const shapes = new Map([...header.tensors].map(([k, e]) => [k, e.shape] as const));
  const plans = planHfClip(shapes, path);
  const dtypes = new Set(plans.flatMap((p) => p.from.map((f) => header.tensors.get(f)!.dtype)));
  if (dtypes.size !== 1)
    throw new ReelError("E_WEIGHTS_MISMATCH", `${path}: mixed dtypes (${[...dtypes].join(", ")}) in the vision tower`);
  const dtype = [...dtypes][0]!;
  const entries: StreamEntry[] = plans.map((p) => ({ name: p.name, dtype, shape: p.shape }));
  writeSafetensorsStream(
    out,
    entries,
    (_e, i) => {
      const parts = plans[i]!.from.map((f) => readTensorRaw(header, f).data);
      if (parts.length === 1) return parts[0]!;
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let o = 0;
      for (const p of parts) {
        bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
        o += p.byteLength;
      }
      return viewLike(parts[0]!, bytes);
    },
    { source: path, converter: "reel clip hf-keys" },
  );
  return out;
}

function viewLike(like: TypedData, bytes: Uint8Array): TypedData {
  const C = like.constructor as new (b: ArrayBuffer) => TypedData;
  return new C(bytes.buffer as ArrayBuffer);
}

/** CLIPVisionConfig (or a CLIPConfig's vision_config) → official VisionTransformer kwargs. */
export function fromHfClipConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const d = (raw.vision_config as Record<string, unknown> | undefined) ?? raw;
  const dim = Number(d.hidden_size);
  return {
    image_size: d.image_size,
    patch_size: d.patch_size,
    dim,
    mlp_ratio: Number(d.intermediate_size) / dim,
    out_dim: d.projection_dim ?? raw.projection_dim ?? dim,
    num_heads: d.num_attention_heads,
    num_layers: d.num_hidden_layers,
    pool_type: "token",
    pre_norm: true,
    post_norm: false,
    activation: d.hidden_act === "quick_gelu" ? "quick_gelu" : "gelu",
    norm_eps: d.layer_norm_eps ?? 1e-5,
  };
}

/**
 * Official kwargs read off official-named weights (ComfyUI ships no config). The head count
 * cannot be seen in the weights: ViT-H/14's head width, 80, is assumed (1280 / 16).
 */
export function inferClipConfig(
  shapes: ReadonlyMap<string, readonly number[]>,
  where: string,
): Record<string, unknown> {
  const shape = (k: string): readonly number[] => {
    const s = shapes.get(k);
    if (!s) throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: not a CLIP vision tower (no "${k}" tensor)`);
    return s;
  };
  const dim = shape("visual.cls_embedding")[2]!;
  const patch = shape("visual.patch_embedding.weight")[2]!;
  const grid = Math.round(Math.sqrt(shape("visual.pos_embedding")[1]! - 1));
  let layers = 0;
  for (const k of shapes.keys()) {
    const m = /^visual\.transformer\.(\d+)\./.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  return {
    image_size: grid * patch,
    patch_size: patch,
    dim,
    mlp_ratio: shape("visual.transformer.0.mlp.0.weight")[0]! / dim,
    out_dim: dim,
    num_heads: Math.max(1, Math.round(dim / 80)),
    num_layers: layers,
    pool_type: "token",
    pre_norm: true,
    post_norm: false,
    activation: "gelu",
    norm_eps: 1e-5,
  };
}
