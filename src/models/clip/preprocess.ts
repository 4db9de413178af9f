/**
 * The image preprocessing Wan 2.1 applies before CLIP, in pure TypeScript (no ORT):
 * uint8 RGB (HWC) → [3, H, W] in [−1, 1] → bicubic resize to image_size × image_size →
 * CLIP mean/std normalisation.
 *
 * Reference: Wan-Video/Wan2.1 @9737cba — wan/image2video.py (`TF.to_tensor(img).sub_(0.5)
 * .div_(0.5)`), wan/modules/clip.py `CLIPModel.visual` (`F.interpolate(u, size=(s, s),
 * mode='bicubic', align_corners=False)` per image, then `mul_(0.5).add_(0.5)` and the
 * torchvision `Normalize(mean, std)`); torch's `upsample_bicubic2d` for the resize
 * semantics. Spec: shared/docs/wan-architecture.md §5.1.
 *
 * Deviations: the resize and the normalisation are computed in float64 and rounded to
 * float32 once (torch computes source coordinates, weights and sums in float32); the
 * difference is ≈ 2e-6 on the fixtures, and up to ≈ 1e-4 on 1080p inputs. The aspect ratio
 * is not preserved and nothing is cropped, exactly as in the reference.
 */
import type { HostTensor } from "../../engine/tensor.ts";
import { ReelError } from "../../errors.ts";
import { CLIP_MEAN, CLIP_STD } from "./config.ts";

/** Keys' cubic convolution constant used by torch's bicubic (PIL uses −0.5). */
export const TORCH_CUBIC_A = -0.75;

/**
 * `to_tensor(img)·2 − 1` in float32: raw HWC uint8 [H, W, 3] → CHW [3, H, W] in [−1, 1].
 * Each step is rounded to float32 as torch does ((v/255 − 0.5)/0.5), so the result is exact.
 */
export function rgb8ToSigned(data: Uint8Array, height: number, width: number): Float32Array {
  const hw = height * width;
  if (data.length !== hw * 3)
    throw new ReelError("E_INPUT_INVALID", `RGB image: ${data.length} bytes, [${height}, ${width}, 3] needs ${hw * 3}`);
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++)
    for (let c = 0; c < 3; c++) out[c * hw + p] = (Math.fround(data[p * 3 + c]! / 255) - 0.5) / 0.5;
  return out;
}

/** Keys' cubic kernel for |x| ≤ 1. */
function cubic1(x: number, a: number): number {
  return ((a + 2) * x - (a + 3)) * x * x + 1;
}

/** Keys' cubic kernel for 1 < |x| < 2. */
function cubic2(x: number, a: number): number {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

/** The four source taps (clamped indices) and their weights for each output index of one axis. */
export interface AxisTaps {
  readonly index: Int32Array; // [nOut·4]
  readonly weight: Float64Array; // [nOut·4]
}

/**
 * torch `align_corners=False` bicubic taps: src = (o + 0.5)·(nIn/nOut) − 0.5 (not clamped),
 * i = ⌊src⌋, t = src − i; taps i−1 … i+2 clamped to [0, nIn − 1] (border replication),
 * weights k₂(t+1), k₁(t), k₁(1−t), k₂(2−t).
 */
export function bicubicTaps(nIn: number, nOut: number, a = TORCH_CUBIC_A): AxisTaps {
  const index = new Int32Array(nOut * 4);
  const weight = new Float64Array(nOut * 4);
  const scale = nIn / nOut;
  for (let o = 0; o < nOut; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const i = Math.floor(src);
    const t = src - i;
    const w = [cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)];
    for (let k = 0; k < 4; k++) {
      index[o * 4 + k] = Math.min(Math.max(i - 1 + k, 0), nIn - 1);
      weight[o * 4 + k] = w[k]!;
    }
  }
  return { index, weight };
}

/**
 * torch `F.interpolate(x, size=(hOut, wOut), mode='bicubic', align_corners=False)` without
 * antialias, for one image x [C, hIn, wIn] → [C, hOut, wOut]. Separable (width, then
 * height) in float64, rounded to float32 at the end. Not clamped: it overshoots near edges.
 */
