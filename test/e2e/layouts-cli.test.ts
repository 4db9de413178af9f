/**
 * End to end over the on-disk layouts: tiny random Wan models written as an official Wan-AI
 * folder, a diffusers pipeline folder and ComfyUI split files (test/helpers/tiny-layouts.ts),
 * each run through the real `reel generate` to an MP4 checked with ffprobe: text-to-video,
 * image-to-video with the CLIP branch, first-last-frame, and Wan 2.2 TI2V. Also: the same seed
 * gives the same frames; a layout's tensors load identically (same frames across layouts);
 * partial folders name the missing file and where it was looked for.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writePng } from "../../src/media/image-io.ts";
import { missingFixtures } from "../helpers/fixtures.ts";
import { makeTinyLayout, TINY_LAYOUT_FIXTURES } from "../helpers/tiny-layouts.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);
const hub = join(tmp.dir, "hf-hub");
/** The HF cache the CLI sees (the partial-folder test points it at an empty one). */
let cliHub = hub;
/** REEL_MODELS for the CLI (empty: models are passed by path). */
let cliModels = "";
const cache = join(tmp.dir, "cache");

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, HF_HUB_CACHE: cliHub, REEL_CACHE_DIR: cache, REEL_MODELS: cliModels },
  });
}

function frameHash(path: string): string {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 1 << 28,
  });
  expect(r.status).toBe(0);
  return createHash("sha256").update(r.stdout).digest("hex");
}

function probe(path: string): Record<string, unknown> {
  const p = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-of", "json", path], {
    encoding: "utf8",
  });
  expect(p.status, p.stderr).toBe(0);
  return (JSON.parse(p.stdout) as { streams: Record<string, unknown>[] }).streams[0]!;
}

/** A 48×40 test picture (gradient + a block), so image-conditioned runs have real input. */
async function picture(path: string, shift: number): Promise<string> {
  const w = 48;
  const h = 40;
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const block = x > 10 + shift && x < 24 + shift && y > 8 && y < 22;
      px[i] = block ? 230 : (x * 5) & 255;
      px[i + 1] = block ? 40 : (y * 6) & 255;
      px[i + 2] = 90;
    }
  await writePng(path, { width: w, height: h, data: px });
  return path;
}

const skip = missingFixtures(...TINY_LAYOUT_FIXTURES);
const hasFfmpeg = spawnSync("ffprobe", ["-version"]).status === 0;

