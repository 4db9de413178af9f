/**
 * Cheap latent previews: the middle latent frame projected to RGB by a per-channel linear map
 * (rgb = W·z + b), then scaled up to a viewable size. reel's own models ship their projection
 * (fitted on their VAE at training time, in reel.json `preview`); for others the first three
 * latent channels are shown, each normalised to its range: a rough but honest view of the
 * layout and motion while sampling.
 */
import type { RgbFrame } from "../media/frames.ts";

export function latentPreview(
  z: Float32Array,
  dims: readonly [number, number, number, number],
  proj?: { readonly weight: readonly (readonly number[])[]; readonly bias: readonly number[] },
  scale = 4,
): RgbFrame {
  const [C, F, H, W] = dims;
  const f = Math.floor(F / 2);
  const plane = H * W;
  const at = (c: number, i: number) => z[(c * F + f) * plane + i]!;
  const rgb = new Float32Array(plane * 3);
  if (proj) {
    for (let i = 0; i < plane; i++)
      for (let o = 0; o < 3; o++) {
        let s = proj.bias[o] ?? 0;
        const row = proj.weight[o]!;
        for (let c = 0; c < C; c++) s += (row[c] ?? 0) * at(c, i);
        rgb[i * 3 + o] = (s + 1) * 127.5;
      }
  } else {
    for (let o = 0; o < 3; o++) {
      const c = Math.min(o, C - 1);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < plane; i++) {
        lo = Math.min(lo, at(c, i));
        hi = Math.max(hi, at(c, i));
      }
      for (let i = 0; i < plane; i++) rgb[i * 3 + o] = ((at(c, i) - lo) / (hi - lo || 1)) * 255;
    }
  }
  const data = new Uint8Array(plane * 3 * scale * scale);
  const Wo = W * scale;
  for (let y = 0; y < H * scale; y++)
    for (let x = 0; x < Wo; x++) {
      const src = (Math.floor(y / scale) * W + Math.floor(x / scale)) * 3;
      for (let c = 0; c < 3; c++) data[(y * Wo + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(rgb[src + c]!)));
    }
  return { width: Wo, height: H * scale, data };
}
