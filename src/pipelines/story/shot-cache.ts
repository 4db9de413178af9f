/**
 * Rendered shots, keyed by their content: a hash of the model's identity, the settings, the
 * seed, the prompt the model receives and the conditioning (first-frame image). The same key
 * always means the same clip (pipelines are deterministic), so a story re-render only runs
 * the shots whose key changed. Each entry: `<key>.mp4`, `<key>.json` (metadata),
 * `<key>.last.png` (for a continuing shot) and `<key>.thumb.png` (the contact sheet).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { WanBundle } from "../wan-model.ts";

export interface ShotSettings {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly steps: number;
  readonly shift: number;
  readonly sampler: string;
  readonly guidance: number | null;
  readonly negativePrompt: string;
  readonly precision: string;
}

export type Conditioning =
  | { readonly kind: "none" }
  | { readonly kind: "previous-last-frame"; readonly previousKey: string }
  | { readonly kind: "reference-image"; readonly path: string; readonly sha256: string };

export interface ShotMeta {
  readonly key: string;
  readonly frames: number;
  readonly fps: number;
  readonly width: number;
  readonly height: number;
  readonly seconds: number;
  readonly seed: number;
  readonly prompt: string;
  readonly renderMs: number;
}

function modelIdentity(b: WanBundle): unknown {
  const files = Object.values(b.folder.components)
    .filter((p): p is string => typeof p === "string")
    .sort();
  return {
    name: b.name,
    files: files.map((p) => {
      try {
        const s = statSync(p);
        return [p, s.size, Math.round(s.mtimeMs)];
      } catch {
        return [p, null];
      }
    }),
  };
}

export function shotKey(
  b: WanBundle,
  s: ShotSettings,
  seed: number,
  prompt: string,
  conditioning: Conditioning,
): string {
  const cond =
    conditioning.kind === "reference-image" ? { kind: conditioning.kind, sha256: conditioning.sha256 } : conditioning;
  const json = JSON.stringify({ v: 1, model: modelIdentity(b), settings: s, seed, prompt, conditioning: cond });
  return createHash("sha256").update(json).digest("hex").slice(0, 32);
}

export function fileSha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export class ShotCache {
  constructor(readonly dir: string) {}

  path(key: string, what: "mp4" | "json" | "last.png" | "thumb.png"): string {
    return join(this.dir, `${key}.${what}`);
  }

  /** The entry's metadata when all its files are present. */
  get(key: string): ShotMeta | null {
    for (const w of ["mp4", "json", "last.png", "thumb.png"] as const) if (!existsSync(this.path(key, w))) return null;
    try {
      return JSON.parse(readFileSync(this.path(key, "json"), "utf8")) as ShotMeta;
    } catch {
      return null;
    }
  }
}
