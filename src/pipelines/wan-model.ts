/**
 * Opens a discovered Wan model (official Wan-AI layout and reel's own models, diffusers
 * folders, ComfyUI split files) as the components the pipelines use. Nothing heavy happens here: weights are
 * memory-mapped when sessions are created, and the text encoder is opened per use and
 * released before sampling.
 *
 * Configs: the DiT's `config.json` (official WanModel kwargs or diffusers) or the weights;
 * diffusers/HF `config.json` of each component; otherwise umT5-XXL and CLIP ViT-H/14 presets
 * for the official files, and configs read off the weights for the VAE and for ComfyUI's files
 * (which come without any); `reel.json` overrides any of them and carries the generation
 * defaults of reel's own models.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Device, Runtime } from "../engine/runtime.ts";
import { defaultCacheDir } from "../engine/compile.ts";
import { readHeader } from "../engine/safetensors.ts";
import { type WeightMap, weightMapFromFiles } from "../engine/weights.ts";
import { ReelError } from "../errors.ts";
import { clipWeightMap, ClipVisionEncoder } from "../models/clip/model.ts";
import { type ClipVisionConfig, clipPreset, parseClipVisionConfig } from "../models/clip/config.ts";
import { convertHfClip, fromHfClipConfig, inferClipConfig, isHfClipKeys } from "../models/clip/hf-keys.ts";
import { type GenerationDefaults, WAN_DEFAULTS, WAN_NEGATIVE_PROMPT } from "../models/defaults.ts";
import { type ModelFolder, requireComplete } from "../models/discovery.ts";
import { parseT5Config, t5Preset, type T5Config } from "../models/t5/config.ts";
import { fromHfT5Config, inferT5Config } from "../models/t5/hf-config.ts";
import { t5WeightMapFromFiles } from "../models/t5/keys.ts";
import { UMT5Encoder } from "../models/t5/model.ts";
import { UmT5Tokenizer } from "../models/t5/tokenizer.ts";
import { openWanCheckpoint, openWanMoE, selectExpert } from "../models/wan/checkpoint.ts";
import { parseExperts, WAN_PRESETS, type WanConfig, type WanPresetName } from "../models/wan/config.ts";
import { WanDiT } from "../models/wan/model.ts";
import { linearInt8Blocks } from "../models/wan/transformer.ts";
import { parseWanVaeConfig, spatialFactor, temporalFactor, type WanVaeConfig } from "../models/wan/vae-config.ts";
import { inferVaeConfig } from "../models/wan/vae-infer.ts";
import { fromDiffusersVaeConfig, isDiffusersVaeKeys, vaeDiffusersToOfficial } from "../models/wan/vae-keys.ts";
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

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ReelError("E_CONFIG_INVALID", `${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** A weights file, or the `.safetensors` files of a diffusers/HF component folder (shards included). */
function safetensorsIn(path: string): string[] {
  if (!isDir(path)) return [path];
  const files = readdirSync(path)
    .filter((f) => f.endsWith(".safetensors"))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0)
    throw new ReelError("E_MODEL_NOT_FOUND", `${path}: no .safetensors weights`, {
      details: { looked: [join(path, "*.safetensors")] },
    });
  return files;
}

function shapesOf(w: WeightMap): Map<string, readonly number[]> {
  return new Map([...w].map(([k, v]) => [k, v.entry.shape] as const));
}

/**
 * The VAE in any layout: reel.json's config, a diffusers `vae/` folder (config.json +
 * AutoencoderKLWan names), or official names (Wan-AI `.pth`, ComfyUI) with the config read off
 * the weights.
 */
function openVae(
  folder: ModelFolder,
  reel: Record<string, unknown>,
): { config: WanVaeConfig; weights: WeightMap; stats: { mean?: Float32Array; std?: Float32Array } } {
  const path = folder.components.vae!;
  const files = safetensorsIn(path);
  const cfgJson = join(path, "config.json");
  if (isDir(path) && existsSync(cfgJson)) {
    const d = fromDiffusersVaeConfig(readJson(cfgJson), cfgJson);
    const config = reel.vae
      ? parseWanVaeConfig(reel.vae, d.version, `${folder.root}/reel.json vae`)
      : parseWanVaeConfig(d.config, d.version, cfgJson);
    const keys = files.flatMap((f) => [...readHeader(f).tensors.keys()]);
    const weights = isDiffusersVaeKeys(keys)
      ? weightMapFromFiles(files, (k) => vaeDiffusersToOfficial(k, config.version, config.num_res_blocks) ?? k)
      : weightMapFromFiles(files);
    return {
      config,
      weights,
      stats: {
        ...(d.latentsMean ? { mean: Float32Array.from(d.latentsMean) } : {}),
        ...(d.latentsStd ? { std: Float32Array.from(d.latentsStd) } : {}),
      },
    };
  }
  const weights = weightMapFromFiles(files);
  if (reel.vae) {
    const version = /Wan2\.2_VAE/.test(path) ? "2.2" : "2.1";
    return { config: parseWanVaeConfig(reel.vae, version, `${folder.root}/reel.json vae`), weights, stats: {} };
  }
  const inferred = inferVaeConfig(shapesOf(weights), path);
  return { config: parseWanVaeConfig(inferred.config, inferred.version, `${path} (weights)`), weights, stats: {} };
}

