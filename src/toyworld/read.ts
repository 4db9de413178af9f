/**
 * Reads videos for evaluation: an .mp4 (decoded to RGB24 through ffmpeg), a folder of
 * PNG frames (in name order), or a row of a uint8 [K, T, H, W, 3] .npy; and a folder of
 * samples described by captions.jsonl (records with `file` (+ `index` for .npy) and
 * `caption` or `prompt`, as writeSamples makes them).
 * `reel eval --videos DIR` calls evaluateFolder.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import sharp from "sharp";
import { ReelError } from "../errors.ts";
import { runFfmpeg } from "../media/ffmpeg.ts";
import type { RgbFrame } from "../media/frames.ts";
import { readImage } from "../media/image-io.ts";
import {
  aggregate,
  type EvaluationItem,
  type EvaluationReport,
  evaluateVideo,
  type VideoEvaluation,
} from "./evaluate.ts";
import { parseNpyHeader } from "./npy.ts";
import { CAPTIONS_FILE } from "./write.ts";

async function collect(r: Readable, into: Buffer[]): Promise<void> {
  for await (const chunk of r) into.push(chunk as Buffer);
}

async function videoSize(path: string): Promise<{ width: number; height: number }> {
  const chunks: Buffer[] = [];
  await runFfmpeg(["-i", path, "-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "pipe:1"], {
    stdout: (r) => collect(r, chunks),
  });
  const meta = await sharp(Buffer.concat(chunks)).metadata();
  if (!meta.width || !meta.height) throw new ReelError("E_MEDIA_INVALID", `${path}: cannot read the video size`);
  return { width: meta.width, height: meta.height };
}

/** Decodes a video file, or reads a folder of PNG/JPEG frames, to RGB24 frames. */
export async function readVideo(path: string): Promise<RgbFrame[]> {
  if (!existsSync(path)) throw new ReelError("E_MEDIA_INVALID", `${path} does not exist`);
  if (statSync(path).isDirectory()) {
    const names = (await readdir(path)).filter((n) => /\.(png|jpe?g|webp)$/i.test(n)).sort();
    if (names.length === 0) throw new ReelError("E_MEDIA_INVALID", `${path} holds no PNG/JPEG/WebP frames`);
    return Promise.all(names.map((n) => readImage(join(path, n), `frame ${n}`)));
  }
  const { width, height } = await videoSize(path);
  const chunks: Buffer[] = [];
  await runFfmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], { stdout: (r) => collect(r, chunks) });
  const all = Buffer.concat(chunks);
  const size = width * height * 3;
  const frames: RgbFrame[] = [];
  for (let off = 0; off + size <= all.length; off += size)
    frames.push({ width, height, data: new Uint8Array(all.buffer, all.byteOffset + off, size) });
  if (frames.length === 0) throw new ReelError("E_MEDIA_INVALID", `${path}: no frames decoded`);
  return frames;
}

/** Clip `index` of a uint8 [K, T, H, W, 3] .npy file. */
export async function readNpyClip(path: string, index: number): Promise<RgbFrame[]> {
  const fh = await open(path, "r").catch((e: Error) => {
    throw new ReelError("E_MEDIA_INVALID", `cannot open ${path}: ${e.message}`, { cause: e });
  });
  try {
    const head = new Uint8Array(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const { offset, shape } = parseNpyHeader(head.subarray(0, bytesRead), path);
    const [K, T, H, W, C] = shape as [number, number, number, number, number];
    if (shape.length !== 5 || C !== 3)
      throw new ReelError("E_MEDIA_INVALID", `${path}: expected shape [K, T, H, W, 3], got [${shape.join(", ")}]`);
    if (!Number.isInteger(index) || index < 0 || index >= K)
      throw new ReelError("E_INPUT_INVALID", `${path}: clip index ${index} is outside [0, ${K})`);
    const size = H * W * 3;
    const frames: RgbFrame[] = [];
    for (let t = 0; t < T; t++) {
      const data = new Uint8Array(size);
      const { bytesRead: got } = await fh.read(data, 0, size, offset + (index * T + t) * size);
      if (got !== size) throw new ReelError("E_MEDIA_INVALID", `${path}: truncated at clip ${index} frame ${t}`);
      frames.push({ width: W, height: H, data });
    }
    return frames;
  } finally {
    await fh.close();
  }
}

/**
 * The (video, prompt) pairs of a folder with a captions.jsonl, one at a time (a folder of
 * thousands of clips does not fit in memory at once). The index is checked whole first, so
 * a bad line fails before any clip is read.
 */
export async function* iterateSampleFolder(dir: string): AsyncGenerator<EvaluationItem> {
  const index = join(dir, CAPTIONS_FILE);
  if (!existsSync(index))
    throw new ReelError("E_INPUT_INVALID", `${dir} has no ${CAPTIONS_FILE} (lines of {"file": …, "caption": …})`);
  const records: { path: string; npy: boolean; index: number; prompt: string; id: string }[] = [];
  const lines = readFileSync(index, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let rec: { file?: unknown; index?: unknown; caption?: unknown; prompt?: unknown; id?: unknown };
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new ReelError("E_INPUT_INVALID", `${index}:${i + 1} is not JSON (${(e as Error).message})`, { cause: e });
    }
    const prompt = typeof rec.prompt === "string" ? rec.prompt : rec.caption;
    if (typeof rec.file !== "string" || typeof prompt !== "string")
      throw new ReelError(
        "E_INPUT_INVALID",
        `${index}:${i + 1} needs string fields "file" and "caption" (or "prompt")`,
      );
    records.push({
      path: join(dir, rec.file),
      npy: rec.file.endsWith(".npy"),
      index: Number(rec.index ?? 0),
      prompt,
      id: typeof rec.id === "string" ? rec.id : rec.index !== undefined ? `${rec.file}:${rec.index}` : rec.file,
    });
  }
  for (const r of records)
    yield { frames: r.npy ? await readNpyClip(r.path, r.index) : await readVideo(r.path), prompt: r.prompt, id: r.id };
}

/** All (video, prompt) pairs of a folder with a captions.jsonl (small folders; else iterateSampleFolder). */
export async function readSampleFolder(dir: string): Promise<EvaluationItem[]> {
  const items: EvaluationItem[] = [];
  for await (const it of iterateSampleFolder(dir)) items.push(it);
  return items;
}

/** Evaluates every video of a folder against its caption. */
export async function evaluateFolder(dir: string): Promise<EvaluationReport> {
  const evals: VideoEvaluation[] = [];
  const ids: string[] = [];
  for await (const it of iterateSampleFolder(dir)) {
    evals.push(evaluateVideo(it.frames, it.prompt));
    ids.push(it.id ?? String(ids.length));
  }
  return aggregate(evals, ids);
}
