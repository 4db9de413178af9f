/**
 * Tiny random Wan models in each on-disk layout people have — official Wan-AI, diffusers, and
 * ComfyUI's split files — for the end-to-end tests of discovery, loading and `reel generate`.
 *
 * Shared parts: the official tiny umT5 and VAE fixtures (2.1, and 2.2 for TI2V), a tiny
 * umT5-style tokenizer (tokenizer.json or spiece.model), a random DiT whose head width is 128
 * (so ComfyUI's config-less file infers the right head count), and for image-to-video a random
 * CLIP vision tower with its real width 1280 (the DiT's image projection is 1280 wide) but
 * 2 layers (Wan uses the first), 224 px input (257 tokens, 514 for FLF2V) and a narrow MLP.
 * Each layout stores the same tensors under its own names and configs, converted here with
 * the same key maps the loader reads them back with (and, for CLIP, the inverse of its
 * conversion). Weights are random: the video is noise; what is tested is the machinery.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { writeRandomWeights } from "../../src/engine/random-weights.ts";
import { loadAll, readHeader, writeSafetensors, type TensorToWrite } from "../../src/engine/safetensors.ts";
import { parseClipVisionConfig } from "../../src/models/clip/config.ts";
import { clipVisionParams } from "../../src/models/clip/vision.ts";
import { officialToHf } from "../../src/models/t5/keys.ts";
import { parseWanConfig, type WanConfig } from "../../src/models/wan/config.ts";
import { officialToDiffusers } from "../../src/models/wan/keys.ts";
import { wanParams } from "../../src/models/wan/model.ts";
import { vaeOfficialToDiffusers } from "../../src/models/wan/vae-keys.ts";
import { fixturePath } from "./fixtures.ts";
import { TINY_WORDS, tinyTokenizerJson } from "./tiny-model.ts";

const require = createRequire(import.meta.url);
const { Writer } = require("protobufjs/minimal") as typeof import("protobufjs");

export type TinyLayout = "official" | "diffusers" | "comfyui";
export type TinyKind = "t2v" | "i2v" | "flf2v" | "ti2v";
/** `embedded`: ComfyUI only, the spiece model as a uint8 `spiece_model` tensor in the text encoder file. */
export type TinyTokenizer = "json" | "spiece" | "embedded" | "none";

export interface TinyModel {
  /** What to pass to --model. */
  readonly model: string;
  /** The folder (ComfyUI: the models/ root). */
  readonly root: string;
}

/**
 * A SentencePiece ModelProto (spiece.model) with the same pieces and scores as
 * tinyTokenizerJson, and optionally a precompiled charsmap (then the NFKC-style normaliser is on).
 */
export function tinySpieceModel(o: { charsmap?: boolean } = {}): Uint8Array {
  const vocab = (tinyTokenizerJson() as { model: { vocab: [string, number][] } }).model.vocab;
  const w = Writer.create();
  vocab.forEach(([piece, score], id) => {
    const type = id === 2 ? 2 : id < 2 ? 3 : 1; // <pad>, </s>: CONTROL; <unk>: UNKNOWN
    w.uint32((1 << 3) | 2).fork();
    w.uint32((1 << 3) | 2).string(piece);
    w.uint32((2 << 3) | 5).float(score);
    w.uint32((3 << 3) | 0).int32(type);
    w.ldelim();
  });
  w.uint32((2 << 3) | 2).fork(); // trainer_spec
  w.uint32((3 << 3) | 0).int32(1); // model_type UNIGRAM
  w.uint32((40 << 3) | 0).int32(2); // unk_id
  w.ldelim();
  w.uint32((3 << 3) | 2).fork(); // normalizer_spec
  w.uint32((1 << 3) | 2).string(o.charsmap ? "nmt_nfkc" : "identity");
  if (o.charsmap) w.uint32((2 << 3) | 2).bytes(new Uint8Array([4, 0, 0, 0, 1, 2, 3, 4]));
  w.uint32((3 << 3) | 0).bool(true);
  w.uint32((4 << 3) | 0).bool(true);
  w.ldelim();
  return w.finish();
}

export { TINY_WORDS };

