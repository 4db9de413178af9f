/**
 * ClipVisionEncoder: Wan 2.1's `CLIPModel.visual` on ONNX Runtime. Preprocesses each image
 * on the host (preprocess.ts), batches them, and runs the vision tower graph (vision.ts),
 * compiled once per batch size (engine/compile caches it). The result is `clip_fea`
 * [N, tokens, dim] exactly as Wan passes it to the DiT (N = 1 for i2v, 2 for flf2v).
 *
 * Reference: Wan-Video/Wan2.1 @9737cba wan/modules/clip.py `CLIPModel.visual`,
 * wan/image2video.py, wan/first_last_frame2video.py. Spec: shared/docs/wan-architecture.md §5.
 *
 * Deviation: the official model runs in fp16 on GPU; reel runs float32 (as the fixtures).
 */
import { compile } from "../../engine/compile.ts";
import { Graph, Scope } from "../../engine/graph.ts";
import type { Device, InferenceSession, Runtime } from "../../engine/runtime.ts";
import { f32, type HostTensor } from "../../engine/tensor.ts";
import { checkWeights, type DeclaredParam, type WeightMap, weightMapFromFiles } from "../../engine/weights.ts";
import { ReelError } from "../../errors.ts";
import { type ClipVisionConfig, tokenCount, wanBlocks } from "./config.ts";
import { type ClipPreprocessed, clipPreprocess } from "./preprocess.ts";
import { buildClipVision, clipVisionParams, VISUAL_PREFIX } from "./vision.ts";

export interface ClipRunOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
  /** Blocks to run (default num_layers − 1, as Wan). Other values exist for experiments and tests. */
  readonly blocks?: number;
}

/**
 * The tensors of a CLIP checkpoint file(s) that the vision tower can see: the text tower
 * of the official checkpoint (`textual.*`, `log_scale`) is dropped; everything else is
 * kept, so the weight check still reports any key it does not expect.
 */
export function clipWeightMap(paths: readonly string[]): WeightMap {
  return weightMapFromFiles(paths, (k) => (k.startsWith("textual.") || k === "log_scale" ? null : k));
}

/**
 * Checks a weight map against the vision tower with `blocks` blocks, in one error listing
 * every missing, unexpected, mis-shaped and mistyped key. The tensors Wan never uses (the
 * last block, `post_norm`, `head`) are expected-but-unused: they may be absent, but when
 * present their shapes are checked, and any other key is unexpected.
 */
export function checkClipWeights(cfg: ClipVisionConfig, weights: WeightMap, blocks = wanBlocks(cfg)): void {
  const { used, unused } = clipVisionParams(cfg, blocks);
  const declared = new Map<string, DeclaredParam>(used);
  for (const [k, v] of unused) if (weights.has(k)) declared.set(k, v);
  checkWeights(
    `CLIP VisionTransformer (dim ${cfg.dim}, ${cfg.num_layers} layers, ${blocks} used, keys under "${VISUAL_PREFIX}.")`,
    declared,
    weights,
  );
}

export class ClipVisionEncoder {
  readonly blocks: number;

  constructor(
    readonly config: ClipVisionConfig,
    readonly weights: WeightMap,
    private readonly opts: ClipRunOptions,
  ) {
    this.blocks = opts.blocks ?? wanBlocks(config);
    if (!Number.isInteger(this.blocks) || this.blocks < 0 || this.blocks > config.num_layers)
      throw new ReelError(
        "E_CONFIG_INVALID",
        `CLIP blocks ${this.blocks}: must be an integer in 0 … num_layers ${config.num_layers}`,
      );
    checkClipWeights(config, weights, this.blocks);
  }

  /** Tokens per image (class token + patches). */
  get tokens(): number {
    return tokenCount(this.config);
  }

  graphFor(batch: number, taps?: ReadonlySet<string>): Graph {
    const c = this.config;
    const g = new Graph(`clip_vit_${c.dim}x${c.num_layers}_b${this.blocks}`);
    buildClipVision(g, new Scope(g, VISUAL_PREFIX), c, batch, { blocks: this.blocks, ...(taps ? { taps } : {}) });
    return g;
  }

  async session(batch: number, taps?: ReadonlySet<string>): Promise<InferenceSession> {
    return compile(this.graphFor(batch, taps), this.weights, {
      runtime: this.opts.runtime,
      device: this.opts.device,
      ...(this.opts.threads ? { threads: this.opts.threads } : {}),
      ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}),
    });
  }

  /** Preprocesses each image separately (they may differ in size) and stacks the pixel values [N, 3, S, S]. */
  preprocess(images: readonly HostTensor[]): { stages: ClipPreprocessed[]; pixelValues: HostTensor } {
    if (images.length === 0) throw new ReelError("E_INPUT_INVALID", "CLIP: no images given (i2v takes 1, flf2v 2)");
    const S = this.config.image_size;
    const stages = images.map((img, i) => clipPreprocess(img, S, `CLIP image ${i}`));
    const px = new Float32Array(images.length * 3 * S * S);
    stages.forEach((s, i) => {
      px.set(s.pixelValues.data as Float32Array, i * 3 * S * S);
    });
    return { stages, pixelValues: f32([images.length, 3, S, S], px) };
  }

  /** The vision tower on pixel values [N, 3, S, S]: `clip_fea` plus the requested taps. */
  async forwardPixels(pixelValues: HostTensor, taps?: ReadonlySet<string>): Promise<Record<string, HostTensor>> {
    const S = this.config.image_size;
    const d = pixelValues.dims;
    if (pixelValues.dtype !== "float32" || d.length !== 4 || d[1] !== 3 || d[2] !== S || d[3] !== S || d[0]! < 1)
      throw new ReelError(
        "E_INPUT_INVALID",
        `CLIP pixel_values must be float32 [N, 3, ${S}, ${S}], got ${pixelValues.dtype} [${d}]`,
      );
    const s = await this.session(d[0]!, taps);
    return s.run({ pixel_values: pixelValues });
  }

  /**
   * Images (uint8 RGB [H, W, 3] or float32 [3, H, W] in [−1, 1]; i2v: [image], flf2v:
   * [first, last]) → clip_fea [N, tokens, dim].
   */
  async encode(images: readonly HostTensor[]): Promise<HostTensor> {
    const out = await this.forwardPixels(this.preprocess(images).pixelValues);
    return out.clip_fea!;
  }
}