export function resizeBicubic(
  x: ArrayLike<number>,
  channels: number,
  hIn: number,
  wIn: number,
  hOut: number,
  wOut: number,
  a = TORCH_CUBIC_A,
): Float32Array {
  if (x.length !== channels * hIn * wIn)
    throw new ReelError(
      "E_INPUT_INVALID",
      `resize: ${x.length} values, [${channels}, ${hIn}, ${wIn}] needs ${channels * hIn * wIn}`,
    );
  const tx = bicubicTaps(wIn, wOut, a);
  const ty = bicubicTaps(hIn, hOut, a);
  const rows = new Float64Array(channels * hIn * wOut); //                                   [C, hIn, wOut]
  for (let r = 0; r < channels * hIn; r++)
    for (let o = 0; o < wOut; o++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += tx.weight[o * 4 + k]! * x[r * wIn + tx.index[o * 4 + k]!]!;
      rows[r * wOut + o] = s;
    }
  const out = new Float32Array(channels * hOut * wOut); //                                   [C, hOut, wOut]
  for (let c = 0; c < channels; c++)
    for (let o = 0; o < hOut; o++)
      for (let j = 0; j < wOut; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += ty.weight[o * 4 + k]! * rows[(c * hIn + ty.index[o * 4 + k]!) * wOut + j]!;
        out[(c * hOut + o) * wOut + j] = s;
      }
  return out;
}

/** ((x·0.5 + 0.5) − mean_c)/std_c for x [3, H, W] in the [−1, 1] domain (float64, rounded once). */
export function clipNormalize(x: ArrayLike<number>, pixels: number): Float32Array {
  if (x.length !== 3 * pixels)
    throw new ReelError("E_INPUT_INVALID", `normalise: ${x.length} values, [3, ${pixels}] expected`);
  const out = new Float32Array(3 * pixels);
  for (let c = 0; c < 3; c++) {
    const m = CLIP_MEAN[c]!;
    const s = CLIP_STD[c]!;
    for (let p = 0; p < pixels; p++) out[c * pixels + p] = (x[c * pixels + p]! * 0.5 + 0.5 - m) / s;
  }
  return out;
}

/** The stages of one image's preprocessing, each [3, ·, ·] float32. */
export interface ClipPreprocessed {
  /** The input in [−1, 1], [3, H0, W0] (`img` in image2video.py). */
  readonly image: HostTensor;
  /** Resized to [3, S, S], still in [−1, 1] and not clamped. */
  readonly resized: HostTensor;
  /** Normalised: the model input [3, S, S]. */
  readonly pixelValues: HostTensor;
}

/**
 * An image as Wan's CLIP path takes it: uint8 RGB [H, W, 3] (as decoded from a file), or a
 * float32 tensor [3, H, W] already in [−1, 1] (the `img` of image2video.py). Checked here.
 */
export function imageToSigned(img: HostTensor, what = "image"): HostTensor {
  const d = img.dims;
  if (img.dtype === "uint8") {
    if (d.length !== 3 || d[2] !== 3 || d[0]! < 1 || d[1]! < 1)
      throw new ReelError("E_INPUT_INVALID", `${what}: a uint8 image must be RGB [H, W, 3], got [${d}]`);
    const [h, w] = d as [number, number, number];
    return { dtype: "float32", dims: [3, h, w], data: rgb8ToSigned(img.data as Uint8Array, h, w) };
  }
  if (img.dtype === "float32") {
    if (d.length !== 3 || d[0] !== 3 || d[1]! < 1 || d[2]! < 1)
      throw new ReelError("E_INPUT_INVALID", `${what}: a float32 image must be [3, H, W] in [−1, 1], got [${d}]`);
    const data = img.data as Float32Array;
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i]!))
        throw new ReelError("E_INPUT_INVALID", `${what}: value ${data[i]} at index ${i} is not finite`);
    return img;
  }
  throw new ReelError(
    "E_INPUT_INVALID",
    `${what}: dtype ${img.dtype} is not supported; give uint8 RGB [H, W, 3] or float32 [3, H, W] in [−1, 1]`,
  );
}

/** One image → image (±1), resized to size × size, and CLIP pixel values. */
export function clipPreprocess(img: HostTensor, size: number, what = "image"): ClipPreprocessed {
  const image = imageToSigned(img, what);
  const [, h, w] = image.dims as [number, number, number];
  const resized = resizeBicubic(image.data as Float32Array, 3, h, w, size, size);
  return {
    image,
    resized: { dtype: "float32", dims: [3, size, size], data: resized },
    pixelValues: { dtype: "float32", dims: [3, size, size], data: clipNormalize(resized, size * size) },
  };
}
