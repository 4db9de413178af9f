/**
 * Finds video models on disk. A model is a folder in one of the layouts people have:
 *
 * - Wan-AI (official release): `diffusion_pytorch_model*.safetensors` (or the A14B
 *   `high_noise_model/` + `low_noise_model/`), `models_t5_umt5-xxl-enc-bf16.pth`,
 *   `Wan2.1_VAE.pth` / `Wan2.2_VAE.pth`, tokenizer `google/umt5-xxl/`, and for Wan 2.1
 *   image-to-video `models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth`. reel's own
 *   models use the same names with `.safetensors` instead of `.pth`, plus `reel.json`.
 * - diffusers (`model_index.json` with `transformer/`, `text_encoder/`, `tokenizer/`, `vae/`,
 *   and `image_encoder/` for i2v).
 * - ComfyUI's split files under a `models/` root (comfyui.ts): each Wan file in
 *   `diffusion_models/` is one model, sharing `text_encoders/umt5*`, `vae/wan*_vae*` and
 *   `clip_vision/clip_vision_h*`. ComfyUI ships no umT5 tokenizer; see comfyui.ts for where
 *   reel looks for one.
 *
 * A tokenizer folder holds `tokenizer.json` or SentencePiece's `spiece.model`.
 *
 * Folders are looked for in the repository's models/ (reel's embedded model), REEL_MODELS (`:`-separated), the Hugging Face hub cache
 * (`$HF_HOME/hub` or `~/.cache/huggingface/hub`, newest snapshot of each repo), and
 * `~/.cache/reel/models`; reel's embedded model is always there. Nothing is loaded here:
 * discovery only names files, and says exactly which are missing.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ReelError } from "../errors.ts";
import { comfyModelsRoot, inspectComfyRoot, resolveComfyPath } from "./comfyui.ts";

export type ModelLayout = "wan-ai" | "diffusers" | "comfyui";
export type Component = "dit" | "text_encoder" | "tokenizer" | "vae" | "clip";

export interface MissingComponent {
  readonly component: Component;
  readonly lookedFor: readonly string[];
  /** What to put where, when the layout never ships the file (ComfyUI's tokenizer). */
  readonly hint?: string;
}

export interface ModelFolder {
  /** Name used by the CLI and the API (folder name, lower-cased; reel.json may set it). */
  readonly name: string;
  readonly root: string;
  readonly layout: ModelLayout;
  /** Where each component was found (a file or folder path), or what was looked for. */
  readonly components: Partial<Record<Component, string>>;
  readonly missing: readonly MissingComponent[];
  /** Contents of reel.json for reel's own models. */
  readonly reel?: Record<string, unknown>;
  /** A14B: the two experts' folders. */
  readonly experts?: { readonly high: string; readonly low: string };
}

function firstExisting(root: string, names: readonly string[]): string | undefined {
  for (const n of names) {
    const p = join(root, n);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function matching(root: string, re: RegExp): string | undefined {
  try {
    const hit = readdirSync(root)
      .filter((f) => re.test(f))
      .sort();
    return hit.length ? join(root, hit[0]!) : undefined;
  } catch {
    return undefined;
  }
}

/** A folder with a umT5 tokenizer in either form. */
export function hasTokenizer(dir: string): boolean {
  return existsSync(join(dir, "tokenizer.json")) || existsSync(join(dir, "spiece.model"));
}

function hasDit(dir: string): boolean {
  return (
    existsSync(join(dir, "diffusion_pytorch_model.safetensors")) ||
    existsSync(join(dir, "diffusion_pytorch_model.safetensors.index.json"))
  );
}

/** Recognises one folder; null when it is not a model folder at all. */
export function inspectFolder(root: string): ModelFolder | null {
  if (!existsSync(root) || !statSync(root).isDirectory()) return null;
  const reelJson = join(root, "reel.json");
  const reel = existsSync(reelJson)
    ? (JSON.parse(readFileSync(reelJson, "utf8")) as Record<string, unknown>)
    : undefined;
  const name = (typeof reel?.name === "string" ? reel.name : basename(root)).toLowerCase();
  const missing: { component: Component; lookedFor: string[] }[] = [];
  const components: Partial<Record<Component, string>> = {};
  const need = (c: Component, found: string | undefined, lookedFor: string[]) => {
    if (found) components[c] = found;
    else missing.push({ component: c, lookedFor });
  };

  if (existsSync(join(root, "model_index.json"))) {
    const index = JSON.parse(readFileSync(join(root, "model_index.json"), "utf8")) as Record<string, unknown>;
    need("dit", existsSync(join(root, "transformer")) ? join(root, "transformer") : undefined, [
      join(root, "transformer/"),
    ]);
    need("text_encoder", firstExisting(root, ["text_encoder"]), [join(root, "text_encoder/")]);
    const tokDir = join(root, "tokenizer");
    need("tokenizer", hasTokenizer(tokDir) ? tokDir : undefined, [
      join(tokDir, "tokenizer.json"),
      join(tokDir, "spiece.model"),
    ]);
    need("vae", firstExisting(root, ["vae"]), [join(root, "vae/")]);
    if ("image_encoder" in index && index.image_encoder !== null)
      need("clip", firstExisting(root, ["image_encoder"]), [join(root, "image_encoder/")]);
    return { name, root, layout: "diffusers", components, missing, ...(reel ? { reel } : {}) };
  }

  const high = join(root, "high_noise_model");
  const low = join(root, "low_noise_model");
  const moe = existsSync(high) && existsSync(low);
  const t5 = matching(root, /^models_t5_.*\.(pth|safetensors)$/);
  const vae = matching(root, /^Wan2\.[12]_VAE\.(pth|safetensors)$/);
  if (!moe && !hasDit(root) && !t5 && !vae) return null; // not a model folder
  if (moe) components.dit = root;
  else
    need("dit", hasDit(root) ? root : undefined, [
      join(root, "diffusion_pytorch_model.safetensors"),
      join(root, "diffusion_pytorch_model.safetensors.index.json"),
    ]);
  need("text_encoder", t5, [join(root, "models_t5_umt5-xxl-enc-bf16.pth")]);
  const tok = ["google/umt5-xxl", "tokenizer"].map((d) => join(root, d)).find(hasTokenizer);
  need("tokenizer", tok, [join(root, "google/umt5-xxl/tokenizer.json"), join(root, "google/umt5-xxl/spiece.model")]);
  need("vae", vae, [join(root, "Wan2.1_VAE.pth"), join(root, "Wan2.2_VAE.pth")]);
  const clip = matching(root, /^models_clip_.*\.(pth|safetensors)$/);
  if (clip) components.clip = clip;
  return {
    name,
    root,
    layout: "wan-ai",
    components,
    missing,
    ...(reel ? { reel } : {}),
    ...(moe ? { experts: { high, low } } : {}),
  };
}

/** reel's own models shipped in the repository (the embedded model). */
export const BUNDLED_MODELS = fileURLToPath(new URL("../../models", import.meta.url));

/** The Hugging Face hub cache folder (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`). */
export function hfHubDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE ?? join(env.HF_HOME ?? join(homedir(), ".cache", "huggingface"), "hub");
}

/** The folders searched, in order. */
export function searchPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const paths: string[] = [BUNDLED_MODELS];
  if (env.REEL_MODELS) paths.push(...env.REEL_MODELS.split(":").filter(Boolean));
  paths.push(hfHubDir(env));
  paths.push(join(env.REEL_CACHE_DIR ?? join(homedir(), ".cache", "reel"), "models"));
  return paths;
}

