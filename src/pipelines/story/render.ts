/**
 * Renders a story: every shot through the generation pipeline (or from the shot cache), the
 * voices through espeak-ng, then one assembled MP4 with its sidecars:
 *
 *   out.mp4              the film (common size and fps, cuts and cross-fades, voices, soundtrack)
 *   out.plan.json        the resolved plan: the story plus seeds, prompts sent, times, cache keys
 *   out.storyboard.png   a contact sheet, one tile per shot
 *   out.vtt, out.srt     subtitles of the narration and dialogue
 *   out.shots/           the shot cache (reused by the next render of the same or an edited plan)
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ReelError } from "../../errors.ts";
import { assembleVideo, requireAssemblyFfmpeg, timeline } from "../../media/assemble.ts";
import { writeContactSheet } from "../../media/contact-sheet.ts";
import { encodeMp4 } from "../../media/encode-video.ts";
import type { RgbFrame } from "../../media/frames.ts";
import { readImage, writePng } from "../../media/image-io.ts";
import { type Cue, toSrt, toWebVtt } from "../../media/subtitles.ts";
import { findEspeak, requireEspeak, speak, voiceFor, wavSeconds } from "../../media/tts.ts";
import { generate } from "../generate.ts";
import { randomSeed } from "../noise.ts";
import type { Progress } from "../progress.ts";
import { throwIfAborted } from "../progress.ts";
import type { WanBundle } from "../wan-model.ts";
import { composePrompt } from "./planner.ts";
import type { Story } from "./schema.ts";
import { type Conditioning, fileSha256, ShotCache, type ShotMeta, type ShotSettings, shotKey } from "./shot-cache.ts";

export interface ShotEvent {
  /** 1-based. */
  readonly shot: number;
  readonly total: number;
  readonly status: "cached" | "rendering" | "rendered";
  readonly key: string;
  readonly ms?: number;
}

export interface RenderStoryOptions {
  readonly bundle: WanBundle;
  readonly out: string;
  /** Relative paths in the story (reference images, soundtrack) resolve against this folder. */
  readonly baseDir: string;
  /** Default: `<out without .mp4>.shots/`. */
  readonly cacheDir?: string;
  /** 1-based shot numbers to render even when cached; every other shot comes from the cache when it is there. */
  readonly only?: readonly number[];
  readonly precision?: "f32" | "int8";
  readonly burnSubtitles?: boolean;
  readonly signal?: AbortSignal;
  readonly onShot?: (e: ShotEvent) => void;
  readonly onProgress?: (shot: number, p: Progress) => void;
  readonly warn?: (message: string) => void;
}

export interface RenderStoryResult {
  readonly out: string;
  readonly plan: string;
  readonly storyboard: string;
  readonly vtt: string;
  readonly srt: string;
  readonly cacheDir: string;
  readonly seconds: number;
  readonly rendered: number[];
  readonly cached: number[];
  readonly timingsMs: {
    readonly shots: number;
    readonly voices: number;
    readonly assemble: number;
    readonly total: number;
  };
}

/** Frames for `seconds` on the model's grid (frameStep·k + 1), at least one step. */
export function framesFor(seconds: number, fps: number, step: number): number {
  const k = Math.max(1, Math.round((seconds * fps - 1) / step));
  return k * step + 1;
}

/** A per-shot seed derived from the story seed (stable under edits to other shots). */
export function shotSeed(storySeed: number, index: number): number {
  return (storySeed + Math.imul(index, 0x9e3779b1)) >>> 0;
}

