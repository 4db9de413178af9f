/**
 * A candidate reel-toy release on the embedded-model test's fixed prompts
 * (src/toyworld/release-prompts.ts): generates each at seeds 0-3 with `reel generate --model
 * DIR`, scores the clips with the toy-world evaluator and prints, per clip, the colour and motion
 * it read and the first object's displacement (dx, dy in frame heights), area ratio and size
 * wobble; then whether the test's colour and direction checks would pass with this model
 * shipped. Run it before shipping: the test checks the shipped model, this checks a candidate.
 *
 *   node bin/run-ts.js scripts/toy/fixed-prompts.ts /work/runs/r18/model [--seeds 4] [--out DIR]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { evaluateVideo, readVideo } from "../../src/toyworld/index.ts";
import { FIXED_MIN_RIGHT, FIXED_PROMPTS, FIXED_SEEDS, movedAsNamed } from "../../src/toyworld/release-prompts.ts";
import { scriptArgs } from "../args.ts";

const USAGE =
  "usage: node bin/run-ts.js scripts/toy/fixed-prompts.ts MODEL_DIR [--seeds N (default 4)] [--out DIR (keep the clips)]";
const { positionals, values } = scriptArgs(USAGE, {
  options: { seeds: { type: "string", default: "4" }, out: { type: "string" } },
  allowPositionals: true,
});
const seeds = Number(values.seeds);
if (positionals.length !== 1 || !Number.isInteger(seeds) || seeds < FIXED_SEEDS.length) {
  process.stderr.write(`expected one model folder and --seeds >= ${FIXED_SEEDS.length}\n${USAGE}\n`);
  process.exit(2);
}
const model = resolve(positionals[0] as string);
const root = resolve(import.meta.dirname, "../..");
const dir = values.out ? resolve(values.out) : mkdtempSync(join(tmpdir(), "reel-fixed-"));

const inTest = (seed: string) => (FIXED_SEEDS as readonly string[]).includes(seed);
let colour = 0;
let colourTest = 0;
let moved = 0;
let movedTest = 0;
let motion = 0;
for (const f of FIXED_PROMPTS)
  for (let s = 0; s < seeds; s++) {
    const seed = String(s);
    const out = join(dir, `${f.colour}-${seed}.mp4`);
    const r = spawnSync(
      process.execPath,
      [join(root, "bin/reel.js"), "generate", f.prompt, "-o", out, "--seed", seed, "--model", model],
      { encoding: "utf8" },
    );
    if (r.status !== 0) {
      process.stderr.write(`reel generate failed on "${f.prompt}" seed ${seed}:\n${r.stderr}`);
      process.exit(1);
    }
    const e = evaluateVideo(await readVideo(out), f.prompt);
    const colourOk = e.attributes.colour?.correct === true;
    const movedOk = movedAsNamed(e.detected.objects, f);
    colour += Number(colourOk);
    moved += Number(movedOk);
    if (inTest(seed)) {
      colourTest += Number(colourOk);
      movedTest += Number(movedOk);
    }
    if (e.attributes.motion?.correct) motion++;
    const o = e.detected.objects[0];
    const geo = o ? `dx ${o.dx} dy ${o.dy} area x${o.areaRatio} wobble ${o.sizeWobble}` : "no object found";
    console.log(
      `${f.colour} ${f.direction} seed ${seed}: colour ${e.attributes.colour?.detected ?? "none"}, moved as named ${movedOk ? "yes" : "no"}, motion label ${e.attributes.motion?.detected ?? "none"}, ${geo}`,
    );
  }
const n = FIXED_PROMPTS.length;
const testN = n * FIXED_SEEDS.length;
const verdict = (k: number) => `${k}/${testN}, ${k >= FIXED_MIN_RIGHT ? "passes" : "FAILS"}`;
console.log(
  `colour right: ${colour}/${n * seeds}; moved as named: ${moved}/${n * seeds}; motion label right: ${motion}/${n * seeds}`,
);
console.log(
  `the embedded-model test (seeds ${FIXED_SEEDS.join(", ")}, each check needs ${FIXED_MIN_RIGHT}/${testN}): colour ${verdict(colourTest)}; direction ${verdict(movedTest)}`,
);
if (!values.out) rmSync(dir, { recursive: true, force: true });
