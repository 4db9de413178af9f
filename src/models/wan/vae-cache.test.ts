/**
 * The explicit cache slots: feat_idx order, kinds and shapes for the released VAEs (graph
 * builds only, no weights), and the chunk-kind contract (first: outputs only; rest: in and out).
 */
import { describe, expect, it } from "vitest";
import { Graph } from "../../engine/graph.ts";
import { buildVaeDecode, buildVaeEncode, type VaeChunkShape } from "./vae.ts";
import { cacheInputName, cacheOutputName } from "./vae-cache.ts";
import { vaePreset, type WanVaeConfig } from "./vae-config.ts";
import { vaeArch } from "./vae-runner.ts";

function build(c: WanVaeConfig, op: "encode" | "decode", s: VaeChunkShape, emitCache = true) {
  const g = new Graph("t");
  const stats = { mean: new Float32Array(c.z_dim), std: new Float32Array(c.z_dim).fill(1) };
  const slots = (op === "encode" ? buildVaeEncode : buildVaeDecode)(g, vaeArch(c), c, s, { stats, emitCache });
  return { g, slots };
}

describe("Wan VAE cache slots", () => {
  it("2.1: encoder and decoder slots in the reference's feat_idx order", () => {
    const c = vaePreset("wan2.1");
    const enc = build(c, "encode", { kind: "rest", frames: 4, height: 64, width: 96 }).slots;
    expect(enc).toHaveLength(24);
    expect(enc.slice(0, 3).map((s) => s.module)).toEqual([
      "encoder.conv1",
      "encoder.downsamples.0.residual.2",
      "encoder.downsamples.0.residual.6",
    ]);
    expect(enc[9]).toEqual({
      index: 9,
      module: "encoder.downsamples.5.time_conv",
      kind: "time_down",
      shape: [192, 1, 16, 24],
    });
    expect(enc[0]!.shape).toEqual([3, 2, 64, 96]);
    expect(enc[14]!.module).toBe("encoder.downsamples.8.time_conv");
    expect(enc[23]).toMatchObject({ module: "encoder.head.2", kind: "causal_conv", shape: [384, 2, 8, 12] });

    const dec = build(c, "decode", { kind: "rest", frames: 1, height: 8, width: 12 }).slots;
    expect(dec).toHaveLength(32);
    expect(dec[0]).toMatchObject({ module: "decoder.conv1", shape: [16, 2, 8, 12] });
    expect(dec[11]).toMatchObject({ module: "decoder.upsamples.3.time_conv", kind: "time_up", shape: [384, 2, 8, 12] });
    expect(dec[18]).toMatchObject({
      module: "decoder.upsamples.7.time_conv",
      kind: "time_up",
      shape: [384, 2, 16, 24],
    });
    expect(dec[12]).toMatchObject({ module: "decoder.upsamples.4.residual.2", shape: [192, 2, 16, 24] });
    expect(dec[31]).toMatchObject({ module: "decoder.head.2", shape: [96, 2, 64, 96] });
    expect(dec.map((s) => s.index)).toEqual([...Array(32).keys()]);
  });

  it("2.2: the nested block names, time slots and widths", () => {
    const c = vaePreset("wan2.2");
    const enc = build(c, "encode", { kind: "rest", frames: 4, height: 64, width: 64 }).slots;
    expect(enc).toHaveLength(24);
    expect(enc[0]).toMatchObject({ module: "encoder.conv1", shape: [12, 2, 32, 32] });
    expect(enc[9]).toMatchObject({ module: "encoder.downsamples.1.downsamples.2.time_conv", kind: "time_down" });
    expect(enc[14]).toMatchObject({ module: "encoder.downsamples.2.downsamples.2.time_conv", kind: "time_down" });
    const dec = build(c, "decode", { kind: "rest", frames: 1, height: 4, width: 4 }).slots;
    expect(dec).toHaveLength(32);
    expect(dec[11]).toMatchObject({
      module: "decoder.upsamples.0.upsamples.3.time_conv",
      kind: "time_up",
      shape: [1024, 2, 4, 4],
    });
    expect(dec[31]).toMatchObject({ module: "decoder.head.2", shape: [256, 2, 32, 32] });
  });

  it("first chunks only emit, rest chunks take and emit every slot, whole graphs have none", () => {
    const c = vaePreset("wan2.1");
    const s = { height: 2, width: 3 };
    const first = build(c, "decode", { kind: "first", frames: 1, ...s });
    const rest = build(c, "decode", { kind: "rest", frames: 1, ...s });
    const longer = build(c, "decode", { kind: "rest", frames: 3, ...s });
    const whole = build(c, "decode", { kind: "first", frames: 3, ...s }, false);
    expect(first.slots).toEqual(rest.slots);
    expect(longer.slots).toEqual(rest.slots); // the cache does not grow with the chunk or the video
    expect(first.g.inputs.map((v) => v.name)).toEqual(["latent"]);
    expect(rest.g.inputs.map((v) => v.name)).toEqual(["latent", ...rest.slots.map((x) => cacheInputName(x.index))]);
    const outs = (g: Graph) => g.outputs.map((v) => v.name).filter((n) => n.startsWith("cache_out"));
    expect(outs(first.g)).toEqual(rest.slots.map((x) => cacheOutputName(x.index)));
    expect(outs(rest.g)).toEqual(outs(first.g));
    expect(outs(whole.g)).toEqual([]);
    for (const g of [first.g, rest.g]) {
      const byName = new Map([...g.inputs, ...g.outputs].map((v) => [v.name, v.shape]));
      for (const x of rest.slots) {
        expect(byName.get(cacheOutputName(x.index))).toEqual(x.shape);
        if (g === rest.g) expect(byName.get(cacheInputName(x.index))).toEqual(x.shape);
      }
    }
    // Output frames: 1 for the first latent frame, 4 per latent frame after it.
    const video = (g: Graph) => g.outputs.find((v) => v.name === "video")!.shape;
    expect(video(first.g)).toEqual([3, 1, 16, 24]);
    expect(video(rest.g)).toEqual([3, 4, 16, 24]);
    expect(video(whole.g)).toEqual([3, 9, 16, 24]);
  });

  it("chunk frame counts the temporal layers cannot take are build errors", () => {
    const c = vaePreset("wan2.1");
    expect(() => build(c, "encode", { kind: "rest", frames: 3, height: 16, width: 16 })).toThrow(
      /downsample3d.*rest chunk needs an even frame count, got 3/,
    );
    expect(() => build(c, "encode", { kind: "first", frames: 4, height: 16, width: 16 })).toThrow(
      expect.objectContaining({ code: "E_SHAPE_MISMATCH" }),
    );
  });
});
