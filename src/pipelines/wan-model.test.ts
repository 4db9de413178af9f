/**
 * Two-expert folders of reel's own (high_noise_model/ + low_noise_model/, as Wan 2.2 A14B):
 * reel.json's `experts.boundary` says where the low-noise expert takes over, and the defaults'
 * guidance may be one scale per expert. Built from the embedded model's files, so it always runs.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { ortRuntime } from "../engine/runtime-ort.ts";
import { inspectFolder } from "../models/discovery.ts";
import { generate } from "./generate.ts";
import { openWanBundle } from "./wan-model.ts";

const TOY = resolve(import.meta.dirname, "../../models/reel-toy");
const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** The embedded model with its DiT as both experts; reel.json changed by `edit`. */
function twoExperts(name: string, edit: (reel: Record<string, unknown>) => void): string {
  const root = join(tmp.dir, name);
  mkdirSync(root);
  for (const f of ["Wan2.1_VAE.safetensors", "models_t5_reel-toy-enc-fp16.safetensors"])
    copyFileSync(join(TOY, f), join(root, f));
  cpSync(join(TOY, "tokenizer"), join(root, "tokenizer"), { recursive: true });
  for (const expert of ["high_noise_model", "low_noise_model"]) {
    mkdirSync(join(root, expert));
    for (const f of ["diffusion_pytorch_model.safetensors", "config.json"])
      copyFileSync(join(TOY, f), join(root, expert, f));
  }
  const reel = JSON.parse(readFileSync(join(TOY, "reel.json"), "utf8")) as Record<string, unknown>;
  reel.name = name;
  edit(reel);
  writeFileSync(join(root, "reel.json"), JSON.stringify(reel));
  return root;
}

const open = (root: string) => openWanBundle(inspectFolder(root)!, { runtime: ortRuntime, device: "cpu" });

describe("reel's own two-expert models", () => {
  it("switch experts at reel.json's boundary, with one guidance scale per expert", () => {
    const b = open(
      twoExperts("toy-moe", (r) => {
        r.experts = { boundary: 0.5 };
        r.defaults = { ...(r.defaults as object), guidance: { low: 2, high: 6 } };
      }),
    );
    expect(b.folder.experts).toBeDefined();
    expect(b.kind).toBeNull(); // not an A14B release
    expect(b.ditFor(500)).toBe(b.ditFor(999));
    expect(b.ditFor(499)).toBe(b.ditFor(0));
    expect(b.ditFor(499)).not.toBe(b.ditFor(500));
    expect(b.guidanceFor(500, undefined)).toBe(6);
    expect(b.guidanceFor(499, undefined)).toBe(2);
    expect(b.guidanceFor(499, 3.5)).toBe(3.5); // the request's scale wins
  });

  it("sample what the one-DiT model samples when both experts are its DiT", async () => {
    const input = { prompt: "a red ball moves to the right over green grass", seed: 3, steps: 4, frames: 5 };
    const latent = async (root: string) =>
      Buffer.from((await generate(open(root), input, { onFrames: () => {} })).latent.data.buffer as ArrayBuffer);
    const moe = twoExperts("toy-same", (r) => {
      r.experts = { boundary: 0.875 };
    });
    expect((await latent(moe)).equals(await latent(TOY))).toBe(true);
  });

  it("refuse a boundary outside (0, 1) and say what is allowed", () => {
    const root = twoExperts("toy-bad", (r) => {
      r.experts = { boundary: 875 };
    });
    expect(() => open(root)).toThrow(expect.objectContaining({ code: "E_CONFIG_INVALID" }));
    expect(() => open(root)).toThrow(/boundary: a noise level in \(0, 1\)/);
  });
});
