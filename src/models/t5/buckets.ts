/**
 * Relative position buckets of the T5 encoder, on the host: T5RelativeEmbedding
 * ._relative_position_bucket of Wan-Video/Wan2.1 wan/modules/t5.py @9737cba (bidirectional
 * branch), spec shared/docs/wan-architecture.md §4.4.
 *
 * With rel = key − query, n = |rel|, half = ⌊num_buckets/2⌋ and max_exact = ⌊half/2⌋:
 *   bucket = (rel > 0 ? half : 0) + (n < max_exact ? n
 *            : min(half − 1, max_exact + trunc(ln(n/max_exact) / ln(max_dist/max_exact) · (half − max_exact))))
 * The official code evaluates the log branch in float32 (torch.log on a float tensor, the
 * Python-float divisor cast to float32, `.long()` truncating); every step here is rounded to
 * float32 the same way (Math.fround; division and multiplication of float32 values in float64
 * round exactly like float32 ops), so a result that lands on an integer boundary (n = 16, 32,
 * 64 for umT5: ln 2/ln 16 · 8 = 2) truncates as the reference does. For umT5 (32 buckets,
 * max_dist 128) this gives the table of §4.4: n 0..7 → n, 8..11 → 8, 12..15 → 9, 16..22 → 10,
 * 23..31 → 11, 32..45 → 12, 46..63 → 13, 64..90 → 14, ≥ 91 → 15.
 *
 * Deviation: only the bidirectional (encoder) variant exists; the decoder's unidirectional
 * buckets are not part of Wan.
 */
import { ReelError } from "../../errors.ts";
import { T5_MAX_DISTANCE } from "./config.ts";

/** bucket(rel) for rel = key_pos − query_pos (an integer). */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance = T5_MAX_DISTANCE): number {
  if (!Number.isInteger(rel)) throw new ReelError("E_INPUT_INVALID", `relative position ${rel} is not an integer`);
  const half = Math.floor(numBuckets / 2);
  const maxExact = Math.floor(half / 2);
  if (maxExact < 1)
    throw new ReelError("E_CONFIG_INVALID", `num_buckets ${numBuckets} must be at least 4 (bidirectional)`);
  const base = rel > 0 ? half : 0;
  const n = Math.abs(rel);
  if (n < maxExact) return base + n;
  const f = Math.fround;
  const logRatio = f(Math.log(maxDistance / maxExact)); //      math.log(max_dist / max_exact), cast to float32
  const ln = f(Math.log(f(n / maxExact))); //                    torch.log(rel_pos.float() / max_exact)
  const large = maxExact + Math.trunc(f(f(ln / logRatio) * (half - maxExact))); // .long() truncates
  return base + Math.min(large, half - 1);
}

/** The bucket table `[lq, lk]`: bucket(key − query) at [query, key], row-major int64. */
export function relativePositionBuckets(
  lq: number,
  lk: number,
  numBuckets: number,
  maxDistance = T5_MAX_DISTANCE,
): BigInt64Array {
  if (!Number.isInteger(lq) || !Number.isInteger(lk) || lq < 1 || lk < 1)
    throw new ReelError("E_INPUT_INVALID", `bucket table size [${lq}, ${lk}] must be positive integers`);
  // The table only depends on key − query: compute each distinct offset once.
  const byRel = new Map<number, bigint>();
  const out = new BigInt64Array(lq * lk);
  for (let q = 0; q < lq; q++)
    for (let k = 0; k < lk; k++) {
      const rel = k - q;
      let b = byRel.get(rel);
      if (b === undefined) {
        b = BigInt(relativePositionBucket(rel, numBuckets, maxDistance));
        byRel.set(rel, b);
      }
      out[q * lk + k] = b;
    }
  return out;
}
