import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { discoverModels, inspectFolder, requireComplete, resolveModel } from "./discovery.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

function touch(...parts: string[]) {
  const p = join(...parts);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, "{}");
}

describe("model discovery", () => {
  const wan = join(tmp.dir, "models", "Wan2.1-T2V-1.3B");
  touch(wan, "diffusion_pytorch_model.safetensors");
  touch(wan, "models_t5_umt5-xxl-enc-bf16.pth");
  touch(wan, "Wan2.1_VAE.pth");
  touch(wan, "google/umt5-xxl/tokenizer.json");
  const partial = join(tmp.dir, "models", "Wan2.1-I2V-14B-480P");
  touch(partial, "diffusion_pytorch_model.safetensors.index.json");
  touch(partial, "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth");
  const moe = join(tmp.dir, "models", "Wan2.2-T2V-A14B");
  touch(moe, "high_noise_model/diffusion_pytorch_model.safetensors.index.json");
  touch(moe, "low_noise_model/diffusion_pytorch_model.safetensors.index.json");
  touch(moe, "models_t5_umt5-xxl-enc-bf16.pth");
  touch(moe, "Wan2.1_VAE.pth");
  touch(moe, "google/umt5-xxl/tokenizer.json");
  const hub = join(tmp.dir, "hub", "models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers", "snapshots", "abc123");
  writeFileSync(
    join(mkdirOf(hub), "model_index.json"),
    JSON.stringify({ transformer: ["diffusers", "WanTransformer3DModel"] }),
  );
  for (const d of ["transformer", "text_encoder", "tokenizer", "vae"]) mkdirSync(join(hub, d), { recursive: true });
  mkdirSync(join(tmp.dir, "models", "not-a-model", "x"), { recursive: true });

  function mkdirOf(p: string) {
    mkdirSync(p, { recursive: true });
    return p;
  }

  it("finds Wan-AI, A14B and diffusers folders (HF cache snapshots included) and skips other folders", () => {
    const found = discoverModels([join(tmp.dir, "models"), join(tmp.dir, "hub")]);
    const byName = new Map(found.map((m) => [m.name, m]));
    expect([...byName.keys()].sort()).toEqual([
      "wan2.1-i2v-14b-480p",
      "wan2.1-t2v-1.3b",
      "wan2.1-t2v-1.3b-diffusers",
      "wan2.2-t2v-a14b",
    ]);
    expect(byName.get("wan2.1-t2v-1.3b")!.missing).toEqual([]);
    expect(byName.get("wan2.1-t2v-1.3b")!.layout).toBe("wan-ai");
    expect(byName.get("wan2.1-t2v-1.3b-diffusers")!.layout).toBe("diffusers");
    expect(byName.get("wan2.2-t2v-a14b")!.experts).toBeDefined();
    expect(byName.get("wan2.1-i2v-14b-480p")!.components.clip).toMatch(/models_clip_/);
  });

  it("says exactly what a partial folder lacks and where it looked", () => {
    const f = inspectFolder(partial)!;
    expect(f.missing.map((m) => m.component).sort()).toEqual(["text_encoder", "tokenizer", "vae"]);
    expect(() => requireComplete(f)).toThrow(
      /incomplete:[\s\S]*text_encoder: looked for .*models_t5_umt5-xxl-enc-bf16\.pth/,
    );
  });

  it("resolves by name or path, and lists known names when it cannot", () => {
    const models = discoverModels([join(tmp.dir, "models")]);
    expect(resolveModel("Wan2.1-T2V-1.3B", models).root).toBe(wan);
    expect(resolveModel(wan, models).name).toBe("wan2.1-t2v-1.3b");
    expect(() => resolveModel("wan9", models)).toThrow(/no model named "wan9"\. Known: .*wan2\.1-t2v-1\.3b/);
    expect(() => resolveModel(join(tmp.dir, "models", "not-a-model"), models)).toThrow(/is not a model folder/);
  });
});
