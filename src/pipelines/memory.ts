/**
 * Peak-memory estimate for a generation, made before any work starts, so a request that
 * cannot fit is refused at once (or decoded with spatial tiling) instead of failing after an
 * hour of sampling, the most common complaint of Wan users.
 *
 * The text encoder is released before sampling, so the peak is the larger of
 *   text phase:    T5 weights + its activations
 *   sample phase:  DiT weights + DiT activations + latents
 *   decode phase:  VAE weights + the largest per-chunk VAE activation set (+ the cache)
 * (+ a fixed runtime overhead). Weights are memory-mapped and count at their f32 size.
 */
export interface MemoryInputs {
  readonly ditWeightBytes: number;
  readonly t5WeightBytes: number;
  readonly vaeWeightBytes: number;
  readonly clipWeightBytes?: number;
  /** DiT width, FFN width and heads; tokens L of the latent grid. */
  readonly dim: number;
  readonly ffnDim: number;
  readonly tokens: number;
  readonly textLen: number;
  /** Output frames and pixel size; VAE decoder's widest channel count at full resolution. */
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly vaeFullResChannels: number;
  /** Spatial tile (pixels) when tiling; undefined = whole frame. */
  readonly tile?: number;
}

export interface MemoryEstimate {
  readonly peakBytes: number;
  readonly phases: { readonly text: number; readonly sample: number; readonly decode: number };
}

/** Node + ORT runtime + buffers. */
export const OVERHEAD_BYTES = 400 * 2 ** 20;

export function estimateMemory(m: MemoryInputs): MemoryEstimate {
  const f32 = 4;
  // umT5 at 512 tokens: a handful of [512, dim] and [512, ffn] buffers, scores per head.
  const text = m.t5WeightBytes + 64 * 2 ** 20;
  // DiT: residual stream, q/k/v/o and FFN hidden at L tokens (the FFN hidden dominates),
  // the memory-efficient attention's working set, latents and CFG copies.
  const act = m.tokens * (8 * m.dim + 2 * m.ffnDim) * f32 + m.textLen * 4 * m.dim * f32;
  const sample = m.ditWeightBytes + (m.clipWeightBytes ?? 0) + act;
  // VAE decode of one latent frame: at full resolution 4 output frames (plus the 2-frame
  // causal cache) of the widest full-resolution stage, about 4 live tensors at once.
  const px = m.tile ? Math.min(m.tile, m.width) * Math.min(m.tile, m.height) : m.width * m.height;
  const decode = m.vaeWeightBytes + 4 * (4 + 2) * m.vaeFullResChannels * px * f32;
  const peak = Math.max(text, sample, decode) + OVERHEAD_BYTES;
  return { peakBytes: peak, phases: { text, sample, decode } };
}

export function formatBytes(b: number): string {
  return b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${Math.round(b / 2 ** 20)} MiB`;
}
