import type { DType } from "./dtype.ts";

export type TypedData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** A host tensor: a typed array plus its dims (row-major). No math beyond small helpers. */
export interface HostTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedData;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function f32(dims: readonly number[], data?: Float32Array): HostTensor {
  const n = numel(dims);
  const arr = data ?? new Float32Array(n);
  if (arr.length !== n)
    throw new RangeError(`f32: data has ${arr.length} elements, dims ${JSON.stringify(dims)} need ${n}`);
  return { dtype: "float32", dims: [...dims], data: arr };
}

export function i64(dims: readonly number[], values: readonly (number | bigint)[]): HostTensor {
  const n = numel(dims);
  if (values.length !== n) throw new RangeError(`i64: ${values.length} values, dims need ${n}`);
  return { dtype: "int64", dims: [...dims], data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/** Converts IEEE half (as uint16 bits) to float32. */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) out[i] = s * m * 2 ** -24;
    else if (e === 31) out[i] = m ? Number.NaN : s * Number.POSITIVE_INFINITY;
    else out[i] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}

/** Converts bfloat16 (as uint16 bits) to float32: the upper half of the float32 bits. */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return new Float32Array(bits.buffer);
}

/**
 * float8 E4M3FN (as bytes) to float32: 1 sign, 4 exponent (bias 7), 3 mantissa bits; no
 * infinities, S.1111.111 is NaN; largest finite 448. (PyTorch's torch.float8_e4m3fn, the
 * format of ComfyUI/Kijai `*_fp8_e4m3fn` checkpoints.)
 */
export function f8e4m3fnToF32(src: Uint8Array): Float32Array {
  F8_TABLE ??= Float32Array.from({ length: 256 }, (_, b) => {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >> 3) & 0xf;
    const m = b & 7;
    if (e === 15 && m === 7) return Number.NaN;
    return e === 0 ? s * (m / 8) * 2 ** -6 : s * (1 + m / 8) * 2 ** (e - 7);
  });
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = F8_TABLE[src[i]!]!;
  return out;
}
let F8_TABLE: Float32Array | null = null;

/** Float32 to IEEE half bits, round to nearest even. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < src.length; i++) {
    f[0] = src[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && h & 1)) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
    if (h >= 0x7c00) {
      e = 31;
      h = 0x7c00;
    }
    out[i] = sign | h;
  }
  return out;
}

/** Float32 to bfloat16 bits, round to nearest even. */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
