/**
 * Finds parity fixtures in folders of the shared format (`<name>.io.safetensors`, optionally
 * with `<name>.weights.safetensors`) and recognises each component from the file names and
 * `__metadata__.config`, so folders with other names and sizes work too.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ReelError } from "../errors.ts";
import { readHeader, type SafetensorsHeader } from "../engine/safetensors.ts";

export type Component = "dit" | "vae" | "vae22" | "t5" | "clip" | "scheduler" | "unknown";

export interface Fixture {
  readonly name: string;
  readonly dir: string;
  readonly io: SafetensorsHeader;
  readonly weights: SafetensorsHeader | null;
  readonly config: Record<string, unknown> | null;
  readonly component: Component;
}

function parseConfig(h: SafetensorsHeader | null): Record<string, unknown> | null {
  const raw = h?.metadata.config;
  if (raw === undefined) return null;
  try {
    const c = JSON.parse(raw) as unknown;
    return typeof c === "object" && c !== null ? (c as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function recognise(name: string, io: SafetensorsHeader, config: Record<string, unknown> | null): Component {
  if (config !== null) {
    if ("model_type" in config && "patch_size" in config && "num_layers" in config) return "dit";
    if ("z_dim" in config) return "dec_dim" in config ? "vae22" : "vae";
    if ("vocab" in config && "num_buckets" in config) return "t5";
    if ("image_size" in config && "patch_size" in config) return "clip";
  }
  const keys = [...io.tensors.keys()];
  if (keys.some((k) => k.endsWith("_timesteps")) && keys.some((k) => k.endsWith("_sigmas"))) return "scheduler";
  if (/^dit/.test(name)) return "dit";
  return "unknown";
}

export function findFixtures(dirs: readonly string[]): Fixture[] {
  const out: Fixture[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new ReelError("E_INPUT_INVALID", `parity: ${dir} is not a folder`);
    const ios = readdirSync(dir)
      .filter((f) => f.endsWith(".io.safetensors"))
      .sort();
    for (const f of ios) {
      const name = f.slice(0, -".io.safetensors".length);
      const io = readHeader(join(dir, f));
      const wPath = join(dir, `${name}.weights.safetensors`);
      const weights = existsSync(wPath) ? readHeader(wPath) : null;
      const config = parseConfig(weights) ?? parseConfig(io);
      out.push({ name, dir, io, weights, config, component: recognise(name, io, config) });
    }
  }
  return out;
}
