/**
 * Shots -> one MP4: every clip scaled (aspect kept, padded) to a common size and frame rate,
 * joined by hard cuts or cross-fades; voice lines placed at their times over a silent bed;
 * an optional soundtrack looped under them and ducked (sidechain compression) while they
 * speak; the last frame held when asked (a last line that outlasts the picture); optionally
 * subtitles burned in (needs an ffmpeg built with libass). One ffmpeg run.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReelError } from "../errors.ts";
import { findFfmpeg, hasFfmpegFilter, runFfmpeg } from "./ffmpeg.ts";

export interface TimelineClip {
  readonly seconds: number;
  /** How this clip joins the previous one (ignored for the first). */
  readonly transition: "cut" | "crossfade";
}

export interface Timeline {
  /** Where each clip starts in the assembled video, seconds. */
  readonly starts: readonly number[];
  /** The overlap with the previous clip (0 for cuts). */
  readonly overlaps: readonly number[];
  readonly seconds: number;
}

/** Start times and total length; a cross-fade overlaps two clips by `crossfade` seconds (at most half the shorter). */
export function timeline(clips: readonly TimelineClip[], crossfade: number): Timeline {
  const starts: number[] = [];
  const overlaps: number[] = [];
  let end = 0;
  clips.forEach((c, i) => {
    const prev = clips[i - 1];
    const d = i > 0 && prev && c.transition === "crossfade" ? Math.min(crossfade, prev.seconds / 2, c.seconds / 2) : 0;
    starts.push(end - d);
    overlaps.push(d);
    end = end - d + c.seconds;
  });
  return { starts, overlaps, seconds: end };
}

export interface AssembleClip extends TimelineClip {
  readonly path: string;
}

export interface VoiceLine {
  readonly wav: string;
  /** Start, seconds into the assembled video. */
  readonly at: number;
}

export interface AssembleOptions {
  readonly out: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly clips: readonly AssembleClip[];
  readonly crossfade: number;
  readonly voices?: readonly VoiceLine[];
  readonly soundtrack?: string;
  /** Soundtrack level under the voices before ducking (linear, default 0.5). */
  readonly soundtrackVolume?: number;
  /** Hold the last frame this many seconds longer (e.g. to let a last voice line finish). */
  readonly holdEnd?: number;
  /** An SRT file to burn into the picture. */
  readonly burnSubtitles?: string;
  readonly signal?: AbortSignal;
}

const f3 = (x: number) => x.toFixed(3);

/** Fails early, naming the ffmpeg in use, when it cannot assemble (or burn subtitles). */
export function requireAssemblyFfmpeg(burnSubtitles: boolean): void {
  if (!hasFfmpegFilter("xfade")) {
    const bin = findFfmpeg();
    throw new ReelError(
      "E_FFMPEG",
      `assembling a story needs ffmpeg 4.4 or newer (the xfade filter, amix normalize); ${bin.path} (${bin.source}, ${bin.version}) is older. ` +
        "Install Debian's ffmpeg or point REEL_FFMPEG at a newer build.",
    );
  }
  if (burnSubtitles && !hasFfmpegFilter("subtitles"))
    throw new ReelError(
      "E_FFMPEG",
      "burning subtitles needs an ffmpeg with the subtitles filter (libass); Debian's ffmpeg has it. The .vtt/.srt sidecars need nothing.",
    );
}

