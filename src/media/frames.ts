/** Conversions between model tensors and 8-bit RGB frames. */
import { ReelError } from "../errors.ts";

/** A packed RGB24 frame: height·width·3 bytes, row-major. */
export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * video [3, T, H, W] in [−1, 1] (what the VAE decodes) → T RGB frames, as the official
 * save path does: clamp to [−1, 1], then uint8((x + 1)/2·255), which truncates.
 */
export function videoToFrames(video: Float32Array, dims: readonly number[]): RgbFrame[] {
  const [C, T, H, W] = dims as [number, number, number, number];
  if (dims.length !== 4 || C !== 3)
    throw new ReelError("E_INPUT_INVALID", `video must be [3, T, H, W], got [${dims.join(", ")}]`);
  const plane = H * W;
  const frames: RgbFrame[] = [];
  for (let t = 0; t < T; t++) {
    const data = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const base = (c * T + t) * plane;
      for (let i = 0; i < plane; i++) {
        const v = Math.min(1, Math.max(-1, video[base + i]!));
        data[i * 3 + c] = Math.trunc(((v + 1) / 2) * 255);
      }
    }
    frames.push({ width: W, height: H, data });
  }
  return frames;
}

/** RGB frame → [3, H, W] float32 in [−1, 1] (the image tensor the pipelines take). */
export function frameToTensor(f: RgbFrame): Float32Array {
  const plane = f.width * f.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = f.data[i * 3 + c]! / 127.5 - 1;
  return out;
}
