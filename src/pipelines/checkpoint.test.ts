/**
 * Resuming sampling from a checkpoint: a run stopped after step 2 and resumed from its
 * checkpoint ends with the same latent, byte for byte, as an uninterrupted run with the same
 * seed (embedded model, every sampler); checkpoints survive a round trip through bytes.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ortRuntime } from "../engine/runtime-ort.ts";
import { inspectFolder } from "../models/discovery.ts";
import type { SolverKind } from "../schedulers/index.ts";
import { decodeCheckpoint, encodeCheckpoint, type SamplingCheckpoint } from "./checkpoint.ts";
import { generate } from "./generate.ts";
import { openWanBundle } from "./wan-model.ts";

const folder = inspectFolder(resolve(import.meta.dirname, "../../models/reel-toy"))!;
const bundle = openWanBundle(folder, { runtime: ortRuntime, device: "cpu" });
const input = { prompt: "a red ball moves to the right over green grass", seed: 7, steps: 5, frames: 5 };

async function latentOf(sampler: SolverKind, o: Parameters<typeof generate>[2]) {
  const r = await generate(bundle, { ...input, sampler }, o);
  return Buffer.from((r.latent.data as Float32Array).buffer);
}

describe("sampling checkpoints", () => {
  for (const kind of ["unipc", "dpm++", "euler"] as const) {
    it(`${kind}: resumed after step 2 equals the uninterrupted run byte for byte`, async () => {
      const full = await latentOf(kind, { onFrames: () => {} });
      const saved: SamplingCheckpoint[] = [];
      const ac = new AbortController();
      await expect(
        latentOf(kind, {
          onFrames: () => {},
          signal: ac.signal,
          onStep: (c) => {
            saved.push(c);
            if (c.step === 2) ac.abort(new Error("worker killed"));
          },
        }),
      ).rejects.toMatchObject({ code: "E_CANCELLED" });
      expect(saved.map((c) => c.step)).toEqual([1, 2]);
      const resume = decodeCheckpoint(encodeCheckpoint(saved[1]!));
      expect(resume.step).toBe(2);
      const steps: number[] = [];
      const resumed = await latentOf(kind, { onFrames: () => {}, resume, onStep: (c) => void steps.push(c.step) });
      expect(steps).toEqual([3, 4, 5]);
      expect(resumed.equals(full)).toBe(true);
    });
  }

  it("refuses a checkpoint from different settings", async () => {
    let cp: SamplingCheckpoint | undefined;
    await latentOf("unipc", {
      onFrames: () => {},
      onStep: (c) => {
        if (c.step === 1) cp = c;
      },
    });
    await expect(latentOf("euler", { onFrames: () => {}, resume: cp! })).rejects.toMatchObject({
      code: "E_CHECKPOINT_INVALID",
    });
  });

  it("rejects truncated bytes", () => {
    expect(() => decodeCheckpoint(new Uint8Array([200, 0, 0, 0, 1]))).toThrow(/truncated/);
  });
});
