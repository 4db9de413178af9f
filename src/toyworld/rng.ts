/**
 * Deterministic randomness for the toy world. Everything in src/toyworld draws from these
 * (never Math.random), so the same seed gives the same scene, caption and bytes everywhere.
 *
 * - hash32: a 32-bit integer mixer (the murmur3 finaliser) over any number of integers.
 * - Rng: a mulberry32 stream seeded through hash32.
 * - cellHash: a stateless float in [0, 1) for procedural textures (stars, clouds, grass blades).
 */
import { ReelError } from "../errors.ts";

function mix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Mixes integers (any safe integers, negative included) into one unsigned 32-bit hash. */
export function hash32(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const v of xs) {
    const lo = v | 0;
    const hi = Math.floor(v / 4294967296) | 0;
    h = mix(h ^ mix(lo + 0x7f4a7c15));
    h = mix(h ^ mix(hi + 0x165667b1));
  }
  return h;
}

/** A float in [0, 1) determined by (seed, i, j): for textures sampled per grid cell. */
export function cellHash(seed: number, i: number, j: number): number {
  return mix(mix(mix(seed ^ 0x27d4eb2f) ^ (i | 0)) + Math.imul(j | 0, 0x165667b1)) / 4294967296;
}

/** Checks that a seed is a safe integer (what every public entry point accepts). */
export function checkSeed(seed: number, what = "seed"): void {
  if (!Number.isSafeInteger(seed))
    throw new ReelError("E_INPUT_INVALID", `${what} must be a safe integer, got ${seed}`);
}

/** mulberry32: a fast 32-bit generator with a full period, plenty for sampling scenes. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = hash32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [a, b). */
  range(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new ReelError("E_INPUT_INVALID", "cannot pick from an empty list");
    return xs[this.int(xs.length)]!;
  }

  /** Picks by weight: items are [value, weight] with weight ≥ 0 and a positive total. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = this.next() * total;
    for (const [v, w] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1]![0];
  }
}
