/**
 * Offline text-to-speech through espeak-ng (Debian package `espeak-ng`; REEL_ESPEAK picks a
 * binary). Speaks a line into a WAV file and reports its length. espeak-ng speaks English,
 * Mandarin (`cmn`), and about a hundred other languages.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { ReelError } from "../errors.ts";

export interface Espeak {
  readonly path: string;
  readonly version: string;
  /** Installed voice names (language codes): en, en-us, cmn, fr, ... */
  readonly voices: ReadonlySet<string>;
}

let cached: Espeak | null | undefined;

/** Finds espeak-ng once per process; null when it is not installed. */
export function findEspeak(): Espeak | null {
  if (cached !== undefined) return cached;
  const path = process.env.REEL_ESPEAK ?? "espeak-ng";
  const v = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (v.status !== 0 || !v.stdout) {
    cached = null;
    return null;
  }
  const list = spawnSync(path, ["--voices"], { encoding: "utf8", timeout: 10_000 });
  const voices = new Set<string>();
  for (const line of (list.stdout ?? "").split("\n").slice(1)) {
    const lang = line.trim().split(/\s+/)[1];
    if (lang) voices.add(lang.toLowerCase());
  }
  cached = { path, version: /text-to-speech:\s*(\S+)/.exec(v.stdout)?.[1] ?? "unknown", voices };
  return cached;
}

export function requireEspeak(why: string): Espeak {
  const e = findEspeak();
  if (!e)
    throw new ReelError(
      "E_TTS_UNAVAILABLE",
      `${why} needs espeak-ng, which is not installed here (tried ${process.env.REEL_ESPEAK ?? "espeak-ng"} on PATH). ` +
        "Install the Debian package espeak-ng (apt-get install espeak-ng) or set REEL_ESPEAK to its path.",
    );
  return e;
}

/** The espeak-ng voice for a language code (zh -> cmn; `en` matches en-gb, en-us, ...). */
export function voiceFor(language: string, e: Espeak): string {
  const l = language.toLowerCase();
  const v = l === "zh" || l === "zh-cn" ? "cmn" : l;
  for (const have of e.voices) if (have === v || have.startsWith(`${v}-`)) return v;
  throw new ReelError(
    "E_TTS_UNAVAILABLE",
    `espeak-ng has no voice for language "${language}"; installed: ${[...e.voices].sort().join(", ")}`,
  );
}

export interface SpokenLine {
  readonly wav: string;
  readonly seconds: number;
}

/** Reads the length of a PCM WAV file from its header. */
export function wavSeconds(path: string): number {
  const b = readFileSync(path);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE")
    throw new ReelError("E_MEDIA_INVALID", `${path} is not a WAV file`);
  let off = 12;
  let byteRate = 0;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4);
    let size = b.readUInt32LE(off + 4);
    if (id === "fmt ") byteRate = b.readUInt32LE(off + 16);
    if (id === "data") {
      // espeak-ng writing to a file leaves the sizes right; when streamed they can be 0x7fffffff.
      if (size === 0 || off + 8 + size > b.length) size = b.length - off - 8;
      if (byteRate === 0) break;
      return size / byteRate;
    }
    off += 8 + size + (size % 2);
  }
  throw new ReelError("E_MEDIA_INVALID", `${path}: WAV without fmt/data chunks`);
}

/** Speaks `text` in `language` into `wav` (mono 22.05 kHz PCM). */
export function speak(text: string, language: string, wav: string, o: { speed?: number } = {}): SpokenLine {
  const e = requireEspeak("narration and dialogue");
  const voice = voiceFor(language, e);
  const txt = `${wav}.txt`;
  writeFileSync(txt, text, "utf8");
  try {
    const r = spawnSync(e.path, ["-v", voice, "-s", String(o.speed ?? 160), "-w", wav, "-f", txt], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status !== 0)
      throw new ReelError("E_TTS_UNAVAILABLE", `espeak-ng failed (${r.status}): ${(r.stderr ?? "").trim() || r.error}`);
  } finally {
    rmSync(txt, { force: true });
  }
  return { wav, seconds: wavSeconds(wav) };
}
