import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { inspectComfyRoot } from "./comfyui.ts";
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

describe("ComfyUI split files", () => {
  const install = join(tmp.dir, "ComfyUI");
  const root = join(install, "models");
  touch(root, "diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors");
  touch(root, "diffusion_models", "wan2.2_ti2v_5B_fp16.safetensors");
  touch(root, "diffusion_models", "flux1-dev.safetensors"); // not a Wan model
  touch(root, "text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors");
  touch(root, "vae", "wan_2.1_vae.safetensors");
  touch(root, "clip_vision", "clip_vision_h.safetensors");
  const hub = join(tmp.dir, "comfy-hub");
  const env = { HF_HUB_CACHE: hub };

  it("lists one model per Wan file in diffusion_models/, sharing the text encoder and picking the VAE by version", () => {
    const found = discoverModels([install]);
    expect(found.map((m) => [m.name, m.layout])).toEqual([
      ["wan2.1_t2v_1.3b_fp16", "comfyui"],
      ["wan2.2_ti2v_5b_fp16", "comfyui"],
    ]);
    const [t2v, ti2v] = inspectComfyRoot(root, env);
    expect(t2v!.components).toMatchObject({
      dit: join(root, "diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors"),
      text_encoder: join(root, "text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors"),
      vae: join(root, "vae", "wan_2.1_vae.safetensors"),
    });
    expect(ti2v!.missing.map((m) => m.component)).toEqual(["vae", "tokenizer"]);
    expect(ti2v!.missing[0]!.lookedFor).toEqual([join(root, "vae", "wan2.2_vae.safetensors")]);
  });

  it("says where to put the tokenizer ComfyUI does not ship, and finds it next to the encoder or in the HF cache", () => {
    const [t2v] = inspectComfyRoot(root, env);
    expect(() => requireComplete(t2v!)).toThrow(
      new RegExp(
        `tokenizer: looked for ${join(root, "text_encoders", "google", "umt5-xxl", "tokenizer.json")} or .*spiece\\.model[\\s\\S]*ComfyUI does not ship the umT5 tokenizer: put google/umt5-xxl's tokenizer\\.json \\(or spiece\\.model\\) in ${join(root, "text_encoders", "google", "umt5-xxl")}/`,
      ),
    );
    const snap = join(hub, "models--google--umt5-xxl", "snapshots", "rev1");
    touch(snap, "spiece.model");
    expect(inspectComfyRoot(root, env)[0]!.components.tokenizer).toBe(snap);
    touch(root, "text_encoders", "google", "umt5-xxl", "tokenizer.json");
    expect(inspectComfyRoot(root, env)[0]!.components.tokenizer).toBe(
      join(root, "text_encoders", "google", "umt5-xxl"),
    );
    expect(inspectComfyRoot(root, env)[0]!.missing).toEqual([]);
  });

  it("resolves a DiT file path and refuses an ambiguous root", () => {
    const file = join(root, "diffusion_models", "wan2.1_t2v_1.3B_fp16.safetensors");
    expect(resolveModel(file).layout).toBe("comfyui");
    expect(() => resolveModel(install)).toThrow(/holds 2 Wan models; name one: wan2\.1_t2v_1\.3B_fp16\.safetensors/);
    touch(tmp.dir, "loose", "model.safetensors");
    expect(() => resolveModel(join(tmp.dir, "loose", "model.safetensors"))).toThrow(/is a file: give a model folder/);
  });
});
