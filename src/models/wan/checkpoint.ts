/**
 * Finds and opens a Wan DiT checkpoint in any of the layouts people have on disk:
 *
 * - official Wan-AI folders: `diffusion_pytorch_model.safetensors` or shards
 *   `diffusion_pytorch_model-0000k-of-0000n.safetensors` with
 *   `diffusion_pytorch_model.safetensors.index.json`, plus `config.json` (WanModel kwargs);
 *   Wan 2.2 A14B has one such set in `high_noise_model/` and `low_noise_model/`;
 * - diffusers folders (`transformer/` with WanTransformer3DModel `config.json`);
 * - ComfyUI single files (`wan2.1_t2v_1.3B_fp16.safetensors`, keys under `model.diffusion_model.`).
 *
 * The config (from config.json, a preset, or inferred) is cross-checked against the weights.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readHeader } from "../../engine/safetensors.ts";
import { type WeightMap, weightMapFromFiles } from "../../engine/weights.ts";
import { ReelError } from "../../errors.ts";
import { type WanConfig, type WanPresetName, WAN_MOE, WAN_PRESETS, parseWanConfig, preset } from "./config.ts";
import { type KeyLayout, detectLayout, renamerFor } from "./keys.ts";

export interface WanCheckpoint {
  readonly config: WanConfig;
  readonly weights: WeightMap;
  readonly files: readonly string[];
  readonly layout: KeyLayout;
}

export interface WanMoECheckpoint {
  readonly high: WanCheckpoint;
  readonly low: WanCheckpoint;
  /** Switch to the low-noise expert when t < boundary·1000. */
  readonly boundary: number;
}

const INDEX = "diffusion_pytorch_model.safetensors.index.json";
const SINGLE = "diffusion_pytorch_model.safetensors";

function notFound(msg: string, looked: string[]): ReelError {
  return new ReelError("E_MODEL_NOT_FOUND", `${msg}\n  looked for:\n${looked.map((l) => `    ${l}`).join("\n")}`, {
    details: { looked },
  });
}

