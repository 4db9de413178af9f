/**
 * Assembles a complete Wan-AI-layout model folder from the shared parity fixtures (the
 * official code's tiny DiT, umT5 and VAE weights) plus a tiny umT5-style tokenizer, so the
 * real CLI and pipelines can be run end to end in tests. The weights are random, so the
 * video is noise-like; what is tested is the machinery, not the picture.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readHeader } from "../../src/engine/safetensors.ts";
import { unigramTokenizerJson } from "../../src/models/t5/tokenizer-json.ts";
import { fixturePath } from "./fixtures.ts";

export const TINY_WORDS = [
  "a",
  "red",
  "blue",
  "green",
  "ball",
  "square",
  "moves",
  "left",
  "right",
  "up",
  "down",
  "over",
  "the",
  "grass",
  "sky",
];

/** A tokenizer.json shaped like google/umt5-xxl's, with a tiny vocabulary (ids < 256). */
export function tinyTokenizerJson(words: readonly string[] = TINY_WORDS): object {
  return unigramTokenizerJson(words, [..."abcdefghijklmnopqrstuvwxyz,."]);
}

/** Writes the folder; returns its path, or null when the fixtures are absent. */
export function makeTinyWanFolder(dir: string, name = "tiny-wan"): string | null {
  const dit = fixturePath("dit-tiny.weights.safetensors");
  const t5 = fixturePath("t5-tiny.weights.safetensors");
  const vae = fixturePath("vae-tiny.weights.safetensors");
  if (!dit || !t5 || !vae) return null;
  const root = join(dir, name);
  mkdirSync(join(root, "google", "umt5-xxl"), { recursive: true });
  copyFileSync(dit, join(root, "diffusion_pytorch_model.safetensors"));
  writeFileSync(join(root, "config.json"), readHeader(dit).metadata.config!);
  copyFileSync(t5, join(root, "models_t5_umt5-xxl-enc-bf16.safetensors"));
  copyFileSync(vae, join(root, "Wan2.1_VAE.safetensors"));
  writeFileSync(join(root, "google", "umt5-xxl", "tokenizer.json"), JSON.stringify(tinyTokenizerJson()));
  writeFileSync(
    join(root, "reel.json"),
    JSON.stringify({
      name,
      t5: JSON.parse(readHeader(t5).metadata.config!),
      vae: JSON.parse(readHeader(vae).metadata.config!),
      defaults: { steps: 3, shift: 5, guidance: 5, frames: 5, fps: 8, sizes: [[32, 32]], sampler: "unipc" },
    }),
  );
  return root;
}
