/**
 * `reel eval`: scores videos against their prompts with the toy-world evaluator and prints
 * per-attribute accuracy and an overall score as JSON.
 *   reel eval --videos DIR                      existing videos (captions.jsonl + mp4/png/npy)
 *   reel eval --model NAME --prompts FILE       generate one video per prompt, then score them
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { ReelError } from "../../errors.ts";
import type { RgbFrame } from "../../media/frames.ts";
import { resolveModel } from "../../models/discovery.ts";
import { generate } from "../../pipelines/generate.ts";
import { openWanBundle } from "../../pipelines/wan-model.ts";
import { aggregate, evaluateFolder, evaluateVideo } from "../../toyworld/index.ts";
import { DEFAULT_MODEL } from "./generate.ts";

const USAGE = `usage:
  reel eval --videos DIR
  reel eval --prompts FILE [--model NAME] [--limit N] [--seed S] [--steps N] [--guidance X] [--precision f32|int8]
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      videos: { type: "string" },
      prompts: { type: "string" },
      model: { type: "string" },
      limit: { type: "string" },
      seed: { type: "string", default: "0" },
      steps: { type: "string" },
      guidance: { type: "string" },
      precision: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.videos) {
    process.stdout.write(`${JSON.stringify(await evaluateFolder(values.videos), null, 2)}\n`);
    return 0;
  }
  if (!values.prompts) throw new ReelError("E_INPUT_INVALID", `eval needs --videos DIR or --prompts FILE\n${USAGE}`);
  let prompts = readFileSync(values.prompts, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (values.limit) prompts = prompts.slice(0, Number(values.limit));
  if (prompts.length === 0) throw new ReelError("E_INPUT_INVALID", `${values.prompts}: no prompts`);
  const bundle = openWanBundle(resolveModel(values.model ?? DEFAULT_MODEL), {
    runtime: ortRuntime,
    device: "cpu",
    ...(values.precision === "int8" ? { precision: "int8" as const } : {}),
  });
  const evals = [];
  const t0 = performance.now();
  for (const [i, prompt] of prompts.entries()) {
    const frames: RgbFrame[] = [];
    await generate(
      bundle,
      {
        prompt,
        seed: Number(values.seed) + i,
        ...(values.steps ? { steps: Number(values.steps) } : {}),
        ...(values.guidance ? { guidance: Number(values.guidance) } : {}),
      },
      { onFrames: (f) => void frames.push(...f) },
    );
    evals.push(evaluateVideo(frames, prompt));
    process.stderr.write(`evaluated ${i + 1}/${prompts.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const report = aggregate(
    evals,
    prompts.map((_, i) => String(i)),
  );
  process.stdout.write(`${JSON.stringify({ model: bundle.name, prompts: prompts.length, ...report }, null, 2)}\n`);
  return 0;
}
