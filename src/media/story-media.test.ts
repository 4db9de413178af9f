/**
 * The story media: the assembly (cuts, a cross-fade's blend, voices at their times, the
 * soundtrack ducked under them), espeak-ng speech, and the contact sheet. Real ffmpeg,
 * real espeak-ng; the checks measure pixels and audio.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/helpers/tmp.ts";
import { assembleVideo } from "./assemble.ts";
import { writeContactSheet } from "./contact-sheet.ts";
import { encodeMp4 } from "./encode-video.ts";
import type { RgbFrame } from "./frames.ts";
import { findEspeak, speak, voiceFor } from "./tts.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const hasFfmpeg = spawnSync("ffmpeg", ["-version"]).status === 0;
const hasEspeak = findEspeak() !== null;

const solid = (r: number, g: number, b: number, w = 32, h = 32): RgbFrame => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([r, g, b], i * 3);
  return { width: w, height: h, data };
};

function decodeFrames(path: string, w: number, h: number): Uint8Array[] {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 1 << 26,
  });
  const out: Uint8Array[] = [];
  for (let o = 0; o + w * h * 3 <= r.stdout.length; o += w * h * 3) out.push(r.stdout.subarray(o, o + w * h * 3));
  return out;
}

function decodeAudio(path: string): Float32Array {
  const r = spawnSync("ffmpeg", ["-v", "error", "-i", path, "-ac", "1", "-ar", "48000", "-f", "f32le", "-"], {
    maxBuffer: 1 << 26,
  });
  return new Float32Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength / 4);
}

/** Amplitude of one frequency in a window (Goertzel). */
function tone(x: Float32Array, hz: number, from: number, to: number, rate = 48000): number {
  const a = Math.floor(from * rate);
  const b = Math.floor(to * rate);
  const k = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (let i = a; i < b; i++) {
    const s = x[i]! + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (2 * Math.sqrt(s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2)) / (b - a);
}

const mean = (f: Uint8Array, c: number) => {
  let s = 0;
  for (let i = c; i < f.length; i += 3) s += f[i]!;
  return s / (f.length / 3);
};

describe.skipIf(!hasFfmpeg)("story assembly", () => {
  it("cuts, cross-fades with a blend, and ducks the soundtrack under a voice", async () => {
    const clip = async (name: string, f: RgbFrame) => {
      const path = join(tmp.dir, name);
      await encodeMp4(Array(16).fill(f), { out: path, width: 32, height: 32, fps: 16, crf: 1, preset: "ultrafast" });
      return path;
    };
    const red = await clip("red.mp4", solid(255, 0, 0));
    const blue = await clip("blue.mp4", solid(0, 0, 255));
    const green = await clip("green.mp4", solid(0, 255, 0));
    const music = join(tmp.dir, "music.wav");
    const voice = join(tmp.dir, "voice.wav");
    expect(spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=4", music]).status).toBe(0);
    expect(spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=f=1000:d=0.8", voice]).status).toBe(0);
    const out = join(tmp.dir, "film.mp4");
    const tl = await assembleVideo({
      out,
      width: 32,
      height: 32,
      fps: 16,
      crossfade: 0.5,
      clips: [
        { path: red, seconds: 1, transition: "cut" },
        { path: blue, seconds: 1, transition: "crossfade" },
        { path: green, seconds: 1, transition: "cut" },
      ],
      voices: [{ wav: voice, at: 1.2 }],
      soundtrack: music,
    });
    expect(tl.starts).toEqual([0, 0.5, 1.5]);
    expect(tl.seconds).toBe(2.5);

    const frames = decodeFrames(out, 32, 32);
    expect(Math.abs(frames.length - 40)).toBeLessThanOrEqual(1);
    const at = (t: number) => frames[Math.round(t * 16)]!;
    expect(mean(at(0.2), 0)).toBeGreaterThan(220); // red
    const mid = at(0.75); // halfway through the red -> blue cross-fade
    expect(mean(mid, 0)).toBeGreaterThan(60);
    expect(mean(mid, 0)).toBeLessThan(200);
    expect(mean(mid, 2)).toBeGreaterThan(60);
    expect(mean(mid, 2)).toBeLessThan(200);
    expect(mean(at(1.2), 2)).toBeGreaterThan(220); // blue
    expect(mean(at(1.6), 1)).toBeGreaterThan(200); // hard cut to green
    expect(mean(at(1.45), 1)).toBeLessThan(40);

    const audio = decodeAudio(out);
    expect(Math.abs(audio.length / 48000 - 2.5)).toBeLessThan(0.05);
    const musicAlone = tone(audio, 220, 0.3, 1.0);
    const musicUnderVoice = tone(audio, 220, 1.5, 1.9);
    expect(musicAlone).toBeGreaterThan(0.05);
    expect(musicUnderVoice).toBeLessThan(musicAlone * 0.5); // ducked
    expect(tone(audio, 1000, 1.4, 1.9)).toBeGreaterThan(0.1); // the voice, at its time
    expect(tone(audio, 1000, 0.3, 1.1)).toBeLessThan(0.01); // and not before
  });

  it("writes a contact sheet with one tile per shot", async () => {
    const path = join(tmp.dir, "sheet.png");
    await writeContactSheet(
      path,
      [0, 1, 2, 3, 4].map((i) => ({ frame: solid(40 * i, 100, 200, 64, 36), caption: [`${i + 1}. wide`, "a prompt"] })),
      { title: "A film", columns: 3 },
    );
    const m = await sharp(path).metadata();
    expect(m.format).toBe("png");
    expect(m.width).toBe(3 * 256 + 4 * 12);
    expect(m.height).toBe(36 + 2 * (144 + 40) + 3 * 12);
  });
});

describe.skipIf(!hasEspeak)("espeak-ng", () => {
  it("speaks English and Mandarin into WAV files of plausible length", () => {
    const e = findEspeak()!;
    expect(voiceFor("zh", e)).toBe("cmn");
    expect(voiceFor("en", e)).toBe("en");
    expect(() => voiceFor("xx-nope", e)).toThrow(/no voice for language "xx-nope"/);
    const en = speak("The fox sleeps by the fire.", "en", join(tmp.dir, "en.wav"));
    expect(en.seconds).toBeGreaterThan(0.8);
    expect(en.seconds).toBeLessThan(5);
    const zh = speak("狐狸睡着了", "zh", join(tmp.dir, "zh.wav"));
    expect(zh.seconds).toBeGreaterThan(0.5);
  });
});
