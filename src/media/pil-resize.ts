/**
 * Pillow's `Image.resize(size, Image.LANCZOS)` on 8-bit RGB, and `Image.crop`, reproduced
 * step by step so Wan 2.2 TI2V's image preprocessing needs no Python (ti2v-image.ts).
 *
 * Matched (Pillow libImaging/Resample.c): the Lanczos-3 kernel sinc(x)·sinc(x/3) on |x| < 3,
 * support scaled by max(1, in/out); per output index the centre (i + 0.5)·scale, source window
 * [⌊centre − support + 0.5⌋, ⌊centre + support + 0.5⌋) clamped to the image, weights at
 * (j − centre + 0.5)/filterscale normalised to sum 1, then turned into 22-bit fixed point
 * (round half away from zero); two passes, horizontal first (only over the source rows the
 * vertical pass reads), each rounding to uint8 through `(acc + 2^21) >> 22` clamped to
 * 0…255; a pass is skipped when its size does not change.
 *
 * Exactness: integer arithmetic is exact; the weights are computed in float64 as Pillow does.
 * JavaScript's Math.sin may differ from the C library's by one ulp, which changes a fixed-point
 * weight only if it lies within ~1e-16 of a rounding boundary — in practice the output bytes are
 * Pillow's.
 */
import { ReelError } from "../errors.ts";
import type { RgbFrame } from "./frames.ts";

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const p = x * Math.PI;
  return Math.sin(p) / p;
}

function lanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / 3) : 0;
}

/** Fixed-point coefficients of one axis: window start, length and `ksize` weights per output index. */
interface Coeffs {
  readonly ksize: number;
  readonly bounds: Int32Array; // [out·2]: xmin, xlen
  readonly k: Int32Array; // [out·ksize]
}

function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = lanczos((x + xmin - center + 0.5) * ss);
      ww += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x]! / ww : w[x]!;
      k[xx * ksize + x] =
        v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, k };
}

function clip8(acc: number): number {
  if (acc >= 1 << (PRECISION_BITS + 8)) return 255;
  if (acc <= 0) return 0;
  return Math.floor(acc / (1 << PRECISION_BITS));
}

/**
 * Pillow `img.resize((width, height), Image.LANCZOS)` for an RGB image. Accumulators stay below
 * 2^53, so float64 sums of int products are exact like Pillow's int32 sums (which cannot overflow
 * for 8-bit input either).
 */
export function resizeLanczosPil(f: RgbFrame, width: number, height: number): RgbFrame {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ReelError("E_INPUT_INVALID", `resize to ${width}x${height}: sizes must be positive integers`);
  const needH = width !== f.width;
  const needV = height !== f.height;
  const vert = precompute(f.height, height);
  const half = 1 << (PRECISION_BITS - 1);
  let src = f.data;
  let srcW = f.width;
  let rowOffset = 0; // source rows skipped by the horizontal pass
  if (needH) {
    const yFirst = vert.bounds[0]!;
    const yLast = vert.bounds[height * 2 - 2]! + vert.bounds[height * 2 - 1]!;
    const rows = needV ? yLast - yFirst : f.height;
    const first = needV ? yFirst : 0;
    const hc = precompute(f.width, width);
    const out = new Uint8Array(width * rows * 3);
    for (let y = 0; y < rows; y++) {
      const inRow = (y + first) * f.width * 3;
      for (let xx = 0; xx < width; xx++) {
        const xmin = hc.bounds[xx * 2]!;
        const xlen = hc.bounds[xx * 2 + 1]!;
        let s0 = half;
        let s1 = half;
        let s2 = half;
        for (let x = 0; x < xlen; x++) {
          const kv = hc.k[xx * hc.ksize + x]!;
          const p = inRow + (x + xmin) * 3;
          s0 += f.data[p]! * kv;
          s1 += f.data[p + 1]! * kv;
          s2 += f.data[p + 2]! * kv;
        }
        const o = (y * width + xx) * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      }
    }
    src = out;
    srcW = width;
    rowOffset = first;
  }
  if (!needV) return { width, height: f.height, data: needH ? src : new Uint8Array(src) };
  const out = new Uint8Array(width * height * 3);
  for (let yy = 0; yy < height; yy++) {
    const ymin = vert.bounds[yy * 2]! - rowOffset;
    const ylen = vert.bounds[yy * 2 + 1]!;
    for (let xx = 0; xx < width; xx++) {
      let s0 = half;
      let s1 = half;
      let s2 = half;
      for (let y = 0; y < ylen; y++) {
        const kv = vert.k[yy * vert.ksize + y]!;
        const p = ((y + ymin) * srcW + xx) * 3;
        s0 += src[p]! * kv;
        s1 += src[p + 1]! * kv;
        s2 += src[p + 2]! * kv;
      }
      const o = (yy * width + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width, height, data: out };
}

/** Pillow `img.crop((x, y, x + width, y + height))` (inside the image). */
export function cropFrame(f: RgbFrame, x: number, y: number, width: number, height: number): RgbFrame {
  if (x < 0 || y < 0 || x + width > f.width || y + height > f.height)
    throw new ReelError(
      "E_INPUT_INVALID",
      `crop ${width}x${height}+${x}+${y} is outside the ${f.width}x${f.height} image`,
    );
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++)
    out.set(f.data.subarray(((y + r) * f.width + x) * 3, ((y + r) * f.width + x + width) * 3), r * width * 3);
  return { width, height, data: out };
}
