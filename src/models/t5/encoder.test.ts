/**
 * umT5 encoder parity against the official Wan code (shared fixture t5-tiny): every tensor of
 * the io file, intermediates included, with the fixtures' tolerance; integer tensors exact.
 */
import { describe, expect, it } from "vitest";
import { missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { formatComparison } from "../../parity/compare.ts";
import { findFixtures } from "../../parity/fixtures.ts";
import { runT5Fixture } from "../../parity/t5.ts";

const skip = missingFixtures("t5-tiny.io.safetensors", "t5-tiny.weights.safetensors");

describe.skipIf(skip !== null)(skip ?? "T5Encoder parity with the official code", () => {
  it("t5-tiny: out, contexts, seq_lens, token embedding, every block output and position bias, buckets", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "t5-tiny")!;
    expect(fx.component).toBe("t5");
    const results = await runT5Fixture(fx, { runtime: ortRuntime, device: "cpu", threads: 2 });
    expect(results.map((r) => r.tensor).sort()).toEqual(
      [
        "block0_out",
        "block0_pos_bias",
        "block1_out",
        "block1_pos_bias",
        "context_0",
        "context_1",
        "out",
        "rel_buckets",
        "seq_lens",
        "token_embedding_out",
      ].sort(),
    );
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
    // The gather-only tensors and the integer ones are exact.
    for (const r of results)
      if (/pos_bias|rel_buckets|seq_lens|token_embedding_out/.test(r.tensor)) expect(r.maxAbs, r.tensor).toBe(0);
  });
});
