/**
 * Global camera motion from the background: for each pair of consecutive frames, the pan
 * (horizontal shift) and zoom (scale about the frame centre) that best align the luma of
 * the background (objects masked out), by exhaustive search over a small grid with a
 * parabolic refinement, then chained into a transform from frame 0 to every frame.
 * A textureless background gives no evidence: a small penalty keeps a weakly textured one at
 * "static", and one whose texture (see backgroundTexture) is below TEXTURE_MIN is not searched
 * at all, since what little "alignment" its noise or flicker offers is never a camera move
 * (VAE-decoded plain backgrounds read as zooms of up to ±0.2 without this).
 */
import type { RgbFrame } from "../media/frames.ts";
import type { Camera } from "./vocab.ts";

export interface CameraMotion {
  /** Frame-0 point p appears in frame t at zoom[t]·(p − c) + c + (shift[t], 0), in pixels. */
  readonly zoom: Float64Array;
  readonly shift: Float64Array;
  /** Per consecutive pair: median |luma difference| of aligned background (flicker evidence). */
  readonly residual: Float64Array;
  /** backgroundTexture of the clip: below TEXTURE_MIN the camera was not searched. */
  readonly texture: number;
  /** Total log zoom and total content shift in frame heights (positive: content moves right). */
  readonly logZoom: number;
  readonly pan: number;
  readonly move: Camera;
}

/**
 * Rec. 601 luma of an RGB24 frame, smoothed by a [1 4 6 4 1]/16 binomial filter in x and y
 * (σ ≈ 1 px): sub-pixel alignment of anti-aliased edges and 8-bit gradients is then unbiased.
 */
export function luma(f: RgbFrame): Float32Array {
  const { width: W, height: H, data: d } = f;
  const n = W * H;
  const raw = new Float32Array(n);
  for (let i = 0, k = 0; i < n; i++, k += 3) raw[i] = 0.299 * d[k]! + 0.587 * d[k + 1]! + 0.114 * d[k + 2]!;
  const tmp = new Float32Array(n);
  blur1d(raw, tmp, W, H, 1, W);
  const out = new Float32Array(n);
  blur1d(tmp, out, H, W, W, 1);
  return out;
}

/** [1 4 6 4 1]/16 along lines of `len` samples `step` apart; `lines` lines `next` apart; edges clamp. */
function blur1d(src: Float32Array, dst: Float32Array, len: number, lines: number, step: number, next: number): void {
  const last = len - 1;
  for (let l = 0; l < lines; l++) {
    const base = l * next;
    for (let i = 0; i < len; i++) {
      const a = src[base + Math.max(0, i - 2) * step]!;
      const b = src[base + Math.max(0, i - 1) * step]!;
      const c = src[base + i * step]!;
      const e = src[base + Math.min(last, i + 1) * step]!;
      const g = src[base + Math.min(last, i + 2) * step]!;
      dst[base + i * step] = (a + 4 * b + 6 * c + 4 * e + g) / 16;
    }
  }
}

const LOG_SCALES = [-0.04, -0.02, 0, 0.02, 0.04];
/** Thresholds of the move decision: |log zoom| over the clip, |content shift| in heights. */
export const ZOOM_THRESHOLD = 0.15;
export const PAN_THRESHOLD = 0.1;

interface Samples {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly v: Float32Array;
  readonly n: number;
}

function samplesOf(L: Float32Array, mask: Uint8Array, W: number, H: number, stride: number): Samples {
  const xs: number[] = [];
  const ys: number[] = [];
  const vs: number[] = [];
  for (let y = 1; y < H - 1; y += stride)
    for (let x = 1 + (y % 2); x < W - 1; x += stride) {
      const i = y * W + x;
      if (mask[i]) continue;
      xs.push(x + 0.5);
      ys.push(y + 0.5);
      vs.push(L[i]!);
    }
  return { x: Float32Array.from(xs), y: Float32Array.from(ys), v: Float32Array.from(vs), n: xs.length };
}

