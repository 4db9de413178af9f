/**
 * The denoising loop shared by every Wan pipeline (wan-architecture.md §8.4): for each step,
 * the DiT runs with the prompt and (unless guidance is 1) the negative prompt, the two
 * velocities are combined by classifier-free guidance, and the sampler steps. Checks the
 * AbortSignal between model calls, reports progress, and writes latent previews on request.
 */
import { join } from "node:path";
import type { HostTensor } from "../engine/tensor.ts";
import { f32 } from "../engine/tensor.ts";
import { writePng } from "../media/image-io.ts";
import { createSampler, type SolverKind } from "../schedulers/index.ts";
import { guide } from "./guidance.ts";
import { latentPreview } from "./preview.ts";
import { type ProgressTracker, throwIfAborted } from "./progress.ts";
import type { WanBundle } from "./wan-model.ts";
import type { WanDiT } from "../models/wan/model.ts";
import type { SamplingCheckpoint } from "./checkpoint.ts";
import { ReelError } from "../errors.ts";

export interface Conditioning {
  /** Text contexts [Lc, text_dim]: the prompt's and the negative prompt's. */
  readonly context: HostTensor;
  readonly negative: HostTensor;
  readonly clipFea?: HostTensor;
  readonly y?: HostTensor;
}

/** Wan 2.2 TI2V image-to-video: latent frame 0 is the image latent z and is kept clean. */
export interface FirstFrameLock {
  readonly z: Float32Array; // [C, 1, h, w] flattened
}

export interface SampleOptions {
  readonly steps: number;
  readonly shift: number;
  readonly sampler: SolverKind;
  readonly guidance: number | undefined;
  readonly previewDir?: string;
  readonly signal?: AbortSignal;
  readonly progress: ProgressTracker;
  readonly lock?: FirstFrameLock;
  /** Continue from a checkpoint saved after step `resume.step` (same settings, same conditioning). */
  readonly resume?: SamplingCheckpoint;
  /** Called after each step with the state to resume from (the arrays are not reused later). */
  readonly onStep?: (c: SamplingCheckpoint) => Promise<void> | void;
}

export async function denoise(
  b: WanBundle,
  noise: HostTensor,
  cond: Conditioning,
  o: SampleOptions,
): Promise<HostTensor> {
  const [C, F, H, W] = noise.dims as [number, number, number, number];
  const sampler = createSampler(o.sampler, { steps: o.steps, shift: o.shift });
  const perFrame = H * W;
  const lockLen = o.lock ? o.lock.z.length : 0;
  const reimpose = (x: Float32Array) => {
    if (!o.lock) return x;
    // latent = (1 − mask)·z + mask·latent, mask = 0 on latent frame 0
    for (let c = 0; c < C; c++) x.set(o.lock.z.subarray(c * perFrame, (c + 1) * perFrame), c * F * perFrame);
    return x;
  };
  let x = reimpose(Float32Array.from(noise.data as Float32Array));
  let first = 0;
  if (o.resume) {
    const r = o.resume;
    if (r.sampler !== o.sampler || r.steps !== o.steps || r.latent.length !== x.length || r.step > o.steps)
      throw new ReelError(
        "E_CHECKPOINT_INVALID",
        `sampling checkpoint (${r.sampler}, step ${r.step} of ${r.steps}, ${r.latent.length} values) does not match this run (${o.sampler}, ${o.steps} steps, ${x.length} values)`,
      );
    sampler.restore(r.state);
    x = Float32Array.from(r.latent);
    first = r.step;
  }
  // Per-token timesteps for the locked first frame: tokens of latent frame 0 get t = 0.
  const [, ph, pw] = b.ditConfig.patch_size;
  const tokensPerFrame = (H / ph) * (W / pw);
  const tokens = F * tokensPerFrame;
  o.progress.start("sample", o.steps);
  let previous: WanDiT | null = null;
  for (let k = first; k < o.steps; k++) {
    throwIfAborted(o.signal);
    const t = sampler.schedule.timesteps[k]!;
    const dit = b.ditFor(t);
    // A14B: timesteps only fall, so once the low-noise expert takes over the high-noise one is
    // done; release its session now rather than hold both experts' mappings to the end.
    if (previous && previous !== dit) await previous.release();
    previous = dit;
    const tIn = lockLen ? Array.from({ length: tokens }, (_, i) => (i < tokensPerFrame ? 0 : t)) : [t];
    const input = {
      x: f32([C, F, H, W], x),
      t: tIn,
      ...(cond.clipFea ? { clipFea: cond.clipFea } : {}),
      ...(cond.y ? { y: cond.y } : {}),
    };
    const g = b.guidanceFor(t, o.guidance);
    const vCond = (await dit.forward({ ...input, context: cond.context })).out!.data as Float32Array;
    let v = vCond;
    if (g !== 1) {
      throwIfAborted(o.signal);
      const vUncond = (await dit.forward({ ...input, context: cond.negative })).out!.data as Float32Array;
      v = guide(vCond, vUncond, g);
    }
    x = reimpose(sampler.step(v, k, x));
    let preview: string | undefined;
    if (o.previewDir) {
      preview = join(o.previewDir, `step-${String(k + 1).padStart(3, "0")}.png`);
      await writePng(preview, latentPreview(x, [C, F, H, W], b.preview));
    }
    if (o.onStep)
      await o.onStep({
        step: k + 1,
        steps: o.steps,
        sampler: o.sampler,
        dims: [C, F, H, W],
        latent: x.slice(),
        state: structuredClone(sampler.state),
      });
    o.progress.step(k + 1, o.steps, preview ? { preview } : {});
  }
  return f32([C, F, H, W], x);
}
