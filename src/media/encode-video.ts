/**
 * Frames (and optional PCM audio) → MP4: H.264 High, yuv420p, the requested fps, +faststart,
 * so browsers and players take it; AAC audio when given. Frames stream into ffmpeg as they
 * come, so a long video never sits in memory as a whole.
 */
import type { Writable } from "node:stream";
import { ReelError } from "../errors.ts";
import { runFfmpeg, writeChunk } from "./ffmpeg.ts";
import type { RgbFrame } from "./frames.ts";

export interface PcmAudio {
  /** Interleaved signed 16-bit samples. */
  readonly samples: Int16Array;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
}

export interface EncodeOptions {
  readonly out: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** x264 constant rate factor: 0 lossless … 51 worst; 18 is visually lossless. */
  readonly crf?: number;
  readonly preset?: "ultrafast" | "veryfast" | "fast" | "medium" | "slow";
  readonly audio?: PcmAudio;
  readonly signal?: AbortSignal;
}

/** Encodes frames (an array or an async stream) into an MP4 file. */
export async function encodeMp4(frames: Iterable<RgbFrame> | AsyncIterable<RgbFrame>, o: EncodeOptions): Promise<void> {
  if (!(o.width > 0 && o.height > 0 && Number.isInteger(o.width) && Number.isInteger(o.height)))
    throw new ReelError("E_INPUT_INVALID", `video size ${o.width}x${o.height} must be positive integers`);
  if (!(o.fps > 0 && o.fps <= 240)) throw new ReelError("E_INPUT_INVALID", `fps ${o.fps} must be in (0, 240]`);
  // yuv420p needs even sizes: pad odd sizes by one pixel (bottom/right, edge colour).
  const pad = o.width % 2 || o.height % 2 ? ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:0:0"] : [];
  const args = [
    ...["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${o.width}x${o.height}`, "-r", String(o.fps), "-i", "pipe:0"],
    ...(o.audio
      ? ["-f", "s16le", "-ar", String(o.audio.sampleRate), "-ac", String(o.audio.channels), "-i", "pipe:3"]
      : []),
    ...pad,
    ...["-c:v", "libx264", "-preset", o.preset ?? "medium", "-crf", String(o.crf ?? 18), "-pix_fmt", "yuv420p"],
    ...["-profile:v", "high", "-movflags", "+faststart"],
    ...(o.audio ? ["-c:a", "aac", "-b:a", "192k", "-shortest"] : []),
    o.out,
  ];
  let count = 0;
  const writeFrames = async (w: Writable) => {
    for await (const f of frames) {
      if (f.width !== o.width || f.height !== o.height || f.data.length !== o.width * o.height * 3)
        throw new ReelError(
          "E_INPUT_INVALID",
          `frame ${count} is ${f.width}x${f.height} (${f.data.length} bytes), expected ${o.width}x${o.height} RGB24`,
        );
      await writeChunk(w, f.data);
      count++;
    }
  };
  const audio = o.audio;
  await runFfmpeg(args, {
    stdin: writeFrames,
    ...(audio
      ? {
          pipes: [
            (w: Writable) =>
              writeChunk(w, new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength)),
          ],
        }
      : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (count === 0) throw new ReelError("E_INPUT_INVALID", "no frames to encode");
}