function ditConfig(kind: TinyKind): WanConfig {
  const v22 = kind === "ti2v";
  return parseWanConfig(
    {
      model_type: kind,
      patch_size: [1, 2, 2],
      text_len: 512,
      in_dim: v22 ? 48 : kind === "t2v" ? 16 : 36,
      dim: 128,
      ffn_dim: 256,
      freq_dim: 64,
      text_dim: 32,
      out_dim: v22 ? 48 : 16,
      num_heads: 1,
      num_layers: 1,
      qk_norm: true,
      cross_attn_norm: true,
      eps: 1e-6,
      ...(v22 ? { wan_version: "2.2" } : {}),
    },
    `tiny ${kind}`,
  );
}

export const TINY_CLIP = {
  image_size: 224,
  patch_size: 14,
  dim: 1280,
  mlp_ratio: 0.25,
  out_dim: 1280,
  num_heads: 16,
  num_layers: 2,
  pool_type: "token",
  pre_norm: true,
  post_norm: false,
  activation: "gelu",
  norm_eps: 1e-5,
} as const;

/** Loads a safetensors file, renames (null drops) and splits tensors, writes it to `out`. */
function rewrite(src: string, out: string, map: (k: string, t: TensorToWrite) => [string, TensorToWrite][]): void {
  const { tensors } = loadAll(src);
  const o = new Map<string, TensorToWrite>();
  for (const [k, t] of tensors) for (const [nk, nt] of map(k, t)) o.set(nk, nt);
  mkdirSync(dirname(out), { recursive: true });
  writeSafetensors(out, o);
}

/** Official CLIP (`visual.*`) → transformers CLIPVisionModel names (the inverse of the loader's conversion). */
function clipToHf(k: string, t: TensorToWrite): [string, TensorToWrite][] {
  const V = "vision_model.";
  const D = TINY_CLIP.dim;
  if (k === "visual.cls_embedding") return [[`${V}embeddings.class_embedding`, { ...t, dims: [D] }]];
  if (k === "visual.pos_embedding")
    return [[`${V}embeddings.position_embedding.weight`, { ...t, dims: t.dims.slice(1) }]];
  if (k === "visual.patch_embedding.weight") return [[`${V}embeddings.patch_embedding.weight`, t]];
  if (k === "visual.head") return [];
  let m = /^visual\.(pre_norm|post_norm)\.(weight|bias)$/.exec(k);
  if (m) return [[`${V}${m[1] === "pre_norm" ? "pre_layrnorm" : "post_layernorm"}.${m[2]}`, t]];
  m = /^visual\.transformer\.(\d+)\.attn\.to_qkv\.(weight|bias)$/.exec(k);
  if (m) {
    const n = t.data.length / 3;
    return ["q", "k", "v"].map((p, i) => [
      `${V}encoder.layers.${m![1]}.self_attn.${p}_proj.${m![2]}`,
      {
        dtype: t.dtype,
        dims: [t.dims[0]! / 3, ...t.dims.slice(1)],
        data: (t.data as Float32Array).slice(i * n, (i + 1) * n),
      },
    ]);
  }
  m = /^visual\.transformer\.(\d+)\.(norm1|norm2|attn\.proj|mlp\.0|mlp\.2)\.(weight|bias)$/.exec(k);
  if (m) {
    const name = {
      norm1: "layer_norm1",
      norm2: "layer_norm2",
      "attn.proj": "self_attn.out_proj",
      "mlp.0": "mlp.fc1",
      "mlp.2": "mlp.fc2",
    }[m[2] as "norm1"];
    return [[`${V}encoder.layers.${m[1]}.${name}.${m[3]}`, t]];
  }
  throw new Error(`clipToHf: unexpected key ${k}`);
}

function need(name: string): string {
  const p = fixturePath(name);
  if (!p) throw new Error(`fixture ${name} is missing`);
  return p;
}

/** Names of the fixtures the tiny layouts need (for skip checks). */
export const TINY_LAYOUT_FIXTURES = [
  "t5-tiny.weights.safetensors",
  "vae-tiny.weights.safetensors",
  "vae22-tiny.weights.safetensors",
] as const;