/**
 * Mean |difference| between samples of frame b (minus a global brightness offset) and frame
 * a read back through (d, s).
 */
function cost(
  s: Samples,
  La: Float32Array,
  maskA: Uint8Array,
  W: number,
  H: number,
  d: number,
  scale: number,
  offset: number,
  diffs?: number[],
): number {
  const cx = W / 2;
  const cy = H / 2;
  const inv = 1 / scale;
  let sum = 0;
  let m = 0;
  for (let k = 0; k < s.n; k++) {
    const px = (s.x[k]! - cx - d) * inv + cx - 0.5;
    const py = (s.y[k]! - cy) * inv + cy - 0.5;
    if (px < 0 || py < 0 || px >= W - 1 || py >= H - 1) continue;
    const ix = px | 0;
    const iy = py | 0;
    const i = iy * W + ix;
    if (maskA[i] || maskA[i + W + 1]) continue;
    const fx = px - ix;
    const fy = py - iy;
    const top = La[i]! + (La[i + 1]! - La[i]!) * fx;
    const bot = La[i + W]! + (La[i + W + 1]! - La[i + W]!) * fx;
    const diff = Math.abs(s.v[k]! - offset - (top + (bot - top) * fy));
    sum += diff;
    m++;
    diffs?.push(diff);
  }
  if (m < Math.max(20, 0.3 * s.n)) return Number.POSITIVE_INFINITY;
  // A small pull toward "no motion" decides when the background has no texture.
  return sum / m + 0.005 * Math.abs(d) + 0.5 * Math.abs(Math.log(scale));
}

function backgroundMean(L: Float32Array, mask: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < L.length; i += 3)
    if (!mask[i]) {
      sum += L[i]!;
      n++;
    }
  return n ? sum / n : 0;
}

function parabola(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (!Number.isFinite(den) || den <= 1e-9) return 0;
  return Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  xs.sort((a, b) => a - b);
  return xs[xs.length >> 1]!;
}

/**
 * Background texture: per frame, the 99th percentile of the luma gradient magnitude (central
 * differences, luma levels per pixel) over background pixels; the median over the frames (a
 * decoded clip's first frame or two can carry artifacts the rest do not). Rendered ground
 * truth: plain white/grey/dark 0, sunset and sky gradients 1.4-2.1, dots and stripes ~9, grass
 * 16-20, night 20-23. Through reel-toy's VAE: plain 0.4-1.1 per frame after the first two (the
 * first up to 6), a night sky whose stars the VAE has dimmed 1.1-2.2.
 */
export function backgroundTexture(
  lumas: readonly Float32Array[],
  masks: readonly Uint8Array[],
  W: number,
  H: number,
): number {
  const perFrame: number[] = [];
  const g: number[] = [];
  for (let t = 0; t < lumas.length; t++) {
    const L = lumas[t]!;
    const m = masks[t]!;
    g.length = 0;
    for (let y = 1; y < H - 1; y++)
      for (let x = 1; x < W - 1; x++) {
        const i = y * W + x;
        if (m[i] || m[i - 1] || m[i + 1] || m[i - W] || m[i + W]) continue;
        g.push(Math.hypot(L[i + 1]! - L[i - 1]!, L[i + W]! - L[i - W]!) / 2);
      }
    if (g.length === 0) continue;
    g.sort((a, b) => a - b);
    perFrame.push(g[Math.floor(0.99 * (g.length - 1))]!);
  }
  return perFrame.length ? median(perFrame) : 0;
}

/** backgroundTexture below this: the background cannot show a camera move. */
export const TEXTURE_MIN = 1.2;

/**
 * Estimates the camera motion of a clip; masks mark object pixels (ignored) per frame. Over a
 * background without texture the camera is static and only the residual (flicker) is measured.
 */
