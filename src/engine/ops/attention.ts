/** Scaled dot-product attention. */
import { attr, type Graph, type Value } from "../graph.ts";

/**
 * softmax(q·kᵀ·scale)·v per head, heads as contiguous slices of the hidden size.
 * q [B, S, H·d], k [B, L, H·d], v [B, L, H·dv] → [B, S, H·dv].
 *
 * Emits `com.microsoft.MultiHeadAttention`: on CPU it is a memory-efficient (flash-style)
 * kernel that never materialises the [S, L] scores for all heads at once, the only option
 * that fits long videos (measured in shared/docs/backend-measurements.md §2).
 */
export function attention(g: Graph, q: Value, k: Value, v: Value, numHeads: number, scale?: number): Value {
  for (const t of [q, k, v])
    if (t.shape.length !== 3) g.fail("MultiHeadAttention", `inputs must be [B, S, hidden], got [${t.shape}]`);
  const [b, s, hq] = q.shape as [number, number, number];
  const [bk, l, hk] = k.shape as [number, number, number];
  const [bv, lv, hv] = v.shape as [number, number, number];
  if (bk !== b || bv !== b) g.fail("MultiHeadAttention", `batch sizes differ: q ${b}, k ${bk}, v ${bv}`);
  if (lv !== l) g.fail("MultiHeadAttention", `k has ${l} positions, v has ${lv}`);
  if (hk !== hq) g.fail("MultiHeadAttention", `q hidden ${hq} differs from k hidden ${hk}`);
  if (hq % numHeads !== 0 || hv % numHeads !== 0)
    g.fail("MultiHeadAttention", `hidden sizes ${hq}/${hv} are not divisible by ${numHeads} heads`);
  const attrs: Record<string, ReturnType<typeof attr.int>> = { num_heads: attr.int(numHeads) };
  if (scale !== undefined) attrs.scale = attr.float(scale);
  return g.node("MultiHeadAttention", [q, k, v], { dtype: q.dtype, shape: [b, s, hv] }, attrs, "com.microsoft");
}
