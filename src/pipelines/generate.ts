/**
 * Generation with a Wan model: text-to-video, image-to-video (Wan 2.1 I2V: CLIP + image
 * latent; Wan 2.2 TI2V: locked first latent frame), and first-last-frame-to-video.
 *
 * 1. resolve settings (model defaults) and check them against the model
 * 2. estimate peak memory; refuse before any work if it cannot fit
 * 3. encode the prompt and the negative prompt (umT5), release the encoder
 * 4. image conditioning (VAE encode, CLIP) for image-to-video
 * 5. seeded noise, denoising loop (sample.ts)
 * 6. stream-decode the latent (VAE), frames to the caller as each chunk is ready
 */
import { totalmem } from "node:os";
import { releaseSession } from "../engine/compile.ts";
import { f32, type HostTensor } from "../engine/tensor.ts";
import { ReelError } from "../errors.ts";
import { frameToTensor, type RgbFrame, videoToFrames } from "../media/frames.ts";
import { resizeBicubic, rgb8ToSigned } from "../models/clip/preprocess.ts";
import { hasImageBranch } from "../models/wan/config.ts";
import type { SolverKind } from "../schedulers/index.ts";
import { estimateMemory, formatBytes, OVERHEAD_BYTES } from "./memory.ts";
import { chooseVaeTile } from "../models/wan/vae-runner.ts";
import { gaussian, randomSeed } from "./noise.ts";
import { type ProgressFn, ProgressTracker, throwIfAborted } from "./progress.ts";
import { checkAgainstModel } from "./request.ts";
import { type Conditioning, denoise, type FirstFrameLock } from "./sample.ts";
import { bestOutputSize, ti2vImage } from "./ti2v-image.ts";
import type { WanBundle } from "./wan-model.ts";
import type { SamplingCheckpoint } from "./checkpoint.ts";

export interface GenerateInput {
  readonly prompt: string;
  readonly negativePrompt?: string;
  readonly image?: RgbFrame;
  readonly lastImage?: RgbFrame;
  readonly width?: number;
  readonly height?: number;
  readonly frames?: number;
  readonly fps?: number;
  readonly steps?: number;
  readonly guidance?: number;
  readonly shift?: number;
  readonly sampler?: SolverKind;
  readonly seed?: number;
}

export interface GenerateOptions {
  readonly onProgress?: ProgressFn;
  readonly signal?: AbortSignal;
  readonly previewDir?: string;
  /** Receives decoded frames in order, chunk by chunk. */
  readonly onFrames: (frames: RgbFrame[]) => Promise<void> | void;
  /** Resume sampling from a checkpoint saved by `onStep` in an earlier run with the same input. */
  readonly resume?: SamplingCheckpoint;
  /** Called after each sampling step with a checkpoint to resume from. */
  readonly onStep?: (c: SamplingCheckpoint) => Promise<void> | void;
  /** Memory available for the estimate check (default: total RAM). */
  readonly memoryLimitBytes?: number;
}

export interface GenerateResult {
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly steps: number;
  readonly shift: number;
  readonly sampler: SolverKind;
  readonly guidance: number | null;
  readonly mode: "t2v" | "i2v" | "flf2v";
  readonly estimatedPeakBytes: number;
  /** Spatial VAE tile used for decoding (latent pixels), when the frame did not fit whole. */
  readonly vaeTile: { readonly size: number; readonly overlap: number } | null;
  readonly timingsMs: {
    readonly text: number;
    readonly condition: number;
    readonly sample: number;
    readonly decode: number;
    readonly total: number;
  };
  /** The final latent [C, F, h, w] (for resuming, previews, tests). */
  readonly latent: HostTensor;
}

/** Wan's i2v size rule: keep the image's aspect ratio within max_area pixels, on the model's grid (§3.10). */
export function sizeForImage(img: RgbFrame, maxArea: number, multiple: number): [number, number] {
  const aspect = img.height / img.width;
  const h = Math.floor(Math.sqrt(maxArea * aspect) / multiple) * multiple;
  const w = Math.floor(Math.sqrt(maxArea / aspect) / multiple) * multiple;
  if (h < multiple || w < multiple)
    throw new ReelError(
      "E_INPUT_INVALID",
      `image ${img.width}x${img.height} is too extreme an aspect ratio for this model`,
    );
  return [w, h];
}

