/**
 * WanModel parity against the official Wan code (shared fixtures dit-tiny, dit-tiny-i2v,
 * dit22-tiny-ti2v), every intermediate included, with the fixtures' tolerance.
 */
import { describe, expect, it } from "vitest";
import { missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { formatComparison } from "../../parity/compare.ts";
import { runDitFixture } from "../../parity/dit.ts";
import { findFixtures } from "../../parity/fixtures.ts";

const FIXTURES = ["dit-tiny", "dit-tiny-i2v", "dit22-tiny-ti2v"];
const skip = missingFixtures(...FIXTURES.flatMap((f) => [`${f}.io.safetensors`, `${f}.weights.safetensors`]));

describe.skipIf(skip !== null)(skip ?? "WanModel parity with the official code", () => {
  for (const name of FIXTURES) {
    it(`${name}: out and every intermediate within 2e-5 + 1e-4·|want|`, async () => {
      const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === name)!;
      expect(fx.component).toBe("dit");
      const results = await runDitFixture(fx, { runtime: ortRuntime, device: "cpu", threads: 2 });
      const names = results.map((r) => r.tensor);
      expect(names).toContain("out");
      expect(names).toContain("block1_out");
      expect(names).toContain("rope2_out");
      if (name === "dit-tiny-i2v") expect(names).toContain("img_emb_out");
      const failed = results.filter((r) => !r.ok);
      expect(failed.map(formatComparison)).toEqual([]);
    });
  }

  // Long sequences run the FFN in pieces (FFN_ROWS); the tiny fixtures are shorter than one
  // piece, so cut them into uneven pieces of 7 tokens to check the pieces against the reference.
  it("dit-tiny with the FFN in pieces of 7 tokens: every intermediate within tolerance", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "dit-tiny")!;
    const results = await runDitFixture(fx, { runtime: ortRuntime, device: "cpu", threads: 2, ffnRows: 7 });
    expect(results.map((r) => r.tensor)).toContain("block0_ffn_out");
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
  });
});
