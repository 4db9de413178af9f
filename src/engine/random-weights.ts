/**
 * Deterministic random weights for a model's declared params, written straight to a
 * safetensors file one tensor at a time (so multi-GB checkpoints never sit in memory).
 * For benchmarks and tests only; nothing is ever downloaded.
 *
 * Init (uniform, so values are bounded): rank ≥ 2 weights ±√(3/fan_in) (variance 1/fan_in);
 * 1-D `*norm*.weight` 1 ± 0.1; biases ±0.02; anything else (modulation, embeddings) ±0.1.
 */
import { writeSafetensorsStream } from "./safetensors.ts";
import type { DeclaredParam } from "./weights.ts";

/** xorshift128+ → uniform [-1, 1). Seeded per tensor so files are identical run to run. */
function fillUniform(out: Float32Array, seed: number, scale: number, offset: number): void {
  let s0 = (seed * 0x9e3779b1) >>> 0 || 1;
  let s1 = (seed ^ 0x85ebca6b) >>> 0 || 2;
  for (let i = 0; i < out.length; i++) {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    const u = ((s0 + s1) >>> 0) / 4294967296;
    out[i] = offset + (u * 2 - 1) * scale;
  }
}

function hashKey(key: string, seed: number): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function initFor(key: string, shape: readonly number[]): { scale: number; offset: number } {
  if (shape.length >= 2 && key.endsWith("weight")) {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    return { scale: Math.sqrt(3 / fanIn), offset: 0 };
  }
  if (key.endsWith("bias")) return { scale: 0.02, offset: 0 };
  if (shape.length === 1 && /norm|proj\.[04]\./.test(key)) return { scale: 0.1, offset: 1 };
  return { scale: 0.1, offset: 0 };
}

/** Writes float32 random weights for `declared` to `path`; returns the byte count. */
export function writeRandomWeights(
  path: string,
  declared: ReadonlyMap<string, DeclaredParam>,
  seed: number,
  metadata: Record<string, string> = {},
): number {
  const keys = [...declared.keys()].sort();
  return writeSafetensorsStream(
    path,
    keys.map((k) => ({ name: k, dtype: "float32", shape: declared.get(k)!.shape })),
    (e) => {
      const data = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
      const { scale, offset } = initFor(e.name, e.shape);
      fillUniform(data, hashKey(e.name, seed), scale, offset);
      return data;
    },
    { ...metadata, seed: String(seed), generator: "reel random-weights" },
  );
}