/**
 * CLIP in any layout: the official open-clip file (`visual.*`), or HF CLIPVisionModel names
 * (diffusers `image_encoder/`, ComfyUI `clip_vision_h`), converted once into the cache.
 */
function openClip(
  path: string,
  reel: Record<string, unknown>,
  folder: ModelFolder,
  cacheDir: string,
): { config: ClipVisionConfig; weights: WeightMap } {
  const files = safetensorsIn(path);
  const keys = files.flatMap((f) => [...readHeader(f).tensors.keys()]);
  const hf = isHfClipKeys(keys);
  if (hf && files.length !== 1)
    throw new ReelError(
      "E_INPUT_INVALID",
      `${path}: sharded HF CLIP checkpoints are not supported (one file expected)`,
    );
  const weights = clipWeightMap(hf ? [convertHfClip(files[0]!, cacheDir)] : files);
  const cfgJson = join(path, "config.json");
  const config = reel.clip
    ? parseClipVisionConfig(reel.clip, `${folder.root}/reel.json clip`)
    : isDir(path) && existsSync(cfgJson)
      ? parseClipVisionConfig(fromHfClipConfig(readJson(cfgJson)), cfgJson)
      : hf
        ? parseClipVisionConfig(inferClipConfig(shapesOf(weights), path), `${path} (weights)`)
        : clipPreset("vit-h-14");
  return { config, weights };
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
  let expertAt: (t: number) => "high" | "low" = () => "high";
  let kind: WanPresetName | null;
  if (folder.experts) {
    const moeKind = folder.name.includes("i2v") ? "i2v-A14B" : "t2v-A14B";
    // reel's own two-expert models say where they switch; the A14B releases switch at WAN_MOE's.
    const own = reel.experts === undefined ? undefined : parseExperts(reel.experts, `${folder.root}/reel.json`);
    const moe = openWanMoE(folder.root, moeKind, own?.boundary);
    const high = new WanDiT(moe.high.config, moe.high.weights, ditOpts);
    const low = new WanDiT(moe.low.config, moe.low.weights, ditOpts);
    ditConfig = moe.high.config;
    ditBytes = bytesOf(moe.high.weights);
    kind = own ? matchPreset(moe.high.config) : moeKind;
    expertAt = (t) => selectExpert(t, moe.boundary);
    ditFor = (t) => (expertAt(t) === "high" ? high : low);
    releaseDit = async () => {
      await high.release();
      await low.release();
    };
  } else {
    const ck = openWanCheckpoint(c.dit!);
    const dit = new WanDiT(ck.config, ck.weights, ditOpts);
    ditConfig = ck.config;
    ditBytes = bytesOf(ck.weights);
    kind = matchPreset(ck.config);
    ditFor = () => dit;
    releaseDit = () => dit.release();
  }

  // 2. text encoder and tokenizer
  const t5Files = safetensorsIn(c.text_encoder!);
  const t5Weights = t5WeightMapFromFiles(t5Files).weights;
  const t5CfgJson = join(c.text_encoder!, "config.json");
  const t5Config = reel.t5
    ? parseT5Config(reel.t5, `${folder.root}/reel.json t5`)
    : isDir(c.text_encoder!) && existsSync(t5CfgJson)
      ? parseT5Config(fromHfT5Config(readJson(t5CfgJson)), t5CfgJson)
      : folder.layout === "comfyui"
        ? parseT5Config(inferT5Config(shapesOf(t5Weights), c.text_encoder!), `${c.text_encoder} (weights)`)
        : t5Preset("umt5-xxl");
  const tokenizer = UmT5Tokenizer.fromPath(c.tokenizer!);

  // 3. VAE
  const { config: vaeConfig, weights: vaeWeights, stats: vaeStats } = openVae(folder, reel);
  // reel's own models and diffusers configs carry their latent statistics; the official VAEs
  // use the wrappers' constants.
  const stat = (k: string) => (Array.isArray(reel[k]) ? Float32Array.from(reel[k] as number[]) : undefined);
  const latentsMean = stat("latents_mean") ?? vaeStats.mean;
  const latentsStd = stat("latents_std") ?? vaeStats.std;
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
    const { config: cfg, weights: w } = openClip(c.clip, reel, folder, o.cacheDir ?? defaultCacheDir());
    clip = new ClipVisionEncoder(cfg, w, runOpts);
    clipBytes = bytesOf(w);
  }

  // 5. defaults and rules
  const defaults: GenerationDefaults = reel.defaults
    ? { negativePrompt: WAN_NEGATIVE_PROMPT, ...(reel.defaults as Omit<GenerationDefaults, "negativePrompt">) }
    : kind
      ? WAN_DEFAULTS[kind]
      : WAN_DEFAULTS["t2v-1.3B"];
  // Guidance: the request's, else the defaults' (A14B: one scale per expert).
  const g = defaults.guidance;
  const guidanceFor = (t: number, scale: number | undefined) =>
    scale ?? (typeof g === "number" ? g : expertAt(t) === "high" ? g.high : g.low);
  const s = spatialFactor(vaeConfig);
  const t = temporalFactor(vaeConfig);
  const rules: ModelRules = {
    name: folder.name,
    sizeMultiple: s * ditConfig.patch_size[1],
    frameStep: t,
    supportsImage: ditConfig.model_type !== "t2v",
    supportsLastImage: ditConfig.model_type === "flf2v",
  };
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
