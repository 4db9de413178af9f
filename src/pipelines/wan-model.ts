/**
 * Opens a discovered Wan model folder (official Wan-AI layout, or reel's own models in the
 * same layout) as the components the pipelines use. Nothing heavy happens here: weights are
 * memory-mapped when sessions are created, and the text encoder is opened per use and
 * released before sampling.
 *
 * Configs: the DiT's `config.json` (official WanModel kwargs) or the weights; umT5-XXL, the
 * VAE 2.1/2.2 and CLIP ViT-H/14 presets for the official files; `reel.json` overrides any of
 * them and carries the generation defaults of reel's own models.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Device, Runtime } from "../engine/runtime.ts";
import { weightMapFromFiles } from "../engine/weights.ts";
import { ReelError } from "../errors.ts";
import { clipWeightMap, ClipVisionEncoder } from "../models/clip/model.ts";
import { clipPreset, parseClipVisionConfig } from "../models/clip/config.ts";
import { type GenerationDefaults, WAN_DEFAULTS, WAN_NEGATIVE_PROMPT } from "../models/defaults.ts";
import { type ModelFolder, requireComplete } from "../models/discovery.ts";
import { parseT5Config, t5Preset, type T5Config } from "../models/t5/config.ts";
import { t5WeightMapFromFiles } from "../models/t5/keys.ts";
import { UMT5Encoder } from "../models/t5/model.ts";
import { UmT5Tokenizer } from "../models/t5/tokenizer.ts";
import { openWanCheckpoint, openWanMoE, selectExpert } from "../models/wan/checkpoint.ts";
import { WAN_MOE, WAN_PRESETS, type WanConfig, type WanPresetName } from "../models/wan/config.ts";
import { WanDiT } from "../models/wan/model.ts";
import { linearInt8Blocks } from "../models/wan/transformer.ts";
import {
  parseWanVaeConfig,
  spatialFactor,
  temporalFactor,
  vaePreset,
  type WanVaeConfig,
} from "../models/wan/vae-config.ts";
import { WanVAE } from "../models/wan/vae-runner.ts";
import type { ModelRules } from "./request.ts";

export interface LoadOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
  /** DiT linear layers: float32 (default, matches the reference) or int8 (about 2–3× faster on CPU). */
  readonly precision?: "f32" | "int8";
}

export interface WanBundle {
  readonly name: string;
  readonly folder: ModelFolder;
  /** The released model this matches (a WAN_PRESETS name), if any. */
  readonly kind: WanPresetName | null;
  readonly ditConfig: WanConfig;
  /** The DiT for timestep t (the A14B experts switch at their boundary). */
  ditFor(t: number): WanDiT;
  /** Frees the DiT sessions (after sampling, before the VAE decode); the next use reopens them. */
  releaseDit(): Promise<void>;
  /** Guidance scale at timestep t. */
  guidanceFor(t: number, scale: number | undefined): number;
  readonly tokenizer: UmT5Tokenizer;
  /** Opens the text encoder; the caller releases it (pipelines do, before sampling). */
  openTextEncoder(): UMT5Encoder;
  readonly t5Config: T5Config;
  readonly vae: WanVAE;
  readonly clip: ClipVisionEncoder | null;
  readonly defaults: GenerationDefaults;
  readonly rules: ModelRules;
  /** VAE strides: time, space; latent channels. */
  readonly vaeStride: { readonly t: number; readonly s: number; readonly z: number };
  /** Bytes of each component's weights (for the memory estimate). */
  readonly weightBytes: { readonly dit: number; readonly t5: number; readonly vae: number; readonly clip: number };
  /** Latent-to-RGB preview projection, when the model ships one. */
  readonly preview?: { readonly weight: readonly (readonly number[])[]; readonly bias: readonly number[] };
}

function matchPreset(c: WanConfig): WanPresetName | null {
  for (const [name, p] of Object.entries(WAN_PRESETS))
    if (
      p.model_type === c.model_type &&
      p.dim === c.dim &&
      p.in_dim === c.in_dim &&
      p.num_layers === c.num_layers &&
      p.wan_version === c.wan_version
    )
      return name as WanPresetName;
  return null;
}

function bytesOf(w: ReturnType<typeof weightMapFromFiles>): number {
  let n = 0;
  for (const s of w.values()) n += (s.entry.byteLength / (s.entry.dtype === "float32" ? 4 : 2)) * 4;
  return n;
}

