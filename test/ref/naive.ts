/**
 * Slow, obviously-correct float64 reference ops for engine tests. Row-major arrays.
 */

/** Deterministic uniform [-1, 1) values (mulberry32). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]; x [R, I], W [O, I]. */
export function linear(
  x: Float32Array,
  W: Float32Array,
  b: Float32Array | null,
  R: number,
  I: number,
  O: number,
): Float64Array {
  const y = new Float64Array(R * O);
  for (let r = 0; r < R; r++)
    for (let o = 0; o < O; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < I; i++) s += x[r * I + i]! * W[o * I + i]!;
      y[r * O + o] = s;
    }
  return y;
}

export function layerNorm(
  x: Float32Array,
  R: number,
  D: number,
  eps: number,
  w?: Float32Array,
  b?: Float32Array,
): Float64Array {
  const y = new Float64Array(R * D);
  for (let r = 0; r < R; r++) {
    let m = 0;
    for (let i = 0; i < D; i++) m += x[r * D + i]!;
    m /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[r * D + i]! - m) ** 2;
    v /= D;
    for (let i = 0; i < D; i++)
      y[r * D + i] = ((x[r * D + i]! - m) / Math.sqrt(v + eps)) * (w ? w[i]! : 1) + (b ? b[i]! : 0);
  }
  return y;
}

export function rmsNorm(x: Float32Array, R: number, D: number, eps: number, w: Float32Array): Float64Array {
  const y = new Float64Array(R * D);
  for (let r = 0; r < R; r++) {
    let ms = 0;
    for (let i = 0; i < D; i++) ms += x[r * D + i]! ** 2;
    ms /= D;
    for (let i = 0; i < D; i++) y[r * D + i] = (x[r * D + i]! / Math.sqrt(ms + eps)) * w[i]!;
  }
  return y;
}

export const geluTanh = (x: number): number =>
  0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** q [S, H·d], k/v [L, H·d] → [S, H·d], softmax(q kᵀ·scale) v per head. */
export function attention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  S: number,
  L: number,
  H: number,
  d: number,
): Float64Array {
  const out = new Float64Array(S * H * d);
  const scale = 1 / Math.sqrt(d);
  for (let h = 0; h < H; h++)
    for (let s = 0; s < S; s++) {
      const sc = new Float64Array(L);
      let mx = -Infinity;
      for (let l = 0; l < L; l++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[s * H * d + h * d + j]! * k[l * H * d + h * d + j]!;
        sc[l] = dot * scale;
        mx = Math.max(mx, sc[l]!);
      }
      let sum = 0;
      for (let l = 0; l < L; l++) {
        sc[l] = Math.exp(sc[l]! - mx);
        sum += sc[l]!;
      }
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let l = 0; l < L; l++) acc += (sc[l]! / sum) * v[l * H * d + h * d + j]!;
        out[s * H * d + h * d + j] = acc;
      }
    }
  return out;
}

/** Conv3d, batch 1: x [C, T, H, W], w [M, C, kt, kh, kw], zero padding p, stride s. */
export function conv3d(
  x: Float32Array,
  dims: [number, number, number, number],
  w: Float32Array,
  wd: [number, number, number, number, number],
  b: Float32Array | null,
  pad: [number, number, number],
  stride: [number, number, number],
): { y: Float64Array; dims: [number, number, number, number] } {
  const [C, T, H, W] = dims;
  const [M, , kt, kh, kw] = wd;
  const To = Math.floor((T + 2 * pad[0] - kt) / stride[0]) + 1;
  const Ho = Math.floor((H + 2 * pad[1] - kh) / stride[1]) + 1;
  const Wo = Math.floor((W + 2 * pad[2] - kw) / stride[2]) + 1;
  const y = new Float64Array(M * To * Ho * Wo);
  for (let m = 0; m < M; m++)
    for (let t = 0; t < To; t++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = b ? b[m]! : 0;
          for (let c = 0; c < C; c++)
            for (let a = 0; a < kt; a++)
              for (let p = 0; p < kh; p++)
                for (let q = 0; q < kw; q++) {
                  const tt = t * stride[0] + a - pad[0];
                  const ii = i * stride[1] + p - pad[1];
                  const jj = j * stride[2] + q - pad[2];
                  if (tt < 0 || tt >= T || ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                  s += x[((c * T + tt) * H + ii) * W + jj]! * w[(((m * C + c) * kt + a) * kh + p) * kw + q]!;
                }
          y[((m * To + t) * Ho + i) * Wo + j] = s;
        }
  return { y, dims: [M, To, Ho, Wo] };
}
