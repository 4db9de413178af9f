/**
 * Wan 2.1 VAE against the official code (shared fixture vae-tiny: every case and every
 * tensor), streaming vs whole-sequence agreement, the frame-count rules and input checks.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectClose } from "../../../test/helpers/close.ts";
import { missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import * as ref from "../../../test/ref/naive.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { readHeader, readTensor } from "../../engine/safetensors.ts";
import { f32, type HostTensor } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { formatComparison } from "../../parity/compare.ts";
import { findFixtures } from "../../parity/fixtures.ts";
import { runVaeFixture } from "../../parity/vae.ts";
import { parseWanVaeConfig } from "./vae-config.ts";
import { sliceFrames, type VaeChunkResult, WanVAE } from "./vae-runner.ts";

const skip = missingFixtures("vae-tiny.io.safetensors", "vae-tiny.weights.safetensors");
const RUN = { runtime: ortRuntime, device: "cpu" as const, threads: 1 };

function tinyVae(rename?: (k: string) => string | null): WanVAE {
  const wPath = join(WAN21_FIXTURES, "vae-tiny.weights.safetensors");
  const cfg = parseWanVaeConfig(JSON.parse(readHeader(wPath).metadata.config!), "2.1", "vae-tiny");
  return new WanVAE(cfg, weightMapFromFiles([wPath], rename), RUN);
}

function io(name: string): HostTensor {
  return readTensor(readHeader(join(WAN21_FIXTURES, "vae-tiny.io.safetensors")), name);
}

describe.skipIf(skip !== null)(skip ?? "Wan 2.1 VAE", () => {
  it("vae-tiny: every case and tensor within 2e-5 + 1e-4·|want| of the official code", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "vae-tiny")!;
    expect(fx.component).toBe("vae");
    const results = await runVaeFixture(fx, RUN);
    // 4 cases × 6 expected tensors + latents_mean/std.
    expect(results).toHaveLength(26);
    for (const p of ["f5_32x32", "f9_24x40", "f1_16x16", "f7_16x16"])
      for (const s of ["encoder_out", "conv1_out", "mu", "conv2_out", "decoded_raw", "decoded"])
        expect(results.map((r) => r.tensor)).toContain(`${p}_${s}`);
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
  });

  it("streaming (chunk by chunk, cache carried) and whole-sequence runs agree", async () => {
    const vae = tinyVae();
    const video = io("f9_24x40_video");
    const stream = await vae.encodeWithTaps(video, new Set(["encoder_out"]), "stream");
    const whole = await vae.encodeWithTaps(video, new Set(["encoder_out"]), "whole");
    expect(stream.latent!.dims).toEqual([16, 3, 3, 5]);
    expectClose(stream.latent!.data as Float32Array, whole.latent!.data as Float32Array, 1e-5, 1e-5);
    expectClose(stream.encoder_out!.data as Float32Array, whole.encoder_out!.data as Float32Array, 1e-5, 1e-5);
    // A longer latent than any fixture: 4 chunks after the first.
    const latent = f32([16, 5, 3, 5], ref.randn(16 * 5 * 15, 7, 1.5));
    const ds = await vae.decodeWithTaps(latent, new Set(["decoded_raw"]), "stream");
    const dw = await vae.decodeWithTaps(latent, new Set(["decoded_raw"]), "whole");
    expect(ds.video!.dims).toEqual([3, 17, 24, 40]);
    expectClose(ds.decoded_raw!.data as Float32Array, dw.decoded_raw!.data as Float32Array, 1e-5, 1e-5);
    expectClose(ds.video!.data as Float32Array, dw.video!.data as Float32Array, 1e-5, 1e-5);
    // The raw output is not already inside [−1, 1], so the clamp is exercised.
    expect(Math.max(...(ds.decoded_raw!.data as Float32Array).map(Math.abs))).toBeGreaterThan(1);
    expect(Math.max(...(ds.video!.data as Float32Array).map(Math.abs))).toBe(1);
  });

  it("decodeStream hands over 1 frame, then 4 per latent frame, in order, equal to decode()", async () => {
    const vae = tinyVae();
    const latent = io("f9_24x40_mu");
    const chunks: VaeChunkResult[] = [];
    const n = await vae.decodeStream(latent, (c) => {
      chunks.push(c);
    });
    expect(n).toBe(9);
    expect(chunks.map((c) => [c.index, c.firstFrame, c.main.dims[1]])).toEqual([
      [0, 0, 1],
      [1, 1, 4],
      [2, 5, 4],
    ]);
    const full = await vae.decode(latent);
    for (const c of chunks)
      expect(c.main.data).toEqual(sliceFrames(full, c.firstFrame, c.firstFrame + c.main.dims[1]!).data);
    expectClose(full.data as Float32Array, io("f9_24x40_decoded").data as Float32Array, 2e-5, 1e-4);
  });

  it("frames after 1 + 4⌊(T−1)/4⌋ are dropped: T = 7 encodes like its first 5 frames", async () => {
    const vae = tinyVae();
    const video = io("f7_16x16_video");
    const l7 = await vae.encode(video);
    const l5 = await vae.encode(sliceFrames(video, 0, 5));
    expect(l7.dims).toEqual([16, 2, 2, 2]);
    expect(l7.data).toEqual(l5.data);
    const l2 = await vae.encode(sliceFrames(video, 0, 2));
    expect(l2.dims).toEqual([16, 1, 2, 2]);
    expect(l2.data).toEqual((await vae.encode(sliceFrames(video, 0, 1))).data);
    expect((await vae.decode(l7)).dims).toEqual([3, 5, 16, 16]);
  });

  it("rejects bad inputs and mismatched checkpoints with clear errors", async () => {
    const vae = tinyVae();
    await expect(vae.encode(f32([3, 1, 20, 16]))).rejects.toThrow(/frame size 20×16 must be a positive multiple of 8/);
    await expect(vae.encode(f32([4, 1, 16, 16]))).rejects.toThrow(expect.objectContaining({ code: "E_INPUT_INVALID" }));
    await expect(vae.decode(f32([48, 1, 2, 2]))).rejects.toThrow(/latent must be float32 \[16, T ≥ 1, h, w\]/);
    expect(() => tinyVae((k) => (k === "decoder.upsamples.3.time_conv.weight" ? null : k))).toThrow(
      /missing \(1\):\n\s+decoder\.upsamples\.3\.time_conv\.weight \[64, 32, 3, 1, 1\]/,
    );
    expect(() => tinyVae((k) => (k === "conv2.bias" ? "conv3.bias" : k))).toThrow(
      expect.objectContaining({
        code: "E_WEIGHTS_MISMATCH",
        message: expect.stringMatching(/unexpected \(1\):\n\s+conv3\.bias/),
      }),
    );
  });
});