export async function renderStory(story: Story, o: RenderStoryOptions): Promise<RenderStoryResult> {
  const t0 = performance.now();
  const b = o.bundle;
  const d = b.defaults;
  const stem = o.out.replace(/\.mp4$/i, "");
  const cache = new ShotCache(o.cacheDir ?? `${stem}.shots`);
  mkdirSync(cache.dir, { recursive: true });
  mkdirSync(dirname(o.out), { recursive: true });
  const at = (p: string) => (isAbsolute(p) ? p : resolve(o.baseDir, p));
  const n = story.shots.length;
  for (const k of o.only ?? [])
    if (!Number.isInteger(k) || k < 1 || k > n)
      throw new ReelError("E_INPUT_INVALID", `--only ${k}: the story has shots 1 to ${n}`);

  // tools are checked before any slow work: fail early when ffmpeg or espeak-ng cannot do the job
  requireAssemblyFfmpeg(
    (o.burnSubtitles ?? story.burn_subtitles) && story.shots.some((s) => s.narration || s.dialogue),
  );
  const spoken = story.shots.some((s) => s.narration || s.dialogue);
  if (spoken) {
    const e = requireEspeak("this story's narration or dialogue");
    for (const s of story.shots) {
      const line = s.dialogue ?? s.narration;
      if (line) voiceFor(line.language, e);
    }
  } else if (!findEspeak())
    o.warn?.("espeak-ng is not installed; the story has no narration, so its sound track is silent");
  if (story.soundtrack && !existsSync(at(story.soundtrack)))
    throw new ReelError("E_INPUT_INVALID", `soundtrack ${story.soundtrack} does not exist`);
  for (const c of story.characters)
    if (c.image && !existsSync(at(c.image)))
      throw new ReelError("E_INPUT_INVALID", `character ${c.name}: image ${c.image} does not exist`);

  // 1. resolve settings, seeds, conditioning and keys
  const [defW, defH] = d.sizes[0]!;
  const width = story.width ?? defW;
  const height = story.height ?? defH;
  const fps = story.fps ?? d.fps;
  const storySeed = story.seed ?? randomSeed();
  const takesImage = b.rules.supportsImage;
  const base = {
    width,
    height,
    fps,
    steps: story.steps ?? d.steps,
    shift: d.shift,
    sampler: d.sampler,
    guidance: typeof d.guidance === "number" ? d.guidance : null,
    negativePrompt: d.negativePrompt,
    precision: o.precision ?? "f32",
  };
  interface Planned {
    readonly key: string;
    readonly settings: ShotSettings;
    readonly seed: number;
    readonly prompt: string;
    readonly conditioning: Conditioning;
  }
  const planned: Planned[] = [];
  story.shots.forEach((shot, i) => {
    const prev = planned[i - 1];
    const settings: ShotSettings = { ...base, frames: framesFor(shot.duration, fps, b.rules.frameStep) };
    let seed = shot.seed ?? shotSeed(storySeed, i);
    let conditioning: Conditioning = { kind: "none" };
    if (shot.continuity === "continue" && prev) {
      if (takesImage) conditioning = { kind: "previous-last-frame", previousKey: prev.key };
      else if (shot.seed === undefined) seed = prev.seed; // no image input: share the seed
    } else if (takesImage) {
      const ref = shot.characters
        .map((nm) => story.characters.find((c) => c.name.toLowerCase() === nm.toLowerCase()))
        .find((c) => c?.image);
      if (ref?.image)
        conditioning = { kind: "reference-image", path: at(ref.image), sha256: fileSha256(at(ref.image)) };
    }
    const prompt = composePrompt(story, shot);
    planned.push({ key: shotKey(b, settings, seed, prompt, conditioning), settings, seed, prompt, conditioning });
  });

  // 2. shots
  const tShots = performance.now();
  const force = new Set(o.only ?? []);
  const metas: ShotMeta[] = [];
  const rendered: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < n; i++) {
    throwIfAborted(o.signal);
    const p = planned[i]!;
    const hit = force.has(i + 1) ? null : cache.get(p.key);
    if (hit) {
      metas.push(hit);
      cached.push(i + 1);
      o.onShot?.({ shot: i + 1, total: n, status: "cached", key: p.key });
      continue;
    }
    o.onShot?.({ shot: i + 1, total: n, status: "rendering", key: p.key });
    const meta = await renderShot(b, cache, p, o, i);
    metas.push(meta);
    rendered.push(i + 1);
    o.onShot?.({ shot: i + 1, total: n, status: "rendered", key: p.key, ms: meta.renderMs });
  }
  const shotsMs = performance.now() - tShots;

  // 3. timeline, voices, subtitles
  const tVoices = performance.now();
  const tl = timeline(
    metas.map((m, i) => ({ seconds: m.seconds, transition: story.shots[i]!.transition })),
    story.crossfade,
  );
  const voices: { wav: string; at: number }[] = [];
  const cues: Cue[] = [];
  const overruns: string[] = [];
  const voiceDir = join(cache.dir, "voices");
  story.shots.forEach((shot, i) => {
    const line = shot.dialogue ?? shot.narration;
    if (!line) return;
    mkdirSync(voiceDir, { recursive: true });
    const h = createHash("sha256")
      .update(JSON.stringify([line.text, line.language, requireEspeak("narration").version]))
      .digest("hex")
      .slice(0, 24);
    const wav = join(voiceDir, `${h}.wav`);
    const seconds = existsSync(wav) ? wavSeconds(wav) : speak(line.text, line.language, wav).seconds;
    // a short lead-in after the shot starts (after the cross-fade, if any)
    const start = tl.starts[i]! + tl.overlaps[i]! + 0.15;
    voices.push({ wav, at: start });
    const shotEnd = tl.starts[i + 1] ?? Number.POSITIVE_INFINITY; // the last shot is held to fit its line
    if (start + seconds > shotEnd + 0.5)
      overruns.push(
        `shot ${i + 1}'s line (${seconds.toFixed(1)} s) runs ${(start + seconds - shotEnd).toFixed(1)} s past the shot; lengthen the shot`,
      );
    cues.push({
      start,
      end: start + seconds,
      text: line.text,
      ...(shot.dialogue ? { speaker: shot.dialogue.character } : {}),
    });
  });
  for (const m of overruns) o.warn?.(m);
  // a line that outlasts the picture: hold the last frame until it ends (+0.3 s)
  const lastEnd = Math.max(0, ...cues.map((c) => c.end));
  const holdEnd = lastEnd + 0.3 > tl.seconds ? lastEnd + 0.3 - tl.seconds : 0;
  const seconds = tl.seconds + holdEnd;
  const vtt = `${stem}.vtt`;
  const srt = `${stem}.srt`;
  writeFileSync(vtt, toWebVtt(cues));
  writeFileSync(srt, toSrt(cues));
  const voicesMs = performance.now() - tVoices;

  // 4. assemble (to a temporary file, renamed when complete)
  const tAsm = performance.now();
  const tmp = `${stem}.partial-${process.pid}.mp4`;
  try {
    await assembleVideo({
      out: tmp,
      width: width + (width % 2),
      height: height + (height % 2),
      fps,
      clips: metas.map((m, i) => ({
        path: cache.path(m.key, "mp4"),
        seconds: m.seconds,
        transition: story.shots[i]!.transition,
      })),
      crossfade: story.crossfade,
      holdEnd,
      voices,
      ...(story.soundtrack ? { soundtrack: at(story.soundtrack) } : {}),
      ...((o.burnSubtitles ?? story.burn_subtitles) && cues.length ? { burnSubtitles: srt } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    renameSync(tmp, o.out);
  } finally {
    rmSync(tmp, { force: true });
  }
  const assembleMs = performance.now() - tAsm;

  // 5. storyboard and resolved plan
  const storyboard = `${stem}.storyboard.png`;
  const tiles = [];
  for (let i = 0; i < n; i++) {
    const shot = story.shots[i]!;
    tiles.push({
      frame: await readImage(cache.path(metas[i]!.key, "thumb.png"), "thumbnail"),
      caption: [`${i + 1}. ${shot.size}, ${shot.camera}, ${tl.starts[i]!.toFixed(2)} s`, shot.prompt],
    });
  }
  await writeContactSheet(storyboard, tiles, { title: story.title });
  const plan = `${stem}.plan.json`;
  const resolvedPlan = {
    ...story,
    seed: storySeed,
    resolved: {
      model: b.name,
      width,
      height,
      fps,
      seconds: Number(seconds.toFixed(3)),
      held_end: Number(holdEnd.toFixed(3)),
      shots: story.shots.map((_, i) => ({
        shot: i + 1,
        key: planned[i]!.key,
        prompt_sent: planned[i]!.prompt,
        seed: planned[i]!.seed,
        frames: metas[i]!.frames,
        start: Number(tl.starts[i]!.toFixed(3)),
        seconds: Number(metas[i]!.seconds.toFixed(3)),
        conditioning:
          planned[i]!.conditioning.kind === "reference-image"
            ? { kind: "reference-image", path: planned[i]!.conditioning.path }
            : planned[i]!.conditioning,
        // how a `continue` shot follows the previous one on this model
        ...(story.shots[i]!.continuity === "continue"
          ? { continued_by: takesImage ? "last-frame" : "shared-seed" }
          : {}),
        from_cache: cached.includes(i + 1),
      })),
      subtitles: cues.map((c) => ({ start: Number(c.start.toFixed(3)), end: Number(c.end.toFixed(3)), text: c.text })),
      outputs: { video: o.out, storyboard, vtt, srt, cache: cache.dir },
    },
  };
  writeFileSync(plan, `${JSON.stringify(resolvedPlan, null, 2)}\n`);
  return {
    out: o.out,
    plan,
    storyboard,
    vtt,
    srt,
    cacheDir: cache.dir,
    seconds,
    rendered,
    cached,
    timingsMs: { shots: shotsMs, voices: voicesMs, assemble: assembleMs, total: performance.now() - t0 },
  };
}

async function renderShot(
  b: WanBundle,
  cache: ShotCache,
  p: {
    readonly key: string;
    readonly settings: ShotSettings;
    readonly seed: number;
    readonly prompt: string;
    readonly conditioning: Conditioning;
  },
  o: RenderStoryOptions,
  index: number,
): Promise<ShotMeta> {
  const t0 = performance.now();
  const s = p.settings;
  let image: RgbFrame | undefined;
  if (p.conditioning.kind === "previous-last-frame")
    image = await readImage(cache.path(p.conditioning.previousKey, "last.png"), "previous shot's last frame");
  else if (p.conditioning.kind === "reference-image") image = await readImage(p.conditioning.path, "reference image");
  const frames: RgbFrame[] = [];
  const result = await generate(
    b,
    {
      prompt: p.prompt,
      negativePrompt: s.negativePrompt,
      ...(image ? { image } : {}),
      width: s.width,
      height: s.height,
      frames: s.frames,
      fps: s.fps,
      steps: s.steps,
      shift: s.shift,
      sampler: s.sampler as "unipc",
      ...(s.guidance !== null ? { guidance: s.guidance } : {}),
      seed: p.seed,
    },
    {
      onFrames: (f) => {
        frames.push(...f);
      },
      ...(o.onProgress ? { onProgress: (pr: Progress) => o.onProgress!(index + 1, pr) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
  );
  const first = frames[0];
  const last = frames[frames.length - 1];
  if (!first || !last) throw new ReelError("E_INPUT_INVALID", `shot ${index + 1} produced no frames`);
  const tmp = cache.path(`${p.key}.partial-${process.pid}`, "mp4");
  try {
    await encodeMp4(frames, {
      out: tmp,
      width: first.width,
      height: first.height,
      fps: result.fps,
      crf: 12,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    await writePng(cache.path(p.key, "last.png"), last);
    await writePng(cache.path(p.key, "thumb.png"), frames[Math.floor(frames.length / 2)]!);
    renameSync(tmp, cache.path(p.key, "mp4"));
  } finally {
    rmSync(tmp, { force: true });
  }
  const meta: ShotMeta = {
    key: p.key,
    frames: frames.length,
    fps: result.fps,
    width: first.width,
    height: first.height,
    seconds: frames.length / result.fps,
    seed: p.seed,
    prompt: p.prompt,
    renderMs: performance.now() - t0,
  };
  writeFileSync(cache.path(p.key, "json"), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
