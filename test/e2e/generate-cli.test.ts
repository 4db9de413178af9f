/**
 * End to end: the real `reel generate` on a complete model folder assembled from the official
 * tiny fixtures (test/helpers/tiny-model.ts): text encoder → DiT sampling → streamed VAE
 * decode → MP4, checked with ffprobe; determinism; clear errors.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { missingFixtures } from "../helpers/fixtures.ts";
import { makeTinyWanFolder } from "../helpers/tiny-model.ts";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], { encoding: "utf8", timeout: 300_000 });
}

/** Decoded RGB frames of a video (ffmpeg to raw), hashed: the picture, independent of container bytes. */
function frameHash(path: string): string {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 1 << 28,
  });
  expect(r.status).toBe(0);
  return createHash("sha256").update(r.stdout).digest("hex");
}

const skip = missingFixtures(
  "dit-tiny.weights.safetensors",
  "t5-tiny.weights.safetensors",
  "vae-tiny.weights.safetensors",
);
const hasFfmpeg = spawnSync("ffprobe", ["-version"]).status === 0;

describe.skipIf(skip !== null || !hasFfmpeg)(
  skip ?? (hasFfmpeg ? "reel generate (CLI)" : "SKIPPED: no ffprobe"),
  () => {
    const model = makeTinyWanFolder(tmp.dir)!;

    it("makes an MP4 from a prompt, reports progress and settings, and is deterministic per seed", () => {
      const out = join(tmp.dir, "a.mp4");
      const previews = join(tmp.dir, "previews");
      const r = reel(
        "generate",
        "a red ball moves left over the grass",
        "--model",
        model,
        "--seed",
        "7",
        "-o",
        out,
        "--json",
        "--preview",
        previews,
      );
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(summary).toMatchObject({
        seed: 7,
        size: "32x32",
        frames: 5,
        fps: 8,
        steps: 3,
        sampler: "unipc",
        mode: "t2v",
      });
      expect(r.stderr).toMatch(/sampling 3\/3/);
      expect(r.stderr).toMatch(/decoding 2\/2/);
      expect(readdirSync(previews)).toEqual(["step-001.png", "step-002.png", "step-003.png"]);
      const probe = spawnSync("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-of", "json", out], {
        encoding: "utf8",
      });
      const v = (JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0]!;
      expect(v).toMatchObject({
        codec_name: "h264",
        pix_fmt: "yuv420p",
        width: 32,
        height: 32,
        nb_read_frames: "5",
        r_frame_rate: "8/1",
      });

      const again = join(tmp.dir, "b.mp4");
      expect(
        reel("generate", "a red ball moves left over the grass", "--model", model, "--seed", "7", "-o", again).status,
      ).toBe(0);
      expect(frameHash(again)).toBe(frameHash(out));
      const other = join(tmp.dir, "c.mp4");
      expect(
        reel("generate", "a red ball moves left over the grass", "--model", model, "--seed", "8", "-o", other).status,
      ).toBe(0);
      expect(frameHash(other)).not.toBe(frameHash(out));
    });

    it("explains sizes and frame counts the model cannot take, and writes nothing", () => {
      const out = join(tmp.dir, "bad.mp4");
      const r = reel("generate", "a ball", "--model", model, "--size", "30x32", "--frames", "6", "-o", out);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/multiples of 16 .*frames 6: must be 4n \+ 1/);
      expect(existsSync(out)).toBe(false);
    });

    it("names a missing model and a missing image", () => {
      const r = reel("generate", "a ball", "--model", "no-such-model", "-o", join(tmp.dir, "x.mp4"));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/E_MODEL_NOT_FOUND: no model named "no-such-model"/);
      const i = reel(
        "generate",
        "a ball",
        "--model",
        model,
        "--image",
        join(tmp.dir, "nope.png"),
        "-o",
        join(tmp.dir, "y.mp4"),
      );
      expect(i.stderr).toMatch(/E_MEDIA_INVALID: --image: .*nope\.png does not exist/);
    });

    it("keeps reading results byte-stable for the previews", () => {
      expect(
        readFileSync(join(tmp.dir, "previews", "step-003.png"))
          .subarray(1, 4)
          .toString(),
      ).toBe("PNG");
    });
  },
);
