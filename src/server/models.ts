/**
 * The models the server offers, by name only: reel's embedded model always, plus every
 * complete model folder discovery finds (REEL_MODELS, the Hugging Face cache, ~/.cache/reel).
 * Aliases (`sora-2=reel-toy`) let existing clients keep their model names. A request never
 * names a path: names are looked up in this list and nothing else.
 */
import { ortRuntime } from "../engine/runtime-ort.ts";
import type { Device } from "../engine/runtime.ts";
import { discoverModels, type ModelFolder } from "../models/discovery.ts";
import { openWanBundle, type WanBundle } from "../pipelines/wan-model.ts";
import type { ModelShape } from "./mapping.ts";

export interface CatalogOptions {
  readonly device: Device;
  readonly threads?: number;
  /** Alias → model name. */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Server-wide frame cap for models that declare none. */
  readonly maxFrames: number;
  readonly defaultModel: string;
}

export class ModelCatalog {
  private readonly folders = new Map<string, ModelFolder>();
  private readonly shapes = new Map<string, ModelShape>();

  constructor(
    readonly o: CatalogOptions,
    folders: readonly ModelFolder[] = discoverModels(),
  ) {
    for (const f of folders) if (f.missing.length === 0 && !this.folders.has(f.name)) this.folders.set(f.name, f);
  }

  names(): string[] {
    return [...this.folders.keys(), ...Object.keys(this.o.aliases ?? {})];
  }

  /** The configured model a requested name means, or null. */
  resolve(requested: string): string | null {
    const name = this.o.aliases?.[requested] ?? requested.toLowerCase();
    return this.folders.has(name) ? name : null;
  }

  /** Opens a model's files for a worker (each worker keeps its own bundle). */
  open(name: string): WanBundle {
    const f = this.folders.get(name);
    if (!f) throw new Error(`model ${name} is not in the catalog`);
    return openWanBundle(f, {
      runtime: ortRuntime,
      device: this.o.device,
      ...(this.o.threads ? { threads: this.o.threads } : {}),
    });
  }

  /** What a model makes (opened once, headers only, to read its config and defaults). */
  shape(name: string): ModelShape {
    const hit = this.shapes.get(name);
    if (hit) return hit;
    const b = this.open(name);
    const s: ModelShape = {
      name,
      sizes: b.defaults.sizes,
      frames: b.defaults.frames,
      fps: b.defaults.fps,
      sizeMultiple: b.rules.sizeMultiple,
      frameStep: b.rules.frameStep,
      maxFrames: Math.min(b.rules.maxFrames ?? this.o.maxFrames, this.o.maxFrames),
      supportsImage: b.rules.supportsImage,
      supportsLastImage: b.rules.supportsLastImage,
      requiresImage: b.ditConfig.in_dim !== b.ditConfig.out_dim,
    };
    this.shapes.set(name, s);
    return s;
  }
}
