/**
 * Wan 2.2 VAE against the official code (shared fixture vae22-tiny: every case and tensor),
 * streaming vs whole-sequence agreement (AvgDown3D front padding, DupUp3D first-chunk drop),
 * and the patchify channel order (c·4 + col·2 + row).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectClose } from "../../../test/helpers/close.ts";
import { missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import * as ref from "../../../test/ref/naive.ts";
import { compile } from "../../engine/compile.ts";
import { Graph } from "../../engine/graph.ts";
import { squeeze, unsqueeze } from "../../engine/ops/index.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { readHeader } from "../../engine/safetensors.ts";
import { f32 } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { formatComparison } from "../../parity/compare.ts";
import { findFixtures } from "../../parity/fixtures.ts";
import { runVaeFixture } from "../../parity/vae.ts";
import { patchify, unpatchify } from "./vae22.ts";
import { parseWanVaeConfig } from "./vae-config.ts";
import { WanVAE } from "./vae-runner.ts";

const skip = missingFixtures("vae22-tiny.io.safetensors", "vae22-tiny.weights.safetensors");
const RUN = { runtime: ortRuntime, device: "cpu" as const, threads: 1 };

describe("Wan 2.2 patchify", () => {
  it("puts pixel (c, t, 2h + q, 2w + r) at channel c·4 + r·2 + q, and unpatchify inverts it", async () => {
    const [T, H, W] = [2, 4, 6];
    const g = new Graph("patchify");
    const x = g.input("x", "float32", [3, T, H, W]);
    const p = patchify(g, unsqueeze(g, x, 0));
    g.output(squeeze(g, p, 0), "p");
    g.output(squeeze(g, unpatchify(g, p), 0), "back");
    const s = await compile(g, new Map(), RUN);
    const X = Float32Array.from({ length: 3 * T * H * W }, (_, i) => i);
    const r = await s.run({ x: f32([3, T, H, W], X) });
    expect(r.p!.dims).toEqual([12, T, H / 2, W / 2]);
    const want: number[] = [];
    for (let ch = 0; ch < 12; ch++)
      for (let t = 0; t < T; t++)
        for (let h = 0; h < H / 2; h++)
          for (let w = 0; w < W / 2; w++) {
            const [c, rr, q] = [Math.floor(ch / 4), Math.floor(ch / 2) % 2, ch % 2];
            want.push(X[((c * T + t) * H + 2 * h + q) * W + 2 * w + rr]!);
          }
    expect([...(r.p!.data as Float32Array)]).toEqual(want);
    expect(r.back!.data).toEqual(X);
  });
});

describe.skipIf(skip !== null)(skip ?? "Wan 2.2 VAE", () => {
  it("vae22-tiny: every case and tensor within 2e-5 + 1e-4·|want| of the official code", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "vae22-tiny")!;
    expect(fx.component).toBe("vae22");
    const results = await runVaeFixture(fx, RUN);
    expect(results).toHaveLength(2 * 6 + 2);
    for (const p of ["f5_64x64", "f1_32x32"])
      for (const s of ["encoder_out", "conv1_out", "mu", "conv2_out", "decoded_raw", "decoded"])
        expect(results.map((r) => r.tensor)).toContain(`${p}_${s}`);
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
  });

  it("streaming and whole-sequence runs agree (9 frames in, 3 latent frames out and back)", async () => {
    const wPath = join(WAN21_FIXTURES, "vae22-tiny.weights.safetensors");
    const cfg = parseWanVaeConfig(JSON.parse(readHeader(wPath).metadata.config!), "2.2", "vae22-tiny");
    const vae = new WanVAE(cfg, weightMapFromFiles([wPath]), RUN);
    const video = f32([3, 9, 32, 48], ref.randn(3 * 9 * 32 * 48, 22));
    const stream = await vae.encodeWithTaps(video, new Set(["encoder_out"]), "stream");
    const whole = await vae.encodeWithTaps(video, new Set(["encoder_out"]), "whole");
    expect(stream.latent!.dims).toEqual([48, 3, 2, 3]);
    expectClose(stream.encoder_out!.data as Float32Array, whole.encoder_out!.data as Float32Array, 1e-5, 1e-5);
    expectClose(stream.latent!.data as Float32Array, whole.latent!.data as Float32Array, 1e-5, 1e-5);
    const ds = await vae.decodeWithTaps(stream.latent!, new Set(["decoded_raw"]), "stream");
    const dw = await vae.decodeWithTaps(stream.latent!, new Set(["decoded_raw"]), "whole");
    expect(ds.video!.dims).toEqual([3, 9, 32, 48]);
    expectClose(ds.decoded_raw!.data as Float32Array, dw.decoded_raw!.data as Float32Array, 1e-5, 1e-5);
  });
});