/** Writes a tiny model of `kind` in `layout` under `dir`. */
export function makeTinyLayout(
  dir: string,
  layout: TinyLayout,
  kind: TinyKind,
  o: { tokenizer?: TinyTokenizer; name?: string; hfHub?: string } = {},
): TinyModel {
  const name = o.name ?? `tiny-${layout}-${kind}`;
  const tokenizer = o.tokenizer ?? "json";
  const cfg = ditConfig(kind);
  const v22 = kind === "ti2v";
  const image = kind === "i2v" || kind === "flf2v";
  const t5 = need("t5-tiny.weights.safetensors");
  const vae = need(v22 ? "vae22-tiny.weights.safetensors" : "vae-tiny.weights.safetensors");
  const t5Cfg = JSON.parse(readHeader(t5).metadata.config!) as Record<string, number>;
  const vaeCfg = JSON.parse(readHeader(vae).metadata.config!) as Record<string, unknown>;
  const scratch = join(dir, `.${name}-src`);
  mkdirSync(scratch, { recursive: true });
  const ditSrc = join(scratch, "dit.safetensors");
  writeRandomWeights(ditSrc, wanParams(cfg), 11);
  const clipSrc = join(scratch, "clip.safetensors");
  if (image) {
    const c = parseClipVisionConfig(TINY_CLIP, "tiny clip");
    const { used, unused } = clipVisionParams(c);
    unused.delete("visual.head");
    writeRandomWeights(clipSrc, new Map([...used, ...unused]), 12);
  }
  const writeTokenizer = (tokDir: string) => {
    if (tokenizer === "none" || tokenizer === "embedded") return;
    mkdirSync(tokDir, { recursive: true });
    if (tokenizer === "json") writeFileSync(join(tokDir, "tokenizer.json"), JSON.stringify(tinyTokenizerJson()));
    else writeFileSync(join(tokDir, "spiece.model"), tinySpieceModel());
  };
  const same = (k: string, t: TensorToWrite): [string, TensorToWrite][] => [[k, t]];

  if (layout === "official") {
    const root = join(dir, name);
    rewrite(ditSrc, join(root, "diffusion_pytorch_model.safetensors"), same);
    writeFileSync(join(root, "config.json"), JSON.stringify(cfg));
    rewrite(t5, join(root, "models_t5_umt5-xxl-enc-bf16.safetensors"), same);
    rewrite(vae, join(root, v22 ? "Wan2.2_VAE.safetensors" : "Wan2.1_VAE.safetensors"), same);
    if (image) rewrite(clipSrc, join(root, "models_clip_open-clip-xlm-roberta-large-vit-huge-14.safetensors"), same);
    writeTokenizer(join(root, "google", "umt5-xxl"));
    writeFileSync(join(root, "reel.json"), JSON.stringify({ name, t5: t5Cfg, ...(image ? { clip: TINY_CLIP } : {}) }));
    return { model: root, root };
  }

  if (layout === "diffusers") {
    const root = join(dir, name);
    const toDiff = (k: string, t: TensorToWrite): [string, TensorToWrite][] => [[officialToDiffusers(k) ?? k, t]];
    rewrite(ditSrc, join(root, "transformer", "diffusion_pytorch_model.safetensors"), toDiff);
    writeFileSync(
      join(root, "transformer", "config.json"),
      JSON.stringify({
        _class_name: "WanTransformer3DModel",
        patch_size: cfg.patch_size,
        num_attention_heads: cfg.num_heads,
        attention_head_dim: cfg.dim / cfg.num_heads,
        in_channels: cfg.in_dim,
        out_channels: cfg.out_dim,
        text_dim: cfg.text_dim,
        freq_dim: cfg.freq_dim,
        ffn_dim: cfg.ffn_dim,
        num_layers: cfg.num_layers,
        cross_attn_norm: true,
        qk_norm: "rms_norm_across_heads",
        eps: 1e-6,
        image_dim: image ? 1280 : null,
        added_kv_proj_dim: image ? cfg.dim : null,
        pos_embed_seq_len: kind === "flf2v" ? 514 : null,
      }),
    );
    rewrite(t5, join(root, "text_encoder", "model.safetensors"), (k, t) => [[officialToHf(k) ?? k, t]]);
    writeFileSync(
      join(root, "text_encoder", "config.json"),
      JSON.stringify({
        architectures: ["UMT5EncoderModel"],
        model_type: "umt5",
        vocab_size: t5Cfg.vocab,
        d_model: t5Cfg.dim,
        d_kv: t5Cfg.dim_attn! / t5Cfg.num_heads!,
        d_ff: t5Cfg.dim_ffn,
        num_heads: t5Cfg.num_heads,
        num_layers: t5Cfg.num_layers,
        relative_attention_num_buckets: t5Cfg.num_buckets,
        feed_forward_proj: "gated-gelu",
      }),
    );
    const nrb = vaeCfg.num_res_blocks as number;
    rewrite(vae, join(root, "vae", "diffusion_pytorch_model.safetensors"), (k, t) => {
      const nk = vaeOfficialToDiffusers(k, v22 ? "2.2" : "2.1", nrb);
      if (!nk) throw new Error(`vae key ${k} has no diffusers name`);
      return [[nk, t]];
    });
    writeFileSync(
      join(root, "vae", "config.json"),
      JSON.stringify({
        _class_name: "AutoencoderKLWan",
        base_dim: vaeCfg.dim,
        ...(v22 ? { decoder_base_dim: vaeCfg.dec_dim, is_residual: true, patch_size: 2 } : {}),
        z_dim: vaeCfg.z_dim,
        dim_mult: vaeCfg.dim_mult,
        num_res_blocks: nrb,
        attn_scales: [],
        temperal_downsample: vaeCfg.temperal_downsample,
        dropout: 0,
      }),
    );
    if (image) {
      rewrite(clipSrc, join(root, "image_encoder", "model.safetensors"), clipToHf);
      writeFileSync(
        join(root, "image_encoder", "config.json"),
        JSON.stringify({
          architectures: ["CLIPVisionModelWithProjection"],
          model_type: "clip_vision_model",
          hidden_size: TINY_CLIP.dim,
          intermediate_size: TINY_CLIP.dim * TINY_CLIP.mlp_ratio,
          num_attention_heads: TINY_CLIP.num_heads,
          num_hidden_layers: TINY_CLIP.num_layers,
          image_size: TINY_CLIP.image_size,
          patch_size: TINY_CLIP.patch_size,
          hidden_act: "gelu",
          layer_norm_eps: 1e-5,
          projection_dim: 1024,
        }),
      );
    }
    writeTokenizer(join(root, "tokenizer"));
    writeFileSync(
      join(root, "model_index.json"),
      JSON.stringify({
        _class_name: image ? "WanImageToVideoPipeline" : "WanPipeline",
        transformer: ["diffusers", "WanTransformer3DModel"],
        text_encoder: ["transformers", "UMT5EncoderModel"],
        tokenizer: ["transformers", "T5TokenizerFast"],
        vae: ["diffusers", "AutoencoderKLWan"],
        ...(image ? { image_encoder: ["transformers", "CLIPVisionModelWithProjection"] } : {}),
      }),
    );
    return { model: root, root };
  }

  // ComfyUI: a models/ root with the split files; tokenizer next to the text encoder or in o.hfHub.
  const root = join(dir, name, "models");
  const ditFile = join(root, "diffusion_models", `wan2.1_${kind}_tiny_fp32.safetensors`);
  rewrite(ditSrc, ditFile, (k, t) => [[`model.diffusion_model.${k}`, t]]);
  const spiece = tinySpieceModel();
  rewrite(t5, join(root, "text_encoders", "umt5_xxl_fp32.safetensors"), (k, t) => [
    [officialToHf(k) ?? k, t],
    ...(tokenizer === "embedded" && k === "token_embedding.weight"
      ? [["spiece_model", { dtype: "uint8", dims: [spiece.length], data: spiece }] as [string, TensorToWrite]]
      : []),
  ]);
  rewrite(vae, join(root, "vae", v22 ? "wan2.2_vae.safetensors" : "wan_2.1_vae.safetensors"), same);
  if (image) rewrite(clipSrc, join(root, "clip_vision", "clip_vision_h.safetensors"), clipToHf);
  if (o.hfHub) writeTokenizer(join(o.hfHub, "models--google--umt5-xxl", "snapshots", "0123abcd"));
  else writeTokenizer(join(root, "text_encoders", "google", "umt5-xxl"));
  return { model: ditFile, root };
}