/** The safetensors files of one DiT in `dir` (single file or shards listed by the index). */
export function ditFiles(dir: string): string[] {
  const index = join(dir, INDEX);
  if (existsSync(index)) {
    let parsed: { weight_map?: Record<string, string> };
    try {
      parsed = JSON.parse(readFileSync(index, "utf8")) as typeof parsed;
    } catch (e) {
      throw new ReelError("E_CONFIG_INVALID", `${index}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof parsed.weight_map !== "object" || parsed.weight_map === null)
      throw new ReelError("E_CONFIG_INVALID", `${index}: no "weight_map" object`);
    const shards = [...new Set(Object.values(parsed.weight_map))].sort();
    const missing = shards.filter((s) => !existsSync(join(dir, s)));
    if (missing.length > 0)
      throw new ReelError(
        "E_MODEL_NOT_FOUND",
        `${dir}: ${missing.length} of ${shards.length} shards listed in ${INDEX} are missing (partial download?): ${missing.join(", ")}`,
      );
    return shards.map((s) => join(dir, s));
  }
  if (existsSync(join(dir, SINGLE))) return [join(dir, SINGLE)];
  const loose = readdirSync(dir).filter((f) => /^diffusion_pytorch_model-\d+-of-\d+\.safetensors$/.test(f));
  if (loose.length > 0) throw notFound(`${dir}: shards without ${INDEX}`, [join(dir, INDEX)]);
  throw notFound(`${dir}: no Wan DiT weights`, [join(dir, SINGLE), join(dir, INDEX)]);
}

/** Reads config.json in the official (WanModel kwargs) or diffusers (WanTransformer3DModel) form. */
export function readConfigJson(path: string): Record<string, unknown> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new ReelError("E_CONFIG_INVALID", `${path}: not valid JSON (${(e as Error).message})`);
  }
  if (raw._class_name === "WanTransformer3DModel" || "num_attention_heads" in raw) return fromDiffusersConfig(raw);
  return raw;
}

function fromDiffusersConfig(d: Record<string, unknown>): Record<string, unknown> {
  const heads = Number(d.num_attention_heads);
  const hd = Number(d.attention_head_dim);
  const inCh = Number(d.in_channels);
  const hasImage = d.image_dim !== null && d.image_dim !== undefined;
  const model_type = hasImage
    ? d.pos_embed_seq_len
      ? "flf2v"
      : "i2v"
    : inCh === 48
      ? "ti2v"
      : inCh === 36
        ? "i2v"
        : "t2v";
  return {
    model_type,
    patch_size: d.patch_size,
    text_len: 512,
    in_dim: inCh,
    dim: heads * hd,
    ffn_dim: d.ffn_dim,
    freq_dim: d.freq_dim,
    text_dim: d.text_dim,
    out_dim: d.out_channels,
    num_heads: heads,
    num_layers: d.num_layers,
    qk_norm: d.qk_norm !== null && d.qk_norm !== undefined,
    cross_attn_norm: d.cross_attn_norm ?? true,
    eps: d.eps ?? 1e-6,
    ...(model_type === "i2v" && !hasImage ? { wan_version: "2.2" } : {}),
  };
}

/** What the weights say about the architecture (num_heads cannot be seen; head dim 128 is assumed). */
export function inferConfigFromWeights(w: WeightMap): Record<string, unknown> {
  const shape = (k: string): readonly number[] => {
    const s = w.get(k)?.entry.shape;
    if (s === undefined) throw new ReelError("E_WEIGHTS_MISMATCH", `cannot infer the architecture: no "${k}" tensor`);
    return s;
  };
  const pe = shape("patch_embedding.weight"); // [dim, in_dim, pt, ph, pw]
  const head = shape("head.head.weight"); //     [prod(patch)·out_dim, dim]
  const dim = pe[0]!;
  const patch = [pe[2]!, pe[3]!, pe[4]!];
  let layers = 0;
  for (const k of w.keys()) {
    const m = /^blocks\.(\d+)\./.exec(k);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  const hasImg = w.has("img_emb.proj.1.weight");
  const inDim = pe[1]!;
  return {
    model_type: hasImg
      ? w.has("img_emb.emb_pos")
        ? "flf2v"
        : "i2v"
      : inDim === 48
        ? "ti2v"
        : inDim > 16
          ? "i2v"
          : "t2v",
    patch_size: patch,
    text_len: 512,
    in_dim: inDim,
    dim,
    ffn_dim: shape("blocks.0.ffn.0.weight")[0],
    freq_dim: shape("time_embedding.0.weight")[1],
    text_dim: shape("text_embedding.0.weight")[1],
    out_dim: head[0]! / (patch[0]! * patch[1]! * patch[2]!),
    num_heads: Math.max(1, Math.round(dim / 128)),
    num_layers: layers,
    qk_norm: w.has("blocks.0.self_attn.norm_q.weight"),
    cross_attn_norm: w.has("blocks.0.norm3.weight"),
    eps: 1e-6,
    wan_version: inDim === 48 || (inDim > 16 && !hasImg) ? "2.2" : "2.1",
  };
}

/** Cross-checks a config against the weights; one error lists every disagreement. */
export function crossCheck(config: WanConfig, w: WeightMap, where: string): void {
  const seen = parseWanConfig({ ...inferConfigFromWeights(w), num_heads: config.num_heads }, `${where} (weights)`);
  const fields = [
    "model_type",
    "in_dim",
    "dim",
    "ffn_dim",
    "freq_dim",
    "text_dim",
    "out_dim",
    "num_layers",
    "qk_norm",
    "cross_attn_norm",
  ] as const;
  const diffs: string[] = [];
  for (const f of fields) {
    if (f === "model_type" && config.wan_version === "2.2" && seen.model_type === "i2v" && config.model_type === "i2v")
      continue;
    if (config[f] !== seen[f])
      diffs.push(`${f}: config says ${JSON.stringify(config[f])}, weights say ${JSON.stringify(seen[f])}`);
  }
  if (config.patch_size.join() !== seen.patch_size.join())
    diffs.push(`patch_size: config says [${config.patch_size}], weights say [${seen.patch_size}]`);
  if (diffs.length > 0)
    throw new ReelError(
      "E_WEIGHTS_MISMATCH",
      `${where}: the weights are not the configured variant:\n  ${diffs.join("\n  ")}`,
      {
        details: { diffs },
      },
    );
}

function openFiles(
  files: string[],
  configRaw: Record<string, unknown> | null,
  where: string,
  presetName?: WanPresetName,
): WanCheckpoint {
  const keys = files.flatMap((f) => [...readHeader(f).tensors.keys()]);
  const layout = detectLayout(keys);
  const weights = weightMapFromFiles(files, renamerFor(layout, keys));
  const raw = configRaw ?? (presetName ? WAN_PRESETS[presetName] : inferConfigFromWeights(weights));
  const config = presetName && !configRaw ? preset(presetName) : parseWanConfig(raw, where);
  crossCheck(config, weights, where);
  return { config, weights, files, layout };
}

/**
 * Opens a DiT from a folder (official or diffusers layout) or a single .safetensors file.
 * A14B folders (high_noise_model/ + low_noise_model/) are opened with `openWanMoE`.
 */
export function openWanCheckpoint(path: string, presetName?: WanPresetName): WanCheckpoint {
  if (!existsSync(path)) throw notFound(`model path ${path} does not exist`, [path]);
  if (statSync(path).isFile()) {
    const cfgPath = join(dirname(path), "config.json");
    const cfg = basename(path) === SINGLE && existsSync(cfgPath) ? readConfigJson(cfgPath) : null;
    return openFiles([path], cfg, path, presetName);
  }
  const sub = join(path, "transformer");
  const dir = !existsSync(join(path, SINGLE)) && !existsSync(join(path, INDEX)) && existsSync(sub) ? sub : path;
  if (existsSync(join(dir, "high_noise_model")))
    throw new ReelError("E_INPUT_INVALID", `${dir} is a two-expert (A14B) model: open it with openWanMoE`);
  const files = ditFiles(dir);
  const cfgPath = join(dir, "config.json");
  return openFiles(files, existsSync(cfgPath) ? readConfigJson(cfgPath) : null, dir, presetName);
}

/**
 * Opens a two-expert folder (Wan 2.2 A14B, or reel's own): the experts switch at `boundary`,
 * by default the A14B release's. Without a config.json an expert is the `kind` preset.
 */
export function openWanMoE(
  dir: string,
  kind: keyof typeof WAN_MOE,
  boundary: number = WAN_MOE[kind].boundary,
): WanMoECheckpoint {
  const looked = [join(dir, "high_noise_model"), join(dir, "low_noise_model")];
  if (!looked.every((p) => existsSync(p))) throw notFound(`${dir}: not a two-expert Wan 2.2 A14B folder`, looked);
  const open = (p: string) => {
    const files = ditFiles(p);
    const cfgPath = join(p, "config.json");
    const raw = existsSync(cfgPath) ? { ...readConfigJson(cfgPath), wan_version: "2.2" } : null;
    return openFiles(files, raw, p, raw ? undefined : kind);
  };
  return { high: open(looked[0]!), low: open(looked[1]!), boundary };
}

/** Which expert runs at timestep t (0..1000): high-noise while t ≥ boundary·1000. */
export function selectExpert(t: number, boundary: number): "high" | "low" {
  return t >= boundary * 1000 ? "high" : "low";
}
