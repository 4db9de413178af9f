/**
 * The one module that talks to ffmpeg. Finds a binary (REEL_FFMPEG, then the system's
 * `ffmpeg` on PATH, then the static build shipped by the npm package @ffmpeg-installer),
 * and runs it with raw media piped on stdin and extra pipes (fd 3+), wrapping failures in
 * ReelError E_FFMPEG with the tail of its log.
 */
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type { Readable, Writable } from "node:stream";
import { ReelError } from "../errors.ts";

export interface FfmpegBinary {
  readonly path: string;
  readonly source: "REEL_FFMPEG" | "system" | "npm";
  readonly version: string;
}

let cached: FfmpegBinary | null = null;

function versionOf(path: string): string | null {
  const r = spawnSync(path, ["-hide_banner", "-version"], { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0 || !r.stdout) return null;
  return /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? "unknown";
}

/** Locates ffmpeg once per process. */
export function findFfmpeg(): FfmpegBinary {
  if (cached) return cached;
  const candidates: { path: string; source: FfmpegBinary["source"] }[] = [];
  if (process.env.REEL_FFMPEG) candidates.push({ path: process.env.REEL_FFMPEG, source: "REEL_FFMPEG" });
  candidates.push({ path: "ffmpeg", source: "system" });
  try {
    const req = createRequire(import.meta.url);
    candidates.push({ path: (req("@ffmpeg-installer/ffmpeg") as { path: string }).path, source: "npm" });
  } catch {
    // the npm binary is optional (no build for this platform)
  }
  const tried: string[] = [];
  for (const c of candidates) {
    const v = versionOf(c.path);
    tried.push(`${c.source}: ${c.path}${v ? "" : " (not runnable)"}`);
    if (v) {
      cached = { ...c, version: v };
      return cached;
    }
    if (c.source === "REEL_FFMPEG")
      throw new ReelError("E_FFMPEG", `REEL_FFMPEG=${c.path} is not a runnable ffmpeg`, { details: { tried } });
  }
  throw new ReelError("E_FFMPEG", `no ffmpeg found; tried ${tried.join("; ")}. Install ffmpeg or run npm ci.`);
}

export interface FfmpegRun {
  /** Written to ffmpeg's stdin, then closed. */
  readonly stdin?: (w: Writable) => Promise<void>;
  /** Extra input pipes: fd 3, 4, ... in order (e.g. PCM audio). */
  readonly pipes?: readonly ((w: Writable) => Promise<void>)[];
  readonly signal?: AbortSignal;
  /** Collects stdout (e.g. decoded raw frames). */
  readonly stdout?: (r: Readable) => Promise<void>;
}

/** Runs ffmpeg with `args` and resolves when it exits 0. */
export async function runFfmpeg(args: readonly string[], io: FfmpegRun = {}): Promise<void> {
  const bin = findFfmpeg();
  const extra = io.pipes?.length ?? 0;
  const stdio: ("pipe" | "ignore")[] = [io.stdin ? "pipe" : "ignore", io.stdout ? "pipe" : "ignore", "pipe"];
  for (let i = 0; i < extra; i++) stdio.push("pipe");
  const proc = spawn(bin.path, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", ...args], {
    stdio,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code) => resolve(code));
  });
  // A closed pipe (ffmpeg failed early) surfaces through the exit code and log, not EPIPE.
  const feed = async (w: Writable | null | undefined, fn: ((w: Writable) => Promise<void>) | undefined) => {
    if (!w || !fn) return;
    w.on("error", () => {});
    try {
      await fn(w);
    } finally {
      w.end();
    }
  };
  const feeders = [
    feed(proc.stdin, io.stdin),
    ...(io.pipes ?? []).map((fn, i) => feed(proc.stdio[3 + i] as Writable, fn)),
    io.stdout && proc.stdout ? io.stdout(proc.stdout) : Promise.resolve(),
  ];
  let code: number | null;
  try {
    [code] = await Promise.all([exited, ...feeders]);
  } catch (e) {
    if (io.signal?.aborted) throw new ReelError("E_CANCELLED", "ffmpeg was cancelled", { cause: e });
    throw new ReelError("E_FFMPEG", `ffmpeg (${bin.path}) failed: ${(e as Error).message}\n${log.trim()}`, {
      cause: e,
    });
  }
  if (code !== 0)
    throw new ReelError("E_FFMPEG", `ffmpeg exited with ${code}: ${log.trim() || "(no output)"}`, {
      details: { args: [...args] },
    });
}

/** Writes a buffer to a stream, respecting back-pressure. */
export function writeChunk(w: Writable, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (w.write(chunk)) resolve();
    else {
      w.once("drain", resolve);
      w.once("error", reject);
    }
  });
}

const filters = new Map<string, boolean>();

/** Whether the ffmpeg in use has a filter (e.g. `subtitles` needs a build with libass). */
export function hasFfmpegFilter(name: string): boolean {
  const bin = findFfmpeg();
  if (filters.size === 0) {
    const r = spawnSync(bin.path, ["-hide_banner", "-filters"], { encoding: "utf8", timeout: 10_000 });
    for (const line of (r.stdout ?? "").split("\n")) {
      const m = /^\s*[A-Z.|]{3}\s+(\S+)\s/.exec(line);
      if (m?.[1]) filters.set(m[1], true);
    }
  }
  return filters.get(name) === true;
}
