/**
 * `reel eval`: scores videos against their prompts with the toy-world evaluator and prints
 * per-attribute accuracy and an overall score as JSON.
 *   reel eval --videos DIR [--details FILE]     existing videos (captions.jsonl + mp4/png/npy)
 *   reel eval --model NAME --prompts FILE       generate one video per prompt, then score them
 * `--details FILE` also writes one JSON line per video (every check, what was detected), for
 * finding out why a model misses an attribute rather than only how often.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { ReelError } from "../../errors.ts";
import type { RgbFrame } from "../../media/frames.ts";
import { resolveModel } from "../../models/discovery.ts";
import { generate } from "../../pipelines/generate.ts";
import { parseRequest } from "../../pipelines/request.ts";
import { openWanBundle } from "../../pipelines/wan-model.ts";
import { aggregate, evaluateVideo, iterateSampleFolder, type VideoEvaluation } from "../../toyworld/index.ts";
import { numberFlag, precisionFlag } from "../flags.ts";
import { DEFAULT_MODEL } from "./generate.ts";

const USAGE = `usage:
  reel eval --videos DIR [--details FILE]
  reel eval --prompts FILE [--model NAME] [--limit N] [--seed S] [--steps N] [--guidance X] [--shift X]
            [--sampler unipc|dpm++|euler] [--precision f32|int8] [--details FILE]

  Prompt i (from 0) is generated with seed S + i (S defaults to 0). Prints per-attribute accuracy
  (with misses: what was detected where the check failed; byExpected: accuracy by the value the
  prompt named) and an overall score as JSON;
  --details FILE writes one JSON line per video with every check (expected, detected, correct)
  and the objects (with the displacement dx, dy in frame heights and the last/first area ratio
  their motion was read from), background and camera the evaluator found.
`;

/** One JSON line per video: enough to see why an attribute was missed. */
function writeDetails(file: string, evals: readonly VideoEvaluation[], ids: readonly string[]): void {
  const lines = evals.map((e, i) =>
    JSON.stringify({
      id: ids[i],
      prompt: e.prompt,
      score: e.score,
      checks: e.checks,
      directions: e.directions,
      detected: e.detected,
      quality: e.quality,
    }),
  );
  writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
}

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
      shift: { type: "string" },
      sampler: { type: "string" },
      details: { type: "string" },
      precision: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.videos) {
    const evals: VideoEvaluation[] = [];
    const ids: string[] = [];
    for await (const it of iterateSampleFolder(values.videos)) {
      evals.push(evaluateVideo(it.frames, it.prompt));
      ids.push(it.id ?? String(ids.length));
    }
    if (values.details) writeDetails(values.details, evals, ids);
    process.stdout.write(`${JSON.stringify(aggregate(evals, ids), null, 2)}\n`);
    return 0;
  }
  const precision = precisionFlag(values.precision);
  if (!values.prompts) throw new ReelError("E_INPUT_INVALID", `eval needs --videos DIR or --prompts FILE\n${USAGE}`);
  let prompts = readFileSync(values.prompts, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new ReelError("E_INPUT_INVALID", `--limit ${values.limit}: a whole number of prompts, at least 1`);
    prompts = prompts.slice(0, limit);
  }
  if (prompts.length === 0) throw new ReelError("E_INPUT_INVALID", `${values.prompts}: no prompts`);
  const seed0 = numberFlag("seed", values.seed) ?? 0;
  // Validate the sampling options once, at the edge, with the same rules as `reel generate`.
  const settings = parseRequest(
    Object.fromEntries(
      Object.entries({
        prompt: prompts[0],
        seed: seed0 + prompts.length - 1,
        steps: numberFlag("steps", values.steps),
        guidance: numberFlag("guidance", values.guidance),
        shift: numberFlag("shift", values.shift),
        sampler: values.sampler,
      }).filter(([, v]) => v !== undefined),
    ),
    "reel eval",
  );
  const bundle = openWanBundle(resolveModel(values.model ?? DEFAULT_MODEL), {
    runtime: ortRuntime,
    device: "cpu",
    ...(precision ? { precision } : {}),
  });
  const evals: VideoEvaluation[] = [];
  const t0 = performance.now();
  for (const [i, prompt] of prompts.entries()) {
    const frames: RgbFrame[] = [];
    await generate(
      bundle,
      {
        prompt,
        seed: seed0 + i,
        ...(settings.steps !== undefined ? { steps: settings.steps } : {}),
        ...(settings.guidance !== undefined ? { guidance: settings.guidance } : {}),
        ...(settings.shift !== undefined ? { shift: settings.shift } : {}),
        ...(settings.sampler !== undefined ? { sampler: settings.sampler } : {}),
      },
      { onFrames: (f) => void frames.push(...f) },
    );
    evals.push(evaluateVideo(frames, prompt));
    process.stderr.write(`evaluated ${i + 1}/${prompts.length} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  const ids = prompts.map((_, i) => String(i));
  const report = aggregate(evals, ids);
  if (values.details) writeDetails(values.details, evals, ids);
  process.stdout.write(`${JSON.stringify({ model: bundle.name, prompts: prompts.length, ...report }, null, 2)}\n`);
  return 0;
}