export async function generate(b: WanBundle, input: GenerateInput, o: GenerateOptions): Promise<GenerateResult> {
  const t0 = performance.now();
  const progress = new ProgressTracker(o.onProgress);
  const d = b.defaults;
  const cfg = b.ditConfig;

  // 1. settings
  const mode: GenerateResult["mode"] = input.lastImage ? "flf2v" : input.image ? "i2v" : "t2v";
  const [defW, defH] = d.sizes[0]!;
  let width = input.width ?? defW;
  let height = input.height ?? defH;
  const m = b.rules.sizeMultiple;
  // Wan 2.2 TI2V: the size names an area and the video takes the image's aspect ratio (official best_output_size).
  if (input.image && cfg.in_dim === cfg.out_dim)
    [width, height] = bestOutputSize(input.image.width, input.image.height, m, m, width * height);
  else if (input.image && input.width === undefined && input.height === undefined)
    [width, height] = sizeForImage(input.image, defW * defH, m);
  const frames = input.frames ?? d.frames;
  const steps = input.steps ?? d.steps;
  const shift = input.shift ?? d.shift;
  const sampler = input.sampler ?? d.sampler;
  const fps = input.fps ?? d.fps;
  const seed = input.seed ?? randomSeed();
  checkAgainstModel({ width, height, frames, image: input.image, last_image: input.lastImage }, b.rules);
  if (mode === "t2v" && cfg.in_dim !== cfg.out_dim)
    throw new ReelError("E_INPUT_INVALID", `model ${b.name} is an image-to-video model: give a first frame (image)`);
  const { t: ts, s: ss, z: C } = b.vaeStride;
  const F = (frames - 1) / ts + 1;
  const h = height / ss;
  const w = width / ss;
  const tokens = (F / cfg.patch_size[0]) * (h / cfg.patch_size[1]) * (w / cfg.patch_size[2]);

  // 2. memory
  const est = estimateMemory({
    ditWeightBytes: b.weightBytes.dit,
    t5WeightBytes: b.weightBytes.t5,
    vaeWeightBytes: b.weightBytes.vae,
    clipWeightBytes: b.weightBytes.clip,
    dim: cfg.dim,
    ffnDim: cfg.ffn_dim,
    tokens,
    textLen: cfg.text_len,
    frames,
    width,
    height,
    vaeFullResChannels: b.vae.config.dim,
  });
  const limit = o.memoryLimitBytes ?? totalmem();
  // VAE decode: untiled when it fits, else the largest spatial tile that does (decoded whole
  // then streamed to the caller: tiling bounds memory only when one tile's cache is live).
  const budget = limit - est.phases.decode + b.weightBytes.vae;
  const perPixel = 4 * (4 + 2) * b.vae.config.dim * 4; // the estimate's activation bytes per output pixel
  const tiling = chooseVaeTile(
    b.vae.config,
    "decode",
    h,
    w,
    8,
    (m) => m.collectCacheBytes + m.tilePixels[0] * m.tilePixels[1] * perPixel + b.weightBytes.vae <= budget,
  );
  const decodePeak = tiling ? est.phases.decode : Number.POSITIVE_INFINITY;
  if (
    est.phases.sample + OVERHEAD_BYTES > limit ||
    est.phases.text + OVERHEAD_BYTES > limit ||
    decodePeak === Number.POSITIVE_INFINITY
  )
    throw new ReelError(
      "E_OUT_OF_MEMORY",
      `${width}x${height}x${frames} with ${b.name} needs about ${formatBytes(est.peakBytes)} at its peak ` +
        `(text ${formatBytes(est.phases.text)}, sampling ${formatBytes(est.phases.sample)}, decode ${formatBytes(est.phases.decode)}), ` +
        `more than the ${formatBytes(limit)} here, even with the VAE decode tiled. Use a smaller size or fewer frames.`,
      { details: { estimate: est, limit } },
    );

  // 3. text
  progress.start("encode_text", 1);
  const tText = performance.now();
  const negativePrompt = input.negativePrompt ?? d.negativePrompt;
  const tok = b.tokenizer.encode([input.prompt, negativePrompt], cfg.text_len);
  const t5 = b.openTextEncoder();
  const ids: HostTensor = { dtype: "int64", dims: [2, tok.maxLength], data: tok.ids };
  const mask: HostTensor = { dtype: "int64", dims: [2, tok.maxLength], data: tok.mask };
  const enc = await t5.encode(ids, mask);
  await releaseSession(await t5.session({ batch: 2, length: tok.maxLength }));
  const [context, negative] = enc.contexts as [HostTensor, HostTensor];
  progress.step(1, 1);
  const textMs = performance.now() - tText;
  throwIfAborted(o.signal);

  // 4. image conditioning
  const tCond = performance.now();
  let lock: FirstFrameLock | undefined;
  let extra: Pick<Conditioning, "clipFea" | "y"> = {};
  if (input.image) {
    progress.start("encode_image", 1);
    const toSigned = (img: RgbFrame) => resizeBicubic(frameToTensor(img), 3, img.height, img.width, height, width);
    if (cfg.in_dim === cfg.out_dim) {
      // Wan 2.2 TI2V: encode the image alone; its latent replaces latent frame 0.
      if (input.lastImage) throw new ReelError("E_INPUT_INVALID", `model ${b.name} does not take a last frame`);
      const img = ti2vImage(input.image, width, height); // Pillow LANCZOS resize + centre crop
      const z = await b.vae.encode(f32([3, 1, height, width], rgb8ToSigned(img.data, height, width)));
      lock = { z: z.data as Float32Array };
    } else {
      // Wan 2.1 I2V / FLF2V and Wan 2.2 I2V-A14B: y = [mask (4) | VAE latent of image + zero frames (+ last image)]
      const plane = height * width;
      const video = new Float32Array(3 * frames * plane);
      const putFrame = (img: RgbFrame, t: number) => {
        const px = toSigned(img);
        for (let c = 0; c < 3; c++) video.set(px.subarray(c * plane, (c + 1) * plane), (c * frames + t) * plane);
      };
      putFrame(input.image, 0);
      if (input.lastImage) putFrame(input.lastImage, frames - 1);
      const lat = (await b.vae.encode(f32([3, frames, height, width], video))).data as Float32Array;
      const yCh = cfg.in_dim - cfg.out_dim;
      const y = new Float32Array(yCh * F * h * w);
      const mch = yCh - C; // 4 mask channels
      // The pixel-frame mask (1 on given frames) folded 4 frames per latent frame, frame 0
      // repeated 4 times in front: latent frame 0 is all ones; for flf2v the last latent
      // frame covers pixel frames F−4..F−1, so only its channel 3 (the last frame) is 1.
      for (let c = 0; c < mch; c++) y.fill(1, c * F * h * w, (c * F + 1) * h * w);
      if (input.lastImage && F > 1) y.fill(1, (3 * F + F - 1) * h * w, (3 * F + F) * h * w);
      y.set(lat, mch * F * h * w);
      extra = { y: f32([yCh, F, h, w], y) };
      if (hasImageBranch(cfg)) {
        if (!b.clip) throw new ReelError("E_MODEL_NOT_FOUND", `model ${b.name} needs its CLIP image encoder file`);
        const imgs = [input.image, ...(input.lastImage ? [input.lastImage] : [])].map(
          (img) => ({ dtype: "uint8", dims: [img.height, img.width, 3], data: img.data }) as HostTensor,
        );
        extra = { ...extra, clipFea: await b.clip.encode(imgs) };
      }
    }
    progress.step(1, 1);
  }
  const condMs = performance.now() - tCond;

  // 5. sampling
  const tSample = performance.now();
  const noise = f32([C, F, h, w], gaussian(C * F * h * w, seed));
  const latent = await denoise(
    b,
    noise,
    { context, negative, ...extra },
    {
      steps,
      shift,
      sampler,
      guidance: input.guidance,
      progress,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.previewDir ? { previewDir: o.previewDir } : {}),
      ...(lock ? { lock } : {}),
      ...(o.resume ? { resume: o.resume } : {}),
      ...(o.onStep ? { onStep: o.onStep } : {}),
    },
  );
  const sampleMs = performance.now() - tSample;
  await b.releaseDit(); // the decode never needs the DiT's activations or mappings

  // 6. decode, streamed
  const tDecode = performance.now();
  progress.start("decode", F);
  let chunks = 0;
  let decoded: number;
  if (tiling?.tile) {
    const video = await b.vae.decode(latent, "stream", { tile: tiling.tile });
    throwIfAborted(o.signal);
    const all = videoToFrames(video.data as Float32Array, video.dims);
    await o.onFrames(all);
    decoded = all.length;
    progress.step(F, F);
  } else {
    decoded = await b.vae.decodeStream(latent, async (r) => {
      throwIfAborted(o.signal);
      await o.onFrames(videoToFrames(r.main.data as Float32Array, r.main.dims));
      progress.step(++chunks, F);
    });
  }
  const decodeMs = performance.now() - tDecode;
  return {
    seed,
    width,
    height,
    frames: decoded,
    fps,
    steps,
    shift,
    sampler,
    guidance: input.guidance ?? (typeof d.guidance === "number" ? d.guidance : null),
    mode,
    estimatedPeakBytes: est.peakBytes,
    vaeTile: tiling?.tile ?? null,
    timingsMs: { text: textMs, condition: condMs, sample: sampleMs, decode: decodeMs, total: performance.now() - t0 },
    latent,
  };
}