export function estimateCamera(
  lumas: readonly Float32Array[],
  masks: readonly Uint8Array[],
  W: number,
  H: number,
): CameraMotion {
  const texture = backgroundTexture(lumas, masks, W, H);
  const textureless = texture < TEXTURE_MIN;
  const T = lumas.length;
  const zoom = new Float64Array(T).fill(1);
  const shift = new Float64Array(T);
  const residual = new Float64Array(Math.max(0, T - 1));
  // Per-frame pans of the world are ~0.02 H; staying under half a texture period (dots:
  // 0.1 H) keeps periodic backgrounds from aliasing.
  const reach = Math.ceil(0.045 * H) + 1;
  // The grid search reads a sparse sample set, the fine pass and residual a denser one.
  const coarse = Math.max(3, Math.round(H / 32));
  const dense = Math.max(2, Math.round(H / 64));
  for (let t = 1; t < T; t++) {
    const sc = samplesOf(lumas[t]!, masks[t]!, W, H, coarse);
    const s = samplesOf(lumas[t]!, masks[t]!, W, H, dense);
    const La = lumas[t - 1]!;
    const mA = masks[t - 1]!;
    // Global brightness change between the frames (flicker), so that it does not bias alignment.
    const offset = backgroundMean(lumas[t]!, masks[t]!) - backgroundMean(La, mA);
    let best = Number.POSITIVE_INFINITY;
    let bd = 0;
    let bs = 4;
    if (!textureless)
      for (let si = 0; si < LOG_SCALES.length; si++)
        for (let dd = -reach; dd <= reach; dd++) {
          const c = cost(sc, La, mA, W, H, dd, Math.exp(LOG_SCALES[si]!), offset);
          if (c < best) {
            best = c;
            bd = dd;
            bs = si;
          }
        }
    // Fine pass around the grid minimum: quarter pixels, then quarter scale steps.
    let d = 0;
    let scale = 1;
    if (Number.isFinite(best)) {
      const fine = (dd: number, ls: number) => cost(s, La, mA, W, H, dd, Math.exp(ls), offset);
      const ls0 = LOG_SCALES[bs]!;
      const ds = [-0.5, -0.25, 0, 0.25, 0.5].map((k) => fine(bd + k, ls0));
      let k = 2;
      for (let j = 0; j < 5; j++) if (ds[j]! < ds[k]!) k = j;
      const kk = Math.min(3, Math.max(1, k));
      d = bd + (kk - 2) * 0.25 + 0.25 * parabola(ds[kk - 1]!, ds[kk]!, ds[kk + 1]!);
      const ss = [-0.01, -0.005, 0, 0.005, 0.01].map((k2) => fine(d, ls0 + k2));
      let m = 2;
      for (let j = 0; j < 5; j++) if (ss[j]! < ss[m]!) m = j;
      const mm = Math.min(3, Math.max(1, m));
      scale = Math.exp(ls0 + (mm - 2) * 0.005 + 0.005 * parabola(ss[mm - 1]!, ss[mm]!, ss[mm + 1]!));
    }
    const diffs: number[] = [];
    // The residual keeps brightness changes: they are flicker.
    cost(s, La, mA, W, H, d, scale, 0, diffs);
    residual[t - 1] = median(diffs);
    zoom[t] = zoom[t - 1]! * scale;
    shift[t] = scale * shift[t - 1]! + d;
  }
  const logZoom = Math.log(zoom[T - 1]!);
  const pan = shift[T - 1]! / H;
  let move: Camera = "static";
  if (Math.abs(logZoom) > ZOOM_THRESHOLD) move = logZoom > 0 ? "zoom-in" : "zoom-out";
  else if (Math.abs(pan) > PAN_THRESHOLD) move = pan > 0 ? "pan-left" : "pan-right";
  return { zoom, shift, residual, texture, logZoom, pan, move };
}

/** Maps a point of frame t back to frame-0 coordinates (pixels). */
export function toFrame0(m: CameraMotion, t: number, x: number, y: number, W: number, H: number): [number, number] {
  const z = m.zoom[t]!;
  return [(x - W / 2 - m.shift[t]!) / z + W / 2, (y - H / 2) / z + H / 2];
}