/** In the HF cache, `models--Org--Name/snapshots/<rev>/` holds the files; take the newest snapshot. */
export function hfSnapshot(dir: string): { path: string; name: string } | null {
  const m = /^models--(.+?)--(.+)$/.exec(basename(dir));
  if (!m) return null;
  const snaps = join(dir, "snapshots");
  if (!existsSync(snaps)) return null;
  const revs = readdirSync(snaps)
    .map((r) => join(snaps, r))
    .filter((p) => statSync(p).isDirectory())
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return revs[0] ? { path: revs[0], name: m[2]! } : null;
}

/** Every model folder found under the search paths (and the paths themselves). */
export function discoverModels(paths: readonly string[] = searchPaths()): ModelFolder[] {
  const out: ModelFolder[] = [];
  const seen = new Set<string>();
  const add = (f: ModelFolder | null, nameOverride?: string) => {
    // ComfyUI models share their root; each is its DiT file.
    const id = f?.layout === "comfyui" ? f.components.dit! : f?.root;
    if (!f || !id || seen.has(id)) return;
    seen.add(id);
    out.push(nameOverride ? { ...f, name: nameOverride.toLowerCase() } : f);
  };
  const addComfy = (dir: string) => {
    const root = comfyModelsRoot(dir);
    if (root) for (const f of inspectComfyRoot(root)) add(f);
    return root !== null;
  };
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) continue;
    if (addComfy(p)) continue;
    add(inspectFolder(p));
    for (const entry of readdirSync(p)) {
      const dir = join(p, entry);
      if (!statSync(dir).isDirectory()) continue;
      const snap = hfSnapshot(dir);
      if (snap) add(inspectFolder(snap.path), snap.name);
      else if (!addComfy(dir)) add(inspectFolder(dir));
    }
  }
  return out;
}

/** Resolves a model by name (as listed by `reel models`) or by folder path. */
export function resolveModel(nameOrPath: string, models: readonly ModelFolder[] = discoverModels()): ModelFolder {
  if (nameOrPath.includes("/") || existsSync(nameOrPath)) {
    const comfy = resolveComfyPath(nameOrPath);
    if (comfy) return comfy;
    const f = inspectFolder(nameOrPath);
    if (!f)
      throw new ReelError(
        "E_MODEL_NOT_FOUND",
        `${nameOrPath} is not a model folder (no Wan or diffusers model files in it)`,
      );
    return f;
  }
  const hit = models.find((m) => m.name === nameOrPath.toLowerCase());
  if (!hit)
    throw new ReelError(
      "E_MODEL_NOT_FOUND",
      `no model named "${nameOrPath}". Known: ${models.map((m) => m.name).join(", ") || "(none)"}. ` +
        `Searched: ${searchPaths().join(", ")} (set REEL_MODELS to add folders).`,
    );
  return hit;
}

/** Throws E_MODEL_NOT_FOUND listing every missing file of a partial folder. */
export function requireComplete(m: ModelFolder): void {
  if (m.missing.length === 0) return;
  const lines = m.missing.map(
    (x) => `  ${x.component}: looked for ${x.lookedFor.join(" or ")}${x.hint ? `\n    ${x.hint}` : ""}`,
  );
  throw new ReelError("E_MODEL_NOT_FOUND", `model "${m.name}" at ${m.root} is incomplete:\n${lines.join("\n")}`, {
    details: { missing: m.missing },
  });
}
