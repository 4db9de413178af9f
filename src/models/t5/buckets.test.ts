/**
 * The host bucket table: the exact table of wan-architecture.md §4.4 for umT5 (32 buckets,
 * max_distance 128), and the fixture's `rel_buckets` bit for bit.
 */
import { describe, expect, it } from "vitest";
import { fixturePath, missingFixtures } from "../../../test/helpers/fixtures.ts";
import { readHeader, readTensor } from "../../engine/safetensors.ts";
import { relativePositionBucket, relativePositionBuckets } from "./buckets.ts";

/** b(n) of the spec table, written out from its ranges. */
function specB(n: number): number {
  if (n < 8) return n;
  const ranges: [number, number, number][] = [
    [8, 11, 8],
    [12, 15, 9],
    [16, 22, 10],
    [23, 31, 11],
    [32, 45, 12],
    [46, 63, 13],
    [64, 90, 14],
  ];
  for (const [lo, hi, b] of ranges) if (n >= lo && n <= hi) return b;
  return 15;
}

describe("relative position buckets (bidirectional, 32 buckets, max_distance 128)", () => {
  it("match the spec table for |rel| up to 2048, both directions", () => {
    for (let n = 0; n <= 2048; n++) {
      expect(relativePositionBucket(-n, 32), `rel −${n}`).toBe(specB(n));
      if (n > 0) expect(relativePositionBucket(n, 32), `rel +${n}`).toBe(16 + specB(n));
    }
  });

  it("never produce bucket 16 and stay in [0, 32)", () => {
    const t = relativePositionBuckets(600, 600, 32);
    const seen = new Set([...t].map(Number));
    expect(seen.has(16)).toBe(false);
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(31);
  });

  it("lay out bucket(key − query) at [query, key], for non-square tables too", () => {
    const t = relativePositionBuckets(3, 20, 32);
    for (let q = 0; q < 3; q++)
      for (let k = 0; k < 20; k++) expect(Number(t[q * 20 + k])).toBe(relativePositionBucket(k - q, 32));
    expect(Number(t[0 * 20 + 19])).toBe(16 + 10); // rel +19: 16..22 → 10
    expect(Number(t[2 * 20 + 0])).toBe(2); // rel −2
  });

  it("reject configurations and sizes the reference cannot take", () => {
    expect(() => relativePositionBucket(3, 2)).toThrow(expect.objectContaining({ code: "E_CONFIG_INVALID" }));
    expect(() => relativePositionBuckets(0, 4, 32)).toThrow(expect.objectContaining({ code: "E_INPUT_INVALID" }));
  });

  const skip = missingFixtures("t5-tiny.io.safetensors");
  it.skipIf(skip !== null)(skip ?? "equal the official rel_buckets of t5-tiny exactly", () => {
    const want = readTensor(readHeader(fixturePath("t5-tiny.io.safetensors")!), "rel_buckets");
    const [lq, lk] = want.dims as [number, number];
    expect([...relativePositionBuckets(lq, lk, 32)]).toEqual([...(want.data as BigInt64Array)]);
  });
});
