/**
 * Where a model's motions go wrong: generates the one-object prompts of a prompts file that
 * name a motion (seed = the prompt's line index, as `reel eval --prompts` does), and prints per
 * clip, as JSON lines, the motion wanted, the evaluator's motion check (what it read, right or
 * not), the camera's zoom estimate, and for the largest detected object the area ratio its
 * motion was read from and its raw area in every frame it was seen in (thousandths of the frame,
 * before any camera correction). Then a summary line: motion checks right, and the mean |ln area
 * ratio| over the clips with an object (0 for sizes held).
 *
 *   node bin/run-ts.js scripts/toy/object-areas.ts MODEL_DIR PROMPTS_FILE [--count 30]
 *        [--only 10,18,22] [--strips DIR] [--steps N] [--guidance G] [--sampler unipc|euler]
 *
 * --strips DIR writes each clip's frames side by side as DIR/<line>.png, to look at.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ReelError } from "../../src/errors.ts";
import { ortRuntime } from "../../src/engine/runtime-ort.ts";
import type { RgbFrame } from "../../src/media/frames.ts";
import { writePng } from "../../src/media/image-io.ts";
import { resolveModel } from "../../src/models/discovery.ts";
import { generate } from "../../src/pipelines/generate.ts";
import { parseRequest } from "../../src/pipelines/request.ts";
import { openWanBundle } from "../../src/pipelines/wan-model.ts";
import { analyzeVideo } from "../../src/toyworld/analyze.ts";
import { scoreAnalysis } from "../../src/toyworld/evaluate.ts";
import { parsePrompt } from "../../src/toyworld/parse.ts";
import { scriptArgs } from "../args.ts";

const USAGE = `usage: node bin/run-ts.js scripts/toy/object-areas.ts MODEL_DIR PROMPTS_FILE [--count 30]
       [--only 10,18,22] [--strips DIR] [--steps N] [--guidance G] [--sampler unipc|euler]`;
const { positionals, values } = scriptArgs(USAGE, {
  options: {
    count: { type: "string", default: "30" },
    only: { type: "string" },
    strips: { type: "string" },
    steps: { type: "string" },
    guidance: { type: "string" },
    sampler: { type: "string" },
  },
  allowPositionals: true,
});
const count = Number(values.count);
if (positionals.length !== 2 || !Number.isInteger(count) || count < 1) {
  process.stderr.write(`expected a model folder, a prompts file and --count >= 1\n${USAGE}\n`);
  process.exit(2);
}
const [model, promptsFile] = positionals as [string, string];
const prompts = readFileSync(promptsFile, "utf8").split("\n").filter(Boolean);
const only = values.only ? new Set(values.only.split(",").map(Number)) : null;
// Sampling options checked once with generate's own rules.
let settings: ReturnType<typeof parseRequest>;
try {
  settings = parseRequest(
    Object.fromEntries(
      Object.entries({
        prompt: "x",
        steps: values.steps === undefined ? undefined : Number(values.steps),
        guidance: values.guidance === undefined ? undefined : Number(values.guidance),
        sampler: values.sampler,
      }).filter(([, v]) => v !== undefined),
    ),
    "object-areas",
  );
} catch (err) {
  process.stderr.write(`${err instanceof ReelError ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
}
const sampling = Object.fromEntries(
  (["steps", "guidance", "sampler"] as const).flatMap((k) => (settings[k] === undefined ? [] : [[k, settings[k]]])),
);
if (values.strips) mkdirSync(values.strips, { recursive: true });

/** The frames of a clip side by side. */
function strip(frames: readonly RgbFrame[]): RgbFrame {
  const { width: W, height: H } = frames[0]!;
  const k = frames.length;
  const data = new Uint8Array(W * k * H * 3);
  frames.forEach((f, t) => {
    for (let y = 0; y < H; y++) data.set(f.data.subarray(y * W * 3, (y + 1) * W * 3), (y * W * k + t * W) * 3);
  });
  return { width: W * k, height: H, data } as RgbFrame;
}

const bundle = openWanBundle(resolveModel(model), { runtime: ortRuntime, device: "cpu" });
let done = 0;
let right = 0;
let logRatio = 0;
let withObject = 0;
for (const [i, prompt] of prompts.entries()) {
  if (done >= count) break;
  const parsed = parsePrompt(prompt);
  const want = parsed.objects.length === 1 ? parsed.objects[0]!.motion : undefined;
  if (!want || (only && !only.has(i))) continue;
  done++;
  const frames: RgbFrame[] = [];
  await generate(bundle, { prompt, seed: i, ...sampling }, { onFrames: (f) => void frames.push(...f) });
  if (values.strips) await writePng(join(values.strips, `${i}.png`), strip(frames));
  const analysis = analyzeVideo(frames);
  const check = scoreAnalysis(analysis, parsed).attributes.motion;
  right += Number(check?.correct ?? false);
  const largest = analysis.objects[0];
  if (largest) {
    withObject++;
    logRatio += Math.abs(Math.log(largest.detail.areaRatio));
  }
  console.log(
    JSON.stringify({
      line: i,
      prompt,
      want,
      got: check?.detected ?? null,
      right: check?.correct ?? false,
      logZoom: Number(analysis.cameraDetail.logZoom.toFixed(2)),
      areaRatio: largest ? Number(largest.detail.areaRatio.toFixed(2)) : null,
      areas: largest ? largest.areas.map((a) => Math.round(1000 * a)) : [],
    }),
  );
}
console.log(
  JSON.stringify({
    clips: done,
    motionRight: right,
    meanAbsLogAreaRatio: withObject ? Number((logRatio / withObject).toFixed(3)) : null,
  }),
);
