/**
 * Writes K samples of a dataset to a folder, for training and inspection:
 *   <out>/<id>.mp4 (H.264 via src/media), <out>/<id>/<t>.png (lossless), or one
 *   <out>/clips.npy uint8 [count, T, H, W, 3] (lossless, memory-mappable from Python), and
 *   <out>/captions.jsonl: one record per sample {id, file, caption, seed, width, height,
 *   frames, fps, stated (attributes the caption names), scene (every attribute)}; for npy
 *   `file` is "clips.npy" and `index` the clip's row.
 * `reel toyworld sample --seed N --count K --out DIR` calls this.
 */
import { createWriteStream } from "node:fs";
import { type FileHandle, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { ReelError } from "../errors.ts";
import { encodeMp4 } from "../media/encode-video.ts";
import { writePng } from "../media/image-io.ts";
import { npyHeader } from "./npy.ts";
import { fullAttrs, type PromptAttrs } from "./prompt.ts";
import { resolveClip } from "./render.ts";
import { checkSeed } from "./rng.ts";
import { datasetSeed, sampleScene } from "./sample.ts";
import { DEFAULT_CLIP } from "./vocab.ts";

export interface WriteSamplesOptions {
  readonly seed: number;
  readonly count: number;
  readonly out: string;
  readonly width?: number;
  readonly height?: number;
  readonly frames?: number;
  readonly fps?: number;
  readonly format?: "mp4" | "png" | "npy";
  /** x264 quality for mp4 (default 10: near lossless). */
  readonly crf?: number;
  readonly signal?: AbortSignal;
  readonly onSample?: (done: number, count: number) => void;
}

export interface SampleRecord {
  readonly id: string;
  /** Relative to the folder: an .mp4, a folder of PNG frames, or clips.npy (row `index`). */
  readonly file: string;
  readonly index?: number;
  readonly caption: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly stated: PromptAttrs;
  readonly scene: PromptAttrs;
}

export const CAPTIONS_FILE = "captions.jsonl";
export const NPY_FILE = "clips.npy";

export async function writeSamples(o: WriteSamplesOptions): Promise<{ out: string; count: number; captions: string }> {
  checkSeed(o.seed);
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 10_000_000)
    throw new ReelError("E_INPUT_INVALID", `count must be an integer in [1, 10000000], got ${o.count}`);
  const format = o.format ?? "mp4";
  if (format !== "mp4" && format !== "png" && format !== "npy")
    throw new ReelError("E_INPUT_INVALID", `format must be "mp4", "png" or "npy", got ${String(format)}`);
  const clip = resolveClip(o);
  const fps = o.fps ?? DEFAULT_CLIP.fps;
  if (!(fps > 0 && fps <= 240)) throw new ReelError("E_INPUT_INVALID", `fps must be in (0, 240], got ${fps}`);
  try {
    await mkdir(o.out, { recursive: true });
  } catch (e) {
    throw new ReelError("E_IO", `cannot create ${o.out}: ${(e as Error).message}`, { cause: e });
  }
  const captions = join(o.out, CAPTIONS_FILE);
  const stream = createWriteStream(captions, { flags: "w" });
  const failed = new Promise<never>((_, reject) =>
    stream.on("error", (e) => reject(new ReelError("E_IO", `cannot write ${captions}: ${e.message}`, { cause: e }))),
  );
  failed.catch(() => {});
  const digits = Math.max(6, String(o.count - 1).length);
  let npy: FileHandle | null = null;
  try {
    if (format === "npy") {
      npy = await open(join(o.out, NPY_FILE), "w");
      await npy.write(npyHeader([o.count, clip.frames, clip.height, clip.width, 3]));
    }
    for (let i = 0; i < o.count; i++) {
      if (o.signal?.aborted) throw new ReelError("E_CANCELLED", `writing samples was cancelled after ${i}`);
      const seed = datasetSeed(o.seed, i);
      const s = sampleScene(seed, clip);
      const id = String(i).padStart(digits, "0");
      let file: string;
      if (npy) {
        file = NPY_FILE;
        for (const f of s.frames) await npy.write(f.data);
      } else if (format === "mp4") {
        file = `${id}.mp4`;
        await encodeMp4(s.frames, {
          out: join(o.out, file),
          width: clip.width,
          height: clip.height,
          fps,
          crf: o.crf ?? 10,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } else {
        file = id;
        await mkdir(join(o.out, id), { recursive: true });
        const w = String(clip.frames - 1).length;
        for (let t = 0; t < s.frames.length; t++)
          await writePng(join(o.out, id, `${String(t).padStart(w, "0")}.png`), s.frames[t]!);
      }
      const record: SampleRecord = {
        id,
        file,
        ...(npy ? { index: i } : {}),
        caption: s.caption.text,
        seed,
        ...clip,
        fps,
        stated: s.caption.attrs,
        scene: fullAttrs(s.scene),
      };
      if (!stream.write(`${JSON.stringify(record)}\n`))
        await Promise.race([new Promise<void>((r) => stream.once("drain", () => r())), failed]);
      o.onSample?.(i + 1, o.count);
    }
  } finally {
    await npy?.close();
    await new Promise<void>((resolve) => stream.end(resolve));
  }
  return { out: o.out, count: o.count, captions };
}