export async function assembleVideo(o: AssembleOptions): Promise<Timeline> {
  if (o.clips.length === 0) throw new ReelError("E_INPUT_INVALID", "nothing to assemble: no clips");
  if (o.width % 2 || o.height % 2)
    throw new ReelError("E_INPUT_INVALID", `assembled size ${o.width}x${o.height} must be even (yuv420p)`);
  requireAssemblyFfmpeg(o.burnSubtitles !== undefined);
  const hold = Math.max(0, o.holdEnd ?? 0);
  const cut = timeline(o.clips, o.crossfade);
  const tl: Timeline = { ...cut, seconds: cut.seconds + hold };
  const T = tl.seconds;
  const inputs: string[] = [];
  const graph: string[] = [];
  const cleanup: (() => void)[] = [];
  let n = 0;

  // video: normalise each clip, then fold the edit left to right
  for (const c of o.clips) {
    inputs.push("-i", c.path);
    graph.push(
      `[${n}:v]scale=${o.width}:${o.height}:force_original_aspect_ratio=decrease,` +
        `pad=${o.width}:${o.height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=${o.fps},format=yuv420p,` +
        `trim=duration=${f3(c.seconds)},setpts=PTS-STARTPTS,settb=AVTB[v${n}]`,
    );
    n++;
  }
  let acc = "v0";
  let len = o.clips[0]!.seconds;
  for (let i = 1; i < o.clips.length; i++) {
    const d = tl.overlaps[i]!;
    const out = `e${i}`;
    graph.push(
      d > 0
        ? `[${acc}][v${i}]xfade=transition=fade:duration=${f3(d)}:offset=${f3(len - d)}[${out}]`
        : `[${acc}][v${i}]concat=n=2:v=1:a=0[${out}]`,
    );
    acc = out;
    len += o.clips[i]!.seconds - d;
  }
  if (hold > 0) {
    graph.push(`[${acc}]tpad=stop_mode=clone:stop_duration=${f3(hold)}[held]`);
    acc = "held";
  }
  if (o.burnSubtitles) {
    // A copy at a path with no characters the filter syntax would need escaped.
    const dir = mkdtempSync(join(tmpdir(), "reel-subs-"));
    const srt = join(dir, "subs.srt");
    copyFileSync(o.burnSubtitles, srt);
    // White text on a half-transparent black box (BorderStyle 3): readable on any picture,
    // including the bright skies and white backdrops a thin outline gets lost on.
    const style = "Fontsize=18,MarginV=12,BorderStyle=3,Outline=1,Shadow=0,OutlineColour=&H60000000";
    graph.push(`[${acc}]subtitles=filename=${srt}:force_style='${style}'[vsub]`);
    acc = "vsub";
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  }

  // audio: a silent bed of the full length, voices at their times, a ducked soundtrack
  const fmt = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo";
  graph.push(`anullsrc=r=48000:cl=stereo,atrim=duration=${f3(T)}[bed]`);
  const voices = o.voices ?? [];
  voices.forEach((v) => {
    inputs.push("-i", v.wav);
    const ms = Math.max(0, Math.round(v.at * 1000));
    graph.push(`[${n}:a]${fmt},adelay=${ms}|${ms}[s${n}]`);
    n++;
  });
  const voiceLabels = voices.map((_, i) => `[s${o.clips.length + i}]`);
  let voice: string | null = null;
  if (voiceLabels.length === 1) voice = voiceLabels[0]!;
  else if (voiceLabels.length > 1) {
    graph.push(`${voiceLabels.join("")}amix=inputs=${voiceLabels.length}:duration=longest:normalize=0[voice]`);
    voice = "[voice]";
  }
  const mix = ["[bed]"];
  if (o.soundtrack) {
    inputs.push("-stream_loop", "-1", "-i", o.soundtrack);
    const fadeAt = Math.max(0, T - 1);
    graph.push(
      `[${n}:a]${fmt},atrim=duration=${f3(T)},volume=${o.soundtrackVolume ?? 0.5},afade=t=out:st=${f3(fadeAt)}:d=${f3(Math.min(1, T))}[music]`,
    );
    n++;
    if (voice) {
      graph.push(`${voice}asplit=2[vmix][vkey]`);
      graph.push("[music][vkey]sidechaincompress=threshold=0.02:ratio=12:attack=20:release=400:makeup=1[ducked]");
      mix.push("[ducked]", "[vmix]");
    } else mix.push("[music]");
  } else if (voice) mix.push(voice);
  graph.push(
    mix.length === 1 ? "[bed]anull[aout]" : `${mix.join("")}amix=inputs=${mix.length}:duration=first:normalize=0[aout]`,
  );

  try {
    await runFfmpeg(
      [
        ...inputs,
        "-filter_complex",
        graph.join(";"),
        ...["-map", `[${acc}]`, "-map", "[aout]"],
        ...["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", "-profile:v", "high"],
        ...["-r", String(o.fps), "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", "-t", f3(T)],
        o.out,
      ],
      o.signal ? { signal: o.signal } : {},
    );
  } finally {
    for (const f of cleanup) f();
  }
  return tl;
}