export function openWanBundle(folder: ModelFolder, o: LoadOptions): WanBundle {
  requireComplete(folder);
  const reel = folder.reel ?? {};
  const c = folder.components;
  const runOpts = {
    runtime: o.runtime,
    device: o.device,
    ...(o.threads ? { threads: o.threads } : {}),
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
  };
  const ditOpts = o.precision === "int8" ? { ...runOpts, linear: linearInt8Blocks, linearName: "int8" } : runOpts;

  // 1. DiT (one, or the two A14B experts)
  let ditFor: (t: number) => WanDiT;
  let releaseDit: () => Promise<void>;
  let ditConfig: WanConfig;
  let ditBytes: number;
  let guidanceFor: (t: number, g: number | undefined) => number;
  let kind: WanPresetName | null;
  if (folder.experts) {
    const moeKind = folder.name.includes("i2v") ? "i2v-A14B" : "t2v-A14B";
    const moe = openWanMoE(folder.root, moeKind);
    const high = new WanDiT(moe.high.config, moe.high.weights, ditOpts);
    const low = new WanDiT(moe.low.config, moe.low.weights, ditOpts);
    ditConfig = moe.high.config;
    ditBytes = bytesOf(moe.high.weights);
    kind = moeKind;
    const g = WAN_MOE[moeKind].guide_scale;
    ditFor = (t) => (selectExpert(t, moe.boundary) === "high" ? high : low);
    releaseDit = async () => {
      await high.release();
      await low.release();
    };
    guidanceFor = (t, scale) => scale ?? (selectExpert(t, moe.boundary) === "high" ? g.high : g.low);
  } else {
    const ck = openWanCheckpoint(c.dit!);
    const dit = new WanDiT(ck.config, ck.weights, ditOpts);
    ditConfig = ck.config;
    ditBytes = bytesOf(ck.weights);
    kind = matchPreset(ck.config);
    ditFor = () => dit;
    releaseDit = () => dit.release();
    guidanceFor = (_t, scale) =>
      scale ?? (typeof defaults.guidance === "number" ? defaults.guidance : defaults.guidance.high);
  }

  // 2. text encoder and tokenizer
  const t5Config = reel.t5 ? parseT5Config(reel.t5, `${folder.root}/reel.json t5`) : t5Preset("umt5-xxl");
  const t5Files = [c.text_encoder!];
  const t5Weights = t5WeightMapFromFiles(t5Files).weights;
  const tokenizer = UmT5Tokenizer.fromFolder(c.tokenizer!);

  // 3. VAE
  const vaeVersion = /Wan2\.2_VAE/.test(c.vae!) ? "2.2" : "2.1";
  const vaeConfig: WanVaeConfig = reel.vae
    ? parseWanVaeConfig(reel.vae, vaeVersion, `${folder.root}/reel.json vae`)
    : vaePreset(vaeVersion === "2.2" ? "wan2.2" : "wan2.1");
  const vaeWeights = weightMapFromFiles([c.vae!]);
  // reel's own models carry their latent statistics; the official VAEs use the wrappers' constants.
  const stat = (k: string) => (Array.isArray(reel[k]) ? Float32Array.from(reel[k] as number[]) : undefined);
  const latentsMean = stat("latents_mean");
  const latentsStd = stat("latents_std");
  const vae = new WanVAE(vaeConfig, vaeWeights, {
    ...runOpts,
    ...(latentsMean ? { latentsMean } : {}),
    ...(latentsStd ? { latentsStd } : {}),
  });

  // 4. CLIP (Wan 2.1 image-to-video)
  let clip: ClipVisionEncoder | null = null;
  let clipBytes = 0;
  if (
    c.clip &&
    (ditConfig.model_type === "i2v" || ditConfig.model_type === "flf2v") &&
    ditConfig.wan_version === "2.1"
  ) {
    const cfg = reel.clip ? parseClipVisionConfig(reel.clip, `${folder.root}/reel.json clip`) : clipPreset("vit-h-14");
    const w = clipWeightMap([c.clip]);
    clip = new ClipVisionEncoder(cfg, w, runOpts);
    clipBytes = bytesOf(w);
  }

  // 5. defaults and rules
  const defaults: GenerationDefaults = reel.defaults
    ? { negativePrompt: WAN_NEGATIVE_PROMPT, ...(reel.defaults as Omit<GenerationDefaults, "negativePrompt">) }
    : kind
      ? WAN_DEFAULTS[kind]
      : WAN_DEFAULTS["t2v-1.3B"];
  const s = spatialFactor(vaeConfig);
  const t = temporalFactor(vaeConfig);
  const rules: ModelRules = {
    name: folder.name,
    sizeMultiple: s * ditConfig.patch_size[1],
    frameStep: t,
    supportsImage: ditConfig.model_type !== "t2v",
    supportsLastImage: ditConfig.model_type === "flf2v",
  };
  if (!existsSync(join(c.tokenizer!, "tokenizer.json")))
    throw new ReelError("E_MODEL_NOT_FOUND", `${folder.name}: no tokenizer.json in ${c.tokenizer}`);
  return {
    name: folder.name,
    folder,
    kind,
    ditConfig,
    ditFor,
    releaseDit,
    guidanceFor,
    tokenizer,
    openTextEncoder: () => new UMT5Encoder(t5Config, t5Weights, runOpts),
    t5Config,
    vae,
    clip,
    defaults,
    rules,
    vaeStride: { t, s, z: vaeConfig.z_dim },
    weightBytes: { dit: ditBytes, t5: bytesOf(t5Weights), vae: bytesOf(vaeWeights), clip: clipBytes },
    ...(reel.preview ? { preview: reel.preview as WanBundle["preview"] } : {}),
  };
}
