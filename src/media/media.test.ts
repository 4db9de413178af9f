/**
 * MP4 output checked with ffprobe (Debian's ffmpeg package; installed by .ci/run), with both
 * the system ffmpeg and the npm-shipped static build; image input through sharp.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { encodeMp4 } from "./encode-video.ts";
import { findFfmpeg } from "./ffmpeg.ts";
import { frameToTensor, type RgbFrame, videoToFrames } from "./frames.ts";
import { readImage, writePng } from "./image-io.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);

const hasProbe = spawnSync("ffprobe", ["-version"]).status === 0;
if (!hasProbe && process.env.CI === "true") throw new Error("CI=true but ffprobe is missing (apt install ffmpeg)");

function probe(path: string): { streams: Record<string, string | number>[]; format: Record<string, string> } {
  const r = spawnSync(
    "ffprobe",
    ["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path],
    {
      encoding: "utf8",
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function gradientFrames(n: number, w: number, h: number): RgbFrame[] {
  return Array.from({ length: n }, (_, t) => {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        data[i] = (x * 2 + t * 8) & 255;
        data[i + 1] = (y * 2) & 255;
        data[i + 2] = 128;
      }
    return { width: w, height: h, data };
  });
}

describe("media", () => {
  it("finds an ffmpeg and says which", () => {
    const f = findFfmpeg();
    expect(["system", "npm", "REEL_FFMPEG"]).toContain(f.source);
    expect(f.version.length).toBeGreaterThan(0);
  });

  const npmFfmpeg = (createRequire(import.meta.url)("@ffmpeg-installer/ffmpeg") as { path: string }).path;
  for (const [label, bin] of [
    ["the found ffmpeg", undefined],
    ["the npm ffmpeg", npmFfmpeg],
  ] as const) {
    it.skipIf(!hasProbe)(
      hasProbe ? `writes a browser-ready MP4 with AAC audio using ${label}` : "SKIPPED: no ffprobe",
      async () => {
        const out = join(tmp.dir, `${label.replace(/ /g, "_")}.mp4`);
        const sampleRate = 44100;
        const samples = new Int16Array(sampleRate * 2); // ~1.06 s of 440 Hz, mono... 2 s buffer, trimmed by -shortest
        for (let i = 0; i < samples.length; i++)
          samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
        const prev = process.env.REEL_FFMPEG;
        if (bin) process.env.REEL_FFMPEG = bin;
        try {
          await encodeMp4(gradientFrames(17, 128, 96), {
            out,
            width: 128,
            height: 96,
            fps: 16,
            audio: { samples, sampleRate, channels: 1 },
          });
        } finally {
          if (bin) {
            if (prev === undefined) delete process.env.REEL_FFMPEG;
            else process.env.REEL_FFMPEG = prev;
          }
        }
        const p = probe(out);
        const v = p.streams.find((s) => s.codec_type === "video")!;
        const a = p.streams.find((s) => s.codec_type === "audio")!;
        expect(v).toMatchObject({
          codec_name: "h264",
          pix_fmt: "yuv420p",
          width: 128,
          height: 96,
          r_frame_rate: "16/1",
          nb_read_frames: "17",
        });
        expect(a).toMatchObject({ codec_name: "aac" });
        expect(p.format.format_name).toMatch(/mp4/);
      },
    );
  }

  it.skipIf(!hasProbe)(hasProbe ? "pads odd sizes to even for yuv420p" : "SKIPPED: no ffprobe", async () => {
    const out = join(tmp.dir, "odd.mp4");
    await encodeMp4(gradientFrames(3, 33, 21), { out, width: 33, height: 21, fps: 8 });
    const v = probe(out).streams[0]!;
    expect([v.width, v.height, v.nb_read_frames]).toEqual([34, 22, "3"]);
  });

  it("rejects frames of the wrong size with a clear error", async () => {
    await expect(
      encodeMp4(gradientFrames(2, 16, 16), { out: join(tmp.dir, "bad.mp4"), width: 32, height: 16, fps: 8 }),
    ).rejects.toThrow(/frame 0 is 16x16/);
  });

  it("reads PNG, JPEG and WebP as RGB and refuses other files", async () => {
    const f = gradientFrames(1, 20, 10)[0]!;
    await writePng(join(tmp.dir, "a.png"), f);
    const png = await readImage(join(tmp.dir, "a.png"));
    expect(Buffer.from(png.data).equals(Buffer.from(f.data))).toBe(true);
    for (const fmt of ["jpeg", "webp"] as const) {
      const p = join(tmp.dir, `a.${fmt}`);
      await sharp(f.data, { raw: { width: 20, height: 10, channels: 3 } })
        [fmt]({ quality: 100 })
        .toFile(p);
      const img = await readImage(p);
      expect([img.width, img.height]).toEqual([20, 10]);
    }
    writeFileSync(join(tmp.dir, "not.png"), "hello");
    await expect(readImage(join(tmp.dir, "not.png"), "--image")).rejects.toThrow(/--image: cannot read .*not\.png/);
    await expect(readImage(join(tmp.dir, "missing.png"), "--image")).rejects.toThrow(/does not exist/);
  });

  it("maps [−1, 1] video tensors to frames and back", () => {
    const video = new Float32Array([-1, 0, 1, 2, /* G */ 0, 0, 0, 0, /* B */ 1, 1, -3, 1]); // [3, 1, 2, 2]
    const [f] = videoToFrames(video, [3, 1, 2, 2]);
    expect([...f!.data.slice(0, 3)]).toEqual([0, 127, 255]); // truncation, as the official uint8 cast
    expect(f!.data[9]).toBe(255); // clamped
    const back = frameToTensor(f!);
    expect(back[0]).toBe(-1);
    expect(back[3]).toBe(1);
  });
});
