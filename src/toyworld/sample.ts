/**
 * Samples: a seed gives a scene, its caption and its frames; a dataset seed gives a stream
 * of independent samples (sample i uses seed hash(datasetSeed, i)).
 */
import type { RgbFrame } from "../media/frames.ts";
import { type Caption, captionScene } from "./caption.ts";
import { type ClipSize, renderScene } from "./render.ts";
import { checkSeed, hash32 } from "./rng.ts";
import type { Scene } from "./scene.ts";
import { DEFAULT_CLIP } from "./vocab.ts";
import { sampleWorld } from "./world.ts";

export interface Sample {
  readonly seed: number;
  readonly scene: Scene;
  readonly caption: Caption;
  readonly frames: RgbFrame[];
}

/** One sample: the scene of `seed` (laid out for the clip's aspect), its caption, its frames. */
export function sampleScene(seed: number, clip: ClipSize = {}): Sample {
  const aspect = (clip.width ?? DEFAULT_CLIP.width) / (clip.height ?? DEFAULT_CLIP.height);
  const scene = sampleWorld(seed, { aspect });
  return { seed, scene, caption: captionScene(scene), frames: renderScene(scene, clip) };
}

/** The seed of sample i of a dataset. */
export function datasetSeed(seed: number, i: number): number {
  checkSeed(seed);
  return hash32(seed, i, 0xda7a) & 0x7fffffff;
}

/** Samples i = 0 … count−1 of dataset `seed`, lazily. */
export function* iterateDataset(seed: number, count: number, clip: ClipSize = {}): Generator<Sample> {
  for (let i = 0; i < count; i++) yield sampleScene(datasetSeed(seed, i), clip);
}

/** `count` samples of dataset `seed`. */
export function sampleDataset(seed: number, count: number, clip: ClipSize = {}): Sample[] {
  return [...iterateDataset(seed, count, clip)];
}
