/**
 * The toy world: a deterministic procedural video world (scenes, renderer, captions,
 * parser) that the embedded model reel-toy is trained on, and an evaluator that checks
 * any video against its prompt. See README.md in this folder.
 */
export type { DetectedObject, VideoAnalysis } from "./analyze.ts";
export { analyzeVideo } from "./analyze.ts";
export type { Caption } from "./caption.ts";
export { captionScene } from "./caption.ts";
export type {
  Attribute,
  AttributeAccuracy,
  Check,
  EvaluationItem,
  EvaluationReport,
  Miss,
  VideoEvaluation,
} from "./evaluate.ts";
export { aggregate, evaluateMany, evaluateVideo, scoreAnalysis } from "./evaluate.ts";
export { parsePrompt } from "./parse.ts";
export type { ObjectPhrase, PromptAttrs, PromptMotion } from "./prompt.ts";
export { fullAttrs, namedObjectCount, sceneGroups } from "./prompt.ts";
export { evaluateFolder, iterateSampleFolder, readSampleFolder, readVideo } from "./read.ts";
export type { ClipSize } from "./render.ts";
export { framesToTensor, renderScene } from "./render.ts";
export type { Scene, SceneObject } from "./scene.ts";
export type { Sample } from "./sample.ts";
export { datasetSeed, iterateDataset, sampleDataset, sampleScene } from "./sample.ts";
export * from "./vocab.ts";
export { sampleWorld } from "./world.ts";
export type { SampleRecord, WriteSamplesOptions } from "./write.ts";
export { writeSamples } from "./write.ts";
