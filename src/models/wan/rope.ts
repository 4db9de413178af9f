/**
 * 3D RoPE of the Wan DiT (wan/modules/model.py `rope_params`, `rope_apply`;
 * shared/docs/wan-architecture.md §3.6).
 *
 * Head dim d, c = d/2 complex slots split into [c − 2⌊c/3⌋, ⌊c/3⌋, ⌊c/3⌋] for (f, h, w).
 * Pairs (x[2j], x[2j+1]) are rotated (interleaved, not rotate-half). The tables are built
 * in float64, as the official code does, and rounded to float32.
 */
import type { Graph, Value } from "../../engine/graph.ts";
import { concat, mul, reshape, split, sub, add } from "../../engine/ops/index.ts";

/** Complex slots per axis group (f, h, w) for head dim d. */
export function ropeSplit(d: number): [number, number, number] {
  const c = d / 2;
  return [c - 2 * Math.floor(c / 3), Math.floor(c / 3), Math.floor(c / 3)];
}

/**
 * cos/sin tables [L, d/2] for a grid (f, h, w); token n = (i_f·h + i_h)·w + i_w.
 * Within a group of k real dims, slot m has frequency 1/10000^(2m/k).
 */
export function ropeTables(
  grid: readonly [number, number, number],
  d: number,
): { cos: Float32Array; sin: Float32Array } {
  const [f, h, w] = grid;
  const slots = ropeSplit(d);
  const half = d / 2;
  const inv: number[][] = slots.map((s) => Array.from({ length: s }, (_, m) => 1 / 10000 ** ((2 * m) / (2 * s))));
  const L = f * h * w;
  const cos = new Float32Array(L * half);
  const sin = new Float32Array(L * half);
  let n = 0;
  for (let i = 0; i < f; i++)
    for (let j = 0; j < h; j++)
      for (let k = 0; k < w; k++, n++) {
        const pos = [i, j, k];
        let o = n * half;
        for (let axis = 0; axis < 3; axis++)
          for (const fr of inv[axis]!) {
            const a = pos[axis]! * fr;
            cos[o] = Math.cos(a);
            sin[o] = Math.sin(a);
            o++;
          }
      }
  return { cos, sin };
}

/** The table constants for a grid, embedded once per graph. */
export function ropeConstants(
  g: Graph,
  grid: readonly [number, number, number],
  d: number,
): { cos: Value; sin: Value } {
  const L = grid[0] * grid[1] * grid[2];
  const { cos, sin } = ropeTables(grid, d);
  return {
    cos: g.constant("float32", [L, 1, d / 2, 1], cos, "rope_cos"), // [L, 1, d/2, 1]
    sin: g.constant("float32", [L, 1, d / 2, 1], sin, "rope_sin"),
  };
}

/** rope_apply: x [L, heads, d] → [L, heads, d], rotating each interleaved pair. */
export function ropeApply(g: Graph, x: Value, freqs: { cos: Value; sin: Value }): Value {
  const [L, heads, d] = x.shape as [number, number, number];
  const pairs = reshape(g, x, [L, heads, d / 2, 2]); //                  [L, H, d/2, 2]
  const [a, b] = split(g, pairs, -1, [1, 1]) as [Value, Value]; //       [L, H, d/2, 1] each
  // (a + ib)·(cos + i·sin) = (a·cos − b·sin) + i(a·sin + b·cos)
  const re = sub(g, mul(g, a, freqs.cos), mul(g, b, freqs.sin));
  const im = add(g, mul(g, a, freqs.sin), mul(g, b, freqs.cos));
  return reshape(g, concat(g, [re, im], -1), [L, heads, d]); //         [L, H, d]
}
