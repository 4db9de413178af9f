/**
 * The denoising loop's model handling: with two experts (Wan 2.2 A14B) the high-noise expert is
 * released as soon as the low-noise one takes over, not at the end of sampling.
 */
import { describe, expect, it } from "vitest";
import { f32 } from "../engine/tensor.ts";
import type { WanDiT } from "../models/wan/model.ts";
import { ProgressTracker } from "./progress.ts";
import { denoise } from "./sample.ts";
import type { WanBundle } from "./wan-model.ts";

/** A stand-in expert: predicts velocity 0 and logs its calls. */
function expert(name: string, log: string[]) {
  return {
    async forward(input: { x: { data: Float32Array } }) {
      log.push(`${name}.forward`);
      return { out: f32([1, 1, 2, 2], new Float32Array(input.x.data.length)) };
    },
    async release() {
      log.push(`${name}.release`);
    },
  } as unknown as WanDiT;
}

describe("denoise", () => {
  it("releases the high-noise expert when the low-noise expert takes over", async () => {
    const log: string[] = [];
    const high = expert("high", log);
    const low = expert("low", log);
    const boundary = 900;
    const bundle = {
      ditConfig: { patch_size: [1, 1, 1] },
      ditFor: (t: number) => (t >= boundary ? high : low),
      guidanceFor: () => 1,
    } as unknown as WanBundle;
    const switches: number[] = [];
    await denoise(
      bundle,
      f32([1, 1, 2, 2], new Float32Array([0.5, -0.5, 1, -1])),
      { context: f32([1, 1], new Float32Array(1)), negative: f32([1, 1], new Float32Array(1)) },
      {
        steps: 6,
        shift: 5,
        sampler: "euler",
        guidance: 1,
        progress: new ProgressTracker(undefined),
        onStep: (c) => void switches.push(c.step),
      },
    );
    const firstLow = log.indexOf("low.forward");
    expect(firstLow).toBeGreaterThan(1); // both experts ran
    // high ran first; it is released exactly once, right before the low-noise expert's first call
    expect(log.slice(0, firstLow - 1).every((e) => e === "high.forward")).toBe(true);
    expect(log[firstLow - 1]).toBe("high.release");
    expect(log.filter((e) => e === "high.release")).toHaveLength(1);
    expect(log.slice(firstLow).includes("high.forward")).toBe(false);
    expect(log).not.toContain("low.release");
    expect(switches).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
