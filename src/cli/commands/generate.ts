/**
 * `reel generate "<prompt>" -o out.mp4`: one video from a prompt (and optionally a first or
 * first+last frame) with any model reel finds; the embedded model by default. The MP4 is
 * written to a temporary file and renamed when complete, so a cancelled or failed run never
 * leaves a half-written video.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import type { Device } from "../../engine/runtime.ts";
import { ReelError } from "../../errors.ts";
import { encodeMp4 } from "../../media/encode-video.ts";
import { FrameQueue } from "../../media/frame-queue.ts";
import { readImage } from "../../media/image-io.ts";
import { resolveModel } from "../../models/discovery.ts";
import { generate } from "../../pipelines/generate.ts";
import { parseRequest } from "../../pipelines/request.ts";
import { openWanBundle } from "../../pipelines/wan-model.ts";
import { numberFlag, precisionFlag } from "../flags.ts";
import { progressPrinter } from "../progress-bar.ts";

export const DEFAULT_MODEL = process.env.REEL_DEFAULT_MODEL ?? "reel-toy";

const USAGE = `usage: reel generate "<prompt>" -o FILE.mp4 [options]

  --model NAME|PATH      model name from \`reel models\`, or a model folder (default: ${DEFAULT_MODEL})
  --image FILE           first frame (PNG, JPEG, WebP): image-to-video
  --last-image FILE      last frame too: first-last-frame-to-video
  --size WxH             output size (default: the model's; multiples of the model's grid)
  --frames N             frame count, 4n + 1 (default: the model's)
  --fps N                frames per second of the MP4 (default: the model's)
  --steps N              sampling steps (default: the model's)
  --guidance X           classifier-free guidance scale (1 disables the negative pass)
  --shift X              flow-matching sigma shift
  --sampler NAME         unipc (default), dpm++ or euler
  --seed N               seed; the same model, settings and seed give the same video
  --negative TEXT        negative prompt (default: Wan's)
  --device NAME          cpu (default), cuda or webgpu
  --threads N            CPU threads (default: all cores)
  --precision NAME       f32 (default) or int8 (faster DiT linear layers, small error)
  --preview DIR          write a latent preview PNG per sampling step
  -o, --output FILE      the MP4 to write
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      image: { type: "string" },
      "last-image": { type: "string" },
      size: { type: "string" },
      frames: { type: "string" },
      fps: { type: "string" },
      steps: { type: "string" },
      guidance: { type: "string" },
      shift: { type: "string" },
      sampler: { type: "string" },
      seed: { type: "string" },
      negative: { type: "string" },
      device: { type: "string" },
      threads: { type: "string" },
      precision: { type: "string" },
      preview: { type: "string" },
      output: { type: "string", short: "o" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new ReelError("E_INPUT_INVALID", `generate takes one prompt in quotes, got ${positionals.length}\n${USAGE}`);
  if (!values.output) throw new ReelError("E_INPUT_INVALID", `generate needs -o FILE.mp4\n${USAGE}`);
  const precision = precisionFlag(values.precision);
  let width: number | undefined;
  let height: number | undefined;
  if (values.size !== undefined) {
    const m = /^(\d+)[x*](\d+)$/.exec(values.size);
    if (!m) throw new ReelError("E_INPUT_INVALID", `--size ${values.size}: use WIDTHxHEIGHT, e.g. 832x480`);
    width = Number(m[1]);
    height = Number(m[2]);
  }
  // 1. validate everything at the edge
  const req = parseRequest(
    Object.fromEntries(
      Object.entries({
        prompt: positionals[0],
        negative_prompt: values.negative,
        model: values.model,
        image: values.image,
        last_image: values["last-image"],
        width,
        height,
        frames: numberFlag("frames", values.frames),
        fps: numberFlag("fps", values.fps),
        steps: numberFlag("steps", values.steps),
        guidance: numberFlag("guidance", values.guidance),
        shift: numberFlag("shift", values.shift),
        sampler: values.sampler,
        seed: numberFlag("seed", values.seed),
        device: values.device,
        threads: numberFlag("threads", values.threads),
      }).filter(([, v]) => v !== undefined),
    ),
    "reel generate",
  );
  const out = resolve(values.output);
  if (!out.endsWith(".mp4"))
    throw new ReelError("E_INPUT_INVALID", `-o ${values.output}: the output must be an .mp4 file`);
  const image = req.image ? await readImage(req.image, "--image") : undefined;
  const lastImage = req.last_image ? await readImage(req.last_image, "--last-image") : undefined;

  // 2. model
  const folder = resolveModel(req.model ?? DEFAULT_MODEL);
  const bundle = openWanBundle(folder, {
    runtime: ortRuntime,
    device: (req.device ?? "cpu") as Device,
    ...(req.threads ? { threads: req.threads } : {}),
    ...(precision ? { precision } : {}),
  });
  if (values.preview) mkdirSync(values.preview, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });

  // 3. generate, streaming frames into ffmpeg
  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const tmp = `${out}.partial-${process.pid}.mp4`;
  const queue = new FrameQueue();
  const bar = progressPrinter();
  let encoding: Promise<void> | null = null;
  try {
    const result = await generate(
      bundle,
      {
        prompt: req.prompt,
        ...(req.negative_prompt !== undefined ? { negativePrompt: req.negative_prompt } : {}),
        ...(image ? { image } : {}),
        ...(lastImage ? { lastImage } : {}),
        ...(req.width ? { width: req.width, height: req.height! } : {}),
        ...(req.frames ? { frames: req.frames } : {}),
        ...(req.fps ? { fps: req.fps } : {}),
        ...(req.steps ? { steps: req.steps } : {}),
        ...(req.guidance !== undefined ? { guidance: req.guidance } : {}),
        ...(req.shift !== undefined ? { shift: req.shift } : {}),
        ...(req.sampler ? { sampler: req.sampler } : {}),
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
      },
      {
        onProgress: bar.report,
        signal: ac.signal,
        ...(values.preview ? { previewDir: values.preview } : {}),
        onFrames: async (frames) => {
          const f0 = frames[0];
          if (f0 && encoding === null) {
            const fps = req.fps ?? bundle.defaults.fps;
            encoding = encodeMp4(queue, { out: tmp, width: f0.width, height: f0.height, fps, signal: ac.signal });
            // If ffmpeg fails, stop the producer instead of letting it wait on a full queue.
            encoding.catch((e: unknown) => queue.close(e));
          }
          await queue.push(frames);
        },
      },
    );
    queue.close();
    await encoding;
    bar.end();
    renameSync(tmp, out);
    const summary = {
      output: out,
      model: bundle.name,
      mode: result.mode,
      seed: result.seed,
      size: `${result.width}x${result.height}`,
      frames: result.frames,
      fps: result.fps,
      steps: result.steps,
      sampler: result.sampler,
      shift: result.shift,
      guidance: result.guidance,
      seconds: Number((result.timingsMs.total / 1000).toFixed(2)),
      timings_ms: Object.fromEntries(Object.entries(result.timingsMs).map(([k, v]) => [k, Math.round(v)])),
    };
    process.stdout.write(
      values.json
        ? `${JSON.stringify(summary)}\n`
        : `wrote ${out} (${summary.size}, ${summary.frames} frames at ${summary.fps} fps, seed ${summary.seed}, ${summary.seconds} s)\n`,
    );
    return 0;
  } catch (e) {
    bar.end();
    queue.close(e);
    await (encoding as Promise<void> | null)?.catch(() => {});
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
