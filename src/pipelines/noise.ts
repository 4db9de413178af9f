/**
 * reel's seeded Gaussian noise, "reel-noise-v1": the same seed gives the same noise on every
 * machine and Node version (integer PRNG + float64 math, rounded to float32 once).
 *
 *   state  = splitmix32 applied four times to the 32-bit seed (xoshiro128** state)
 *   u1, u2 = (next() >>> 8) / 2^24 in (0, 1] and [0, 1)     (24-bit uniforms)
 *   z0, z1 = Box–Muller: sqrt(−2 ln u1)·cos(2π u2), sqrt(−2 ln u1)·sin(2π u2)
 *
 * Values fill the tensor in row-major order. The official code draws from torch's generator,
 * which cannot be reproduced outside torch (wan-architecture.md §8.4); reel does not try.
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128**: 32-bit outputs. */
export function rng(seed: number): () => number {
  const sm = splitmix32(seed);
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** n standard normal float32 values from `seed`. */
export function gaussian(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = ((next() >>> 8) + 1) / 16777216; // (0, 1]
    const u2 = (next() >>> 8) / 16777216; // [0, 1)
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** A seed for "no seed given": 31 random bits, so it prints and round-trips as a plain integer. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
