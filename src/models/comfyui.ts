/**
 * ComfyUI's split-file layout. A ComfyUI `models/` root holds each part of a Wan model in its
 * own folder, shared by every model:
 *
 *   diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors   (one model per Wan DiT file; `unet/` too)
 *   text_encoders/umt5_xxl_fp16.safetensors             (HF UMT5EncoderModel keys; `clip/` too)
 *   vae/wan_2.1_vae.safetensors, vae/wan2.2_vae.safetensors (official key names)
 *   clip_vision/clip_vision_h.safetensors               (HF CLIPVisionModel keys; i2v/flf2v only)
 *
 * The DiT's header (read, never loaded) says which VAE (in_dim 48: Wan 2.2) and whether CLIP is
 * needed (`img_emb.*`). ComfyUI ships no umT5 tokenizer (it bundles its own with its source), so
 * reel looks, in order, in `text_encoders/google/umt5-xxl/`, `text_encoders/umt5-xxl/`,
 * `text_encoders/` itself, and the Hugging Face cache's google/umt5-xxl snapshot, for
 * `tokenizer.json` or `spiece.model`, and last in the text encoder file itself (some ComfyUI
 * umT5 files embed the SentencePiece model as a uint8 `spiece_model` tensor); if none is there
 * the model is listed as incomplete with the exact place to put the file.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readHeader } from "../engine/safetensors.ts";
import { ReelError } from "../errors.ts";
import { COMFY_PREFIXES } from "./wan/keys.ts";
import {
  type Component,
  hasTokenizer,
  hfHubDir,
  hfSnapshot,
  type MissingComponent,
  type ModelFolder,
} from "./discovery.ts";

const DIT_DIRS = ["diffusion_models", "unet"] as const;
const TEXT_DIRS = ["text_encoders", "clip"] as const;

/** The ComfyUI `models/` root at `dir` (the root itself or a ComfyUI install holding `models/`), or null. */
export function comfyModelsRoot(dir: string): string | null {
  for (const root of [dir, join(dir, "models")])
    if (DIT_DIRS.some((d) => isDir(join(root, d))) && isDir(join(root, "vae"))) return root;
  return null;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function files(dir: string, re: RegExp): string[] {
  if (!isDir(dir)) return [];
  return readdirSync(dir)
    .filter((f) => re.test(f) && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/** The Wan DiT files of a ComfyUI root. */
function ditFilesOf(root: string): string[] {
  return DIT_DIRS.flatMap((d) => files(join(root, d), /^wan.*\.safetensors$/i));
}

/** What the DiT's header says (in_dim, image branch); null when it cannot be read. */
function ditTraits(path: string): { v22: boolean; image: boolean } | null {
  try {
    const t = readHeader(path).tensors;
    const prefix = ["", ...COMFY_PREFIXES].find((p) => t.has(`${p}patch_embedding.weight`));
    if (prefix === undefined) return null;
    const inDim = t.get(`${prefix}patch_embedding.weight`)!.shape[1];
    return { v22: inDim === 48, image: t.has(`${prefix}img_emb.proj.1.weight`) };
  } catch {
    return null;
  }
}

/** Whether a text encoder file carries its SentencePiece model as a `spiece_model` tensor. */
function embedsSpiece(path: string): boolean {
  try {
    return readHeader(path).tensors.has("spiece_model");
  } catch {
    return false;
  }
}

/** Where a tokenizer for the umT5 text encoder may be, in the order searched. */
export function comfyTokenizerDirs(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = TEXT_DIRS.filter((d, i) => i === 0 || isDir(join(root, d))).flatMap((d) => [
    join(root, d, "google", "umt5-xxl"),
    join(root, d, "umt5-xxl"),
    join(root, d),
  ]);
  const snap = hfSnapshot(join(hfHubDir(env), "models--google--umt5-xxl"));
  if (snap) dirs.push(snap.path);
  return dirs;
}

/** One model per Wan DiT file in `root/diffusion_models/`. */
export function inspectComfyRoot(root: string, env: NodeJS.ProcessEnv = process.env): ModelFolder[] {
  return ditFilesOf(root).map((dit) => comfyModel(root, dit, env));
}

export function comfyModel(root: string, dit: string, env: NodeJS.ProcessEnv = process.env): ModelFolder {
  const name = basename(dit)
    .replace(/\.safetensors$/i, "")
    .toLowerCase();
  const traits = ditTraits(dit);
  const v22 = traits ? traits.v22 : /ti2v|5b/i.test(basename(dit));
  const components: Partial<Record<Component, string>> = { dit };
  const missing: MissingComponent[] = [];
  const need = (c: Component, found: string | undefined, lookedFor: string[], hint?: string) => {
    if (found) components[c] = found;
    else missing.push({ component: c, lookedFor, ...(hint ? { hint } : {}) });
  };
  const te = TEXT_DIRS.flatMap((d) => files(join(root, d), /umt5.*\.safetensors$/i))[0];
  need("text_encoder", te, [join(root, "text_encoders", "umt5_xxl_fp16.safetensors")]);
  const vaeRe = v22 ? /^wan_?2\.2_vae.*\.safetensors$/i : /^wan_?2\.1_vae.*\.safetensors$/i;
  need("vae", files(join(root, "vae"), vaeRe)[0], [
    join(root, "vae", v22 ? "wan2.2_vae.safetensors" : "wan_2.1_vae.safetensors"),
  ]);
  if (traits?.image && !v22)
    need("clip", files(join(root, "clip_vision"), /clip_vision_h.*\.safetensors$|vit.?h.*\.safetensors$/i)[0], [
      join(root, "clip_vision", "clip_vision_h.safetensors"),
    ]);
  const tokDirs = comfyTokenizerDirs(root, env);
  need(
    "tokenizer",
    tokDirs.find(hasTokenizer) ?? (te && embedsSpiece(te) ? te : undefined),
    tokDirs.flatMap((d) => [join(d, "tokenizer.json"), join(d, "spiece.model")]),
    `ComfyUI does not ship the umT5 tokenizer: put google/umt5-xxl's tokenizer.json (or spiece.model) in ${join(root, "text_encoders", "google", "umt5-xxl")}/, or download google/umt5-xxl into the Hugging Face cache (${hfHubDir(env)}).`,
  );
  return { name, root, layout: "comfyui", components, missing };
}

/**
 * A path given to --model that is ComfyUI's: a DiT file in `diffusion_models/`, or a root (or
 * install) with exactly one Wan DiT. Null when the path is not ComfyUI's.
 */
export function resolveComfyPath(path: string): ModelFolder | null {
  if (existsSync(path) && statSync(path).isFile()) {
    const root = dirname(dirname(path));
    if (!DIT_DIRS.includes(basename(dirname(path)) as (typeof DIT_DIRS)[number]))
      throw new ReelError(
        "E_MODEL_NOT_FOUND",
        `${path} is a file: give a model folder, or a Wan file inside a ComfyUI models/diffusion_models/ folder`,
      );
    return comfyModel(root, path);
  }
  const root = comfyModelsRoot(path);
  if (!root) return null;
  const dits = ditFilesOf(root);
  if (dits.length === 1) return comfyModel(root, dits[0]!);
  throw new ReelError(
    "E_MODEL_NOT_FOUND",
    dits.length === 0
      ? `${path} is a ComfyUI models folder without a Wan model: looked for ${DIT_DIRS.map((d) => join(root, d, "wan*.safetensors")).join(" or ")}`
      : `${path} holds ${dits.length} Wan models; name one: ${dits.map((d) => basename(d)).join(", ")} (or pass its file path)`,
  );
}
