import { describe, expect, it } from "vitest";
import { readHeader } from "../../engine/safetensors.ts";
import { fixturePath } from "../../../test/helpers/fixtures.ts";
import { fromDiffusersVaeConfig, vaeDiffusersToOfficial, vaeOfficialToDiffusers } from "./vae-keys.ts";
import { inferVaeConfig } from "./vae-infer.ts";

describe("Wan VAE key maps (official ↔ diffusers AutoencoderKLWan)", () => {
  it("names the released layout as diffusers' conversion script does (2.1)", () => {
    const o2d = (k: string) => vaeOfficialToDiffusers(k, "2.1", 2);
    expect(o2d("conv1.weight")).toBe("quant_conv.weight");
    expect(o2d("conv2.bias")).toBe("post_quant_conv.bias");
    expect(o2d("encoder.conv1.weight")).toBe("encoder.conv_in.weight");
    expect(o2d("encoder.downsamples.4.shortcut.weight")).toBe("encoder.down_blocks.4.conv_shortcut.weight");
    expect(o2d("encoder.downsamples.2.resample.1.weight")).toBe("encoder.down_blocks.2.resample.1.weight");
    expect(o2d("encoder.middle.1.to_qkv.weight")).toBe("encoder.mid_block.attentions.0.to_qkv.weight");
    expect(o2d("decoder.middle.2.residual.3.gamma")).toBe("decoder.mid_block.resnets.1.norm2.gamma");
    expect(o2d("decoder.upsamples.6.residual.6.bias")).toBe("decoder.up_blocks.1.resnets.2.conv2.bias");
    expect(o2d("decoder.upsamples.4.shortcut.weight")).toBe("decoder.up_blocks.1.resnets.0.conv_shortcut.weight");
    expect(o2d("decoder.upsamples.7.time_conv.weight")).toBe("decoder.up_blocks.1.upsamplers.0.time_conv.weight");
    expect(o2d("decoder.upsamples.11.resample.1.bias")).toBe("decoder.up_blocks.2.upsamplers.0.resample.1.bias");
    expect(o2d("decoder.head.0.gamma")).toBe("decoder.norm_out.gamma");
  });

  it("names the 2.2 layout (grouped blocks, downsampler/upsampler)", () => {
    const o2d = (k: string) => vaeOfficialToDiffusers(k, "2.2", 2);
    expect(o2d("encoder.downsamples.1.downsamples.0.shortcut.weight")).toBe(
      "encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
    );
    expect(o2d("encoder.downsamples.1.downsamples.2.time_conv.weight")).toBe(
      "encoder.down_blocks.1.downsampler.time_conv.weight",
    );
    expect(o2d("decoder.upsamples.0.upsamples.3.resample.1.weight")).toBe(
      "decoder.up_blocks.0.upsampler.resample.1.weight",
    );
    expect(o2d("decoder.upsamples.2.upsamples.1.residual.0.gamma")).toBe("decoder.up_blocks.2.resnets.1.norm1.gamma");
  });

  for (const [fixture, version] of [
    ["vae-tiny.weights.safetensors", "2.1"],
    ["vae22-tiny.weights.safetensors", "2.2"],
  ] as const) {
    const path = fixturePath(fixture);
    it.skipIf(!path)(`round-trips every key of ${fixture} and reads its config off the weights`, () => {
      const h = readHeader(path!);
      const cfg = JSON.parse(h.metadata.config!) as Record<string, unknown>;
      const diff = new Set<string>();
      for (const k of h.tensors.keys()) {
        const d = vaeOfficialToDiffusers(k, version, 2);
        expect(d, k).not.toBeNull();
        expect(diff.has(d!), `${k} → ${d} twice`).toBe(false);
        diff.add(d!);
        expect(vaeDiffusersToOfficial(d!, version, 2)).toBe(k);
      }
      const shapes = new Map([...h.tensors].map(([k, e]) => [k, e.shape] as const));
      const got = inferVaeConfig(shapes, fixture);
      expect(got.version).toBe(version);
      const { dropout: _d, ...want } = cfg;
      expect(got.config).toEqual(want);
    });
  }

  it("reads a diffusers config.json", () => {
    const d = fromDiffusersVaeConfig(
      {
        _class_name: "AutoencoderKLWan",
        base_dim: 160,
        decoder_base_dim: 256,
        z_dim: 48,
        is_residual: true,
        latents_mean: [0.1],
        latents_std: [2],
      },
      "vae/config.json",
    );
    expect(d).toMatchObject({
      version: "2.2",
      config: { dim: 160, dec_dim: 256, z_dim: 48 },
      latentsMean: [0.1],
      latentsStd: [2],
    });
    expect(() => fromDiffusersVaeConfig({ _class_name: "AutoencoderKL" }, "vae/config.json")).toThrow(
      /only AutoencoderKLWan/,
    );
  });
});