describe.skipIf(skip !== null || !hasFfmpeg)(
  skip ?? (hasFfmpeg ? "reel generate over official, diffusers and ComfyUI layouts" : "SKIPPED: no ffprobe"),
  () => {
    const first = join(tmp.dir, "first.png");
    const last = join(tmp.dir, "last.png");
    beforeAll(async () => {
      await picture(first, 0);
      await picture(last, 14);
    });
    const gen = (model: string, out: string, ...extra: string[]) =>
      reel(
        "generate",
        "a red ball moves left over the grass",
        "--model",
        model,
        ...(extra.includes("--size") ? [] : ["--size", "32x32"]),
        "--frames",
        "5",
        "--steps",
        "2",
        "--fps",
        "8",
        "--seed",
        "5",
        "--json",
        "-o",
        out,
        ...extra,
      );
    const ok = (r: ReturnType<typeof reel>, out: string, mode: string, width = 32, height = 32) => {
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ mode, frames: 5, fps: 8, steps: 2, size: `${width}x${height}` });
      expect(probe(out)).toMatchObject({
        codec_name: "h264",
        pix_fmt: "yuv420p",
        width,
        height,
        nb_read_frames: "5",
        r_frame_rate: "8/1",
      });
      return frameHash(out);
    };

    it("text-to-video: the same model in all three layouts gives the same frames, and the same seed twice", () => {
      const off = makeTinyLayout(tmp.dir, "official", "t2v");
      const dif = makeTinyLayout(tmp.dir, "diffusers", "t2v", { tokenizer: "spiece" });
      const cui = makeTinyLayout(tmp.dir, "comfyui", "t2v", { tokenizer: "spiece", hfHub: hub });
      const hashes = [off, dif, cui].map((m, i) =>
        ok(gen(m.model, join(tmp.dir, `t2v-${i}.mp4`)), join(tmp.dir, `t2v-${i}.mp4`), "t2v"),
      );
      expect(hashes[1]).toBe(hashes[0]);
      expect(hashes[2]).toBe(hashes[0]);
      // same seed again, this time by name with the ComfyUI root on REEL_MODELS
      const again = join(tmp.dir, "t2v-again.mp4");
      cliModels = cui.root;
      expect(ok(gen("wan2.1_t2v_tiny_fp32", again), again, "t2v")).toBe(hashes[2]);
      cliModels = "";
      // `reel models` lists the ComfyUI model when its root is on REEL_MODELS
      const list = spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), "models"], {
        encoding: "utf8",
        env: { ...process.env, HF_HUB_CACHE: hub, REEL_MODELS: cui.root },
      });
      expect(list.stdout).toMatch(/wan2\.1_t2v_tiny_fp32\s+comfyui/);
      expect(list.stdout).toContain(`ready\n  ${cui.model}\n`);
    });

    it("image-to-video with the CLIP branch, in all three layouts (same frames)", () => {
      const hashes = (["official", "diffusers", "comfyui"] as const).map((layout) => {
        // ComfyUI here: the tokenizer embedded in the text encoder file (spiece_model tensor)
        const m = makeTinyLayout(tmp.dir, layout, "i2v", layout === "comfyui" ? { tokenizer: "embedded" } : {});
        const out = join(tmp.dir, `i2v-${layout}.mp4`);
        return ok(gen(m.model, out, "--image", first), out, "i2v");
      });
      expect(hashes[1]).toBe(hashes[0]);
      expect(hashes[2]).toBe(hashes[0]);
    });

    it("first-last-frame (diffusers) and Wan 2.2 TI2V (ComfyUI), deterministic per seed", () => {
      const flf = makeTinyLayout(tmp.dir, "diffusers", "flf2v");
      const a = join(tmp.dir, "flf-a.mp4");
      const b = join(tmp.dir, "flf-b.mp4");
      const ha = ok(gen(flf.model, a, "--image", first, "--last-image", last), a, "flf2v");
      expect(ok(gen(flf.model, b, "--image", first, "--last-image", last), b, "flf2v")).toBe(ha);
      const ti = makeTinyLayout(tmp.dir, "comfyui", "ti2v");
      const t1 = join(tmp.dir, "ti2v-1.mp4");
      const t2 = join(tmp.dir, "ti2v-2.mp4");
      // TI2V: --size names an area; the 48×40 picture gets best_output_size's 64×32 (official rule)
      const h1 = ok(gen(ti.model, t1, "--image", first, "--size", "64x32"), t1, "i2v", 64, 32);
      expect(ok(gen(ti.model, t2, "--image", first, "--size", "64x32"), t2, "i2v", 64, 32)).toBe(h1);
    });

    it("a partial folder names the missing file and where it was looked for, and writes nothing", () => {
      const dif = makeTinyLayout(tmp.dir, "diffusers", "t2v", { name: "partial-diffusers" });
      rmSync(join(dif.root, "vae"), { recursive: true });
      const out = join(tmp.dir, "partial.mp4");
      let r = gen(dif.model, out);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`vae: looked for ${join(dif.root, "vae/")}`);
      const cui = makeTinyLayout(tmp.dir, "comfyui", "t2v", { name: "partial-comfy", tokenizer: "none" });
      cliHub = join(tmp.dir, "empty-hub");
      r = gen(cui.model, out);
      cliHub = hub;
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/tokenizer: looked for .*text_encoders\/google\/umt5-xxl\/tokenizer\.json/);
      expect(r.stderr).toMatch(/ComfyUI does not ship the umT5 tokenizer: put google\/umt5-xxl's tokenizer\.json/);
      const off = makeTinyLayout(tmp.dir, "official", "i2v", { name: "partial-official" });
      rmSync(join(off.root, "Wan2.1_VAE.safetensors"));
      r = gen(off.model, out, "--image", first);
      expect(r.stderr).toContain(`vae: looked for ${join(off.root, "Wan2.1_VAE.pth")}`);
      expect(spawnSync("test", ["-e", out]).status).toBe(1);
    });
  },
);
