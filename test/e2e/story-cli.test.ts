/**
 * `reel story` through the real CLI with the embedded model: a three-shot story (planned,
 * edited, rendered) with narration, dialogue and a soundtrack to one MP4 (video + audio, the
 * planned length), its sidecars,
 * a `render --only 2` that takes shots 1 and 3 from the cache, and the espeak-ng rules.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

function reel(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], {
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, ...env },
  });
}

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; r_frame_rate?: string }[];
  format: { duration: string };
}
const probe = (p: string) =>
  JSON.parse(
    spawnSync("ffprobe", ["-v", "error", "-show_streams", "-show_format", "-of", "json", p], { encoding: "utf8" })
      .stdout,
  ) as Probe;

function frameAt(path: string, t: number): Buffer {
  const r = spawnSync(
    "ffmpeg",
    ["-v", "error", "-ss", String(t), "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    { maxBuffer: 1 << 24 },
  );
  expect(r.stdout.length).toBe(128 * 128 * 3);
  return r.stdout;
}

const hasTools = spawnSync("ffprobe", ["-version"]).status === 0 && spawnSync("espeak-ng", ["--version"]).status === 0;
if (!hasTools && process.env.CI === "true") throw new Error("CI=true but ffprobe or espeak-ng is missing");

const PROMPTS = [
  "a red ball bounces to the right over green grass",
  "it rolls to the left",
  "later a blue square slides down over a sand background",
];

describe.skipIf(!hasTools)(hasTools ? "reel story (embedded model)" : "SKIPPED: no ffprobe or espeak-ng", () => {
  const out = join(tmp.dir, "film.mp4");
  const music = join(tmp.dir, "music.wav");
  interface Summary {
    rendered: number[];
    cached: number[];
    seconds: number;
    plan: string;
  }

  it("renders a three-shot story to one MP4 with sound, subtitles, plan, storyboard and cache", () => {
    expect(spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=1.5", music]).status).toBe(0);
    // plan, then edit the plan as a person would: voice lines short enough for 17-frame shots
    const storyFile = join(tmp.dir, "film.story.json");
    const planned = reel(["story", "plan", ...PROMPTS, "--seed", "3", "-o", storyFile]);
    expect(planned.status, planned.stderr).toBe(0);
    const story = JSON.parse(readFileSync(storyFile, "utf8")) as { shots: Record<string, unknown>[] };
    story.shots[0]!.narration = { text: "Morning.", language: "en" };
    story.shots[1]!.dialogue = { character: "ball", text: "Wheee!", language: "en" };
    story.shots[2]!.narration = { text: "晚上。", language: "cmn" };
    writeFileSync(storyFile, JSON.stringify(story));

    const r = reel(["story", storyFile, "-o", out, "--soundtrack", music, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("warning");
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.rendered).toEqual([1, 2, 3]);
    expect(s.cached).toEqual([]);
    expect(r.stderr).toMatch(/shot 1\/3: rendering[\s\S]*shot 3\/3: rendered in/);

    const p = probe(out);
    const video = p.streams.find((x) => x.codec_type === "video");
    const audio = p.streams.find((x) => x.codec_type === "audio");
    expect(video).toMatchObject({ codec_name: "h264", width: 128, height: 128, r_frame_rate: "16/1" });
    expect(audio).toMatchObject({ codec_name: "aac" });
    // 3 clips of 17 frames at 16 fps, the third cross-fading in over 0.25 s; the last frame is
    // held while the last line (Mandarin, about 1.2 s from 2.275 s) finishes, plus 0.3 s
    const cut = (3 * 17) / 16 - 0.25;
    expect(s.seconds).toBeGreaterThan(cut + 0.3);
    expect(s.seconds).toBeLessThan(cut + 1.5);
    expect(Math.abs(Number(p.format.duration) - s.seconds)).toBeLessThanOrEqual(1 / 16 + 0.02);

    const plan = JSON.parse(readFileSync(join(tmp.dir, "film.plan.json"), "utf8")) as {
      seed: number;
      shots: { size: string; transition: string; continuity: string }[];
      resolved: {
        seconds: number;
        held_end: number;
        shots: { key: string; start: number; seed: number; prompt_sent: string }[];
      };
    };
    expect(plan.seed).toBe(3);
    expect(plan.resolved.seconds).toBe(s.seconds);
    expect(plan.resolved.held_end).toBeCloseTo(s.seconds - cut, 2);
    expect(plan.shots.map((x) => [x.size, x.transition, x.continuity])).toEqual([
      ["wide", "cut", "cut"],
      ["medium", "cut", "continue"],
      ["close", "crossfade", "cut"],
    ]);
    // the toy model takes no image: a continuing shot shares the previous shot's seed
    expect(plan.resolved.shots[1]!.seed).toBe(plan.resolved.shots[0]!.seed);
    expect(plan.resolved.shots[1]).toMatchObject({ continued_by: "shared-seed", conditioning: { kind: "none" } });
    expect(plan.resolved.shots.map((x) => x.start)).toEqual([0, 1.063, 1.875]);
    expect(plan.resolved.shots[0]!.prompt_sent).toContain("ball: a red ball");

    const vtt = readFileSync(join(tmp.dir, "film.vtt"), "utf8");
    expect(vtt.startsWith("WEBVTT\n")).toBe(true);
    expect(vtt).toContain("00:00:00.150 --> ");
    expect(vtt).toContain("ball: Wheee!");
    expect(vtt).toContain("晚上。");
    expect(readFileSync(join(tmp.dir, "film.srt"), "utf8")).toMatch(/^1\n00:00:00,150 --> /);
    expect(statSync(join(tmp.dir, "film.storyboard.png")).size).toBeGreaterThan(1000);
    for (const sh of plan.resolved.shots) expect(existsSync(join(tmp.dir, "film.shots", `${sh.key}.mp4`))).toBe(true);
  });

  it("re-renders only shot 2 and takes the others from the cache (subtitles burned in this time)", () => {
    const before = JSON.parse(readFileSync(join(tmp.dir, "film.plan.json"), "utf8")) as {
      resolved: { shots: { key: string }[] };
    };
    const plain = frameAt(out, 0.5); // shot 1, during "Morning."
    const r = reel([
      "story",
      "render",
      join(tmp.dir, "film.plan.json"),
      "--only",
      "2",
      "--burn-subtitles",
      "-o",
      out,
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.rendered).toEqual([2]);
    expect(s.cached).toEqual([1, 3]);
    expect(r.stderr).toMatch(/shot 1\/3: from cache[\s\S]*shot 2\/3: rendered in[\s\S]*shot 3\/3: from cache/);
    const after = JSON.parse(readFileSync(join(tmp.dir, "film.plan.json"), "utf8")) as typeof before;
    expect(after.resolved.shots.map((x) => x.key)).toEqual(before.resolved.shots.map((x) => x.key));
    expect(
      probe(out)
        .streams.map((x) => x.codec_type)
        .sort(),
    ).toEqual(["audio", "video"]);
    // the same (cached) shot 1 frame, now with the subtitle drawn over its lower part
    const burned = frameAt(out, 0.5);
    // count strongly changed pixels per half: text is high-contrast, re-encoding noise is not
    const changed = (from: number, to: number) => {
      let n = 0;
      for (let i = from * 128 * 3; i < to * 128 * 3; i++) if (Math.abs(burned[i]! - plain[i]!) > 60) n++;
      return n;
    };
    expect(changed(0, 64)).toBeLessThan(20);
    expect(changed(64, 128)).toBeGreaterThan(100);
  });

  const npmFfmpeg = join(ROOT, "node_modules/@ffmpeg-installer/linux-x64/ffmpeg");
  it.skipIf(!existsSync(npmFfmpeg))("names the ffmpeg too old to assemble a story", () => {
    const r = reel(["story", "render", join(tmp.dir, "film.plan.json"), "-o", join(tmp.dir, "old.mp4")], {
      REEL_FFMPEG: npmFfmpeg,
    });
    if (spawnSync(npmFfmpeg, ["-hide_banner", "-filters"], { encoding: "utf8" }).stdout.includes(" xfade ")) {
      expect(r.status, r.stderr).toBe(0); // a newer npm build assembles
      return;
    }
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_FFMPEG: assembling a story needs ffmpeg 4\.4 or newer/);
    expect(r.stderr).not.toContain("shot 1/3"); // refused before rendering anything
  });

  it("writes an editable YAML plan", () => {
    const plan = join(tmp.dir, "plan.yaml");
    const p = reel(["story", "plan", ...PROMPTS, "--seed", "3", "--narrate", "en", "-o", plan]);
    expect(p.status, p.stderr).toBe(0);
    const text = readFileSync(plan, "utf8");
    expect(text).toMatch(/^version: 1\ntitle: /);
    expect(text).toContain("narration:");
    expect(text).toContain("continuity: continue");
  });

  it("refuses narration without espeak-ng before rendering, and warns when there is none", () => {
    const noTts = { REEL_ESPEAK: join(tmp.dir, "no-espeak-here") };
    const r = reel(["story", "render", join(tmp.dir, "film.plan.json"), "-o", join(tmp.dir, "x.mp4")], noTts);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("E_TTS_UNAVAILABLE");
    expect(r.stderr).toContain("espeak-ng");
    expect(r.stderr).not.toContain("shot 1/3");

    // straight from the prompts, no narration (same prompts and seed: the same shots, all from the cache)
    const quiet = join(tmp.dir, "quiet.mp4");
    const q = reel(
      ["story", ...PROMPTS, "--seed", "3", "-o", quiet, "--cache", join(tmp.dir, "film.shots"), "--json"],
      noTts,
    );
    expect(q.status, q.stderr).toBe(0);
    expect(q.stderr).toContain("warning: espeak-ng is not installed");
    expect((JSON.parse(q.stdout) as Summary).cached).toEqual([1, 2, 3]);
    expect(
      probe(quiet)
        .streams.map((x) => x.codec_type)
        .sort(),
    ).toEqual(["audio", "video"]);
  });
});
