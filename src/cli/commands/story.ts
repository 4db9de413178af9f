/**
 * `reel story`: a short film from a few prompts or a story file.
 *
 *   reel story "p1" "p2" "p3" -o out.mp4     plan (offline, or a language model) and render
 *   reel story film.yaml -o out.mp4          render a story file
 *   reel story plan "p1" "p2" -o plan.json   write the plan only (JSON or YAML), to edit
 *   reel story render plan.json -o out.mp4 [--only N]   render a plan; --only re-renders shot N
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import type { Device } from "../../engine/runtime.ts";
import { ReelError } from "../../errors.ts";
import { resolveModel } from "../../models/discovery.ts";
import { planStoryWithLlm, plannerConfigFromEnv } from "../../pipelines/story/llm-planner.ts";
import { type PlanOptions, planStory } from "../../pipelines/story/planner.ts";
import { renderStory } from "../../pipelines/story/render.ts";
import { type Character, parseStory, readStoryFile, type Story } from "../../pipelines/story/schema.ts";
import { randomSeed } from "../../pipelines/noise.ts";
import { openWanBundle, type WanBundle } from "../../pipelines/wan-model.ts";
import { progressPrinter } from "../progress-bar.ts";
import { DEFAULT_MODEL } from "./generate.ts";

const USAGE = `usage:
  reel story "<prompt>" "<prompt>" ... -o FILE.mp4 [plan options] [render options]
  reel story STORY.yaml|STORY.json -o FILE.mp4 [render options]
  reel story plan "<prompt>" ... -o PLAN.json|PLAN.yaml [plan options]
  reel story render PLAN.json|PLAN.yaml -o FILE.mp4 [--only N[,N...]] [render options]

plan options:
  --planner NAME         offline (deterministic, default) or llm (an OpenAI-compatible chat
                         endpoint: REEL_PLANNER_URL, REEL_PLANNER_KEY, REEL_PLANNER_MODEL;
                         used by default when REEL_PLANNER_URL is set)
  --title TEXT           the film's title (default: the first prompt)
  --style TEXT           the style line added to every shot
  --character NAME=DESC  a character (repeatable); default: the first prompt's subject
  --duration SECONDS     length of each shot (default: the model's clip length)
  --coverage 1|2         shots per prompt (2 adds a closer angle)
  --narrate LANG         speak each prompt as narration (espeak-ng language: en, cmn, fr, ...)
  --seed N               the story's seed (default: random, written into the plan;
                         with a story file, overrides its seed)
  --plan-only            write FILE.plan.json beside -o and stop (edit it, then \`reel story render\`)

render options:
  --model NAME|PATH      model (default: the story's, else ${DEFAULT_MODEL})
  --only N[,N...]        render these shots (1-based) even if cached; the others come from the cache
  --soundtrack FILE      an audio file mixed under the voices, ducked while they speak
  --burn-subtitles       burn the subtitles into the picture (.vtt/.srt are always written)
  --cache DIR            shot cache folder (default: the one a resolved plan names, else
                         FILE.shots/ beside the MP4)
  --device NAME          cpu (default), cuda or webgpu
  --threads N            CPU threads
  --precision NAME       f32 (default) or int8
  --json                 print a JSON summary
  -o, --output FILE      the MP4 (render) or the plan file (plan)
`;

const OPTIONS = {
  planner: { type: "string" },
  title: { type: "string" },
  style: { type: "string" },
  character: { type: "string", multiple: true },
  duration: { type: "string" },
  coverage: { type: "string" },
  narrate: { type: "string" },
  seed: { type: "string" },
  "plan-only": { type: "boolean" },
  model: { type: "string" },
  only: { type: "string" },
  soundtrack: { type: "string" },
  "burn-subtitles": { type: "boolean" },
  cache: { type: "string" },
  device: { type: "string" },
  threads: { type: "string" },
  precision: { type: "string" },
  json: { type: "boolean" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function num(flag: string, v: string | undefined, check: (n: number) => boolean, rule: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new ReelError("E_INPUT_INVALID", `--${flag} ${v}: ${rule}`);
  return n;
}

function openBundle(model: string, v: Values): WanBundle {
  if (v.precision !== undefined && v.precision !== "f32" && v.precision !== "int8")
    throw new ReelError("E_INPUT_INVALID", `--precision ${v.precision}: allowed are f32, int8`);
  const threads = num("threads", v.threads, (n) => Number.isInteger(n) && n > 0, "a positive integer");
  return openWanBundle(resolveModel(model), {
    runtime: ortRuntime,
    device: (v.device ?? "cpu") as Device,
    ...(threads ? { threads } : {}),
    ...(v.precision ? { precision: v.precision as "f32" | "int8" } : {}),
  });
}

async function plan(prompts: string[], v: Values, bundle: WanBundle): Promise<Story> {
  if (prompts.length === 0) throw new ReelError("E_INPUT_INVALID", `give at least one prompt\n${USAGE}`);
  const characters: Character[] = (v.character ?? []).map((c) => {
    const i = c.indexOf("=");
    if (i < 1 || i === c.length - 1)
      throw new ReelError("E_INPUT_INVALID", `--character ${c}: use NAME=DESCRIPTION, e.g. fox="a small red fox"`);
    return { name: c.slice(0, i).trim(), description: c.slice(i + 1).trim() };
  });
  const coverage = num("coverage", v.coverage, (n) => n === 1 || n === 2, "allowed are 1, 2") as 1 | 2 | undefined;
  const o: PlanOptions = {
    duration:
      num("duration", v.duration, (n) => n > 0 && n <= 60, "seconds in (0, 60]") ??
      bundle.defaults.frames / bundle.defaults.fps,
    seed:
      num("seed", v.seed, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32, "an integer in [0, 2^32)") ??
      randomSeed(),
    ...(v.title ? { title: v.title } : {}),
    ...(v.style !== undefined ? { style: v.style } : {}),
    ...(characters.length ? { characters } : {}),
    ...(coverage ? { coverage } : {}),
    ...(v.narrate ? { narrate: v.narrate } : {}),
    ...(v.model ? { model: v.model } : {}),
  };
  const llm = plannerConfigFromEnv();
  const which = v.planner ?? (llm ? "llm" : "offline");
  if (which === "offline") return planStory(prompts, o);
  if (which !== "llm") throw new ReelError("E_INPUT_INVALID", `--planner ${which}: allowed are offline, llm`);
  if (!llm) throw new ReelError("E_INPUT_INVALID", "--planner llm needs REEL_PLANNER_URL (and REEL_PLANNER_KEY)");
  process.stderr.write(`planning with ${llm.model} at ${llm.url}\n`);
  return planStoryWithLlm(prompts, o, llm);
}

function writePlan(path: string, story: Story): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, /\.ya?ml$/i.test(path) ? toYaml(story) : `${JSON.stringify(story, null, 2)}\n`);
}

/** A resolved plan (out.plan.json) names the shot cache it was rendered with: reuse it. */
function previousCache(file: string): string | undefined {
  if (!/\.json$/i.test(file)) return undefined;
  try {
    const dir = (JSON.parse(readFileSync(file, "utf8")) as { resolved?: { outputs?: { cache?: unknown } } }).resolved
      ?.outputs?.cache;
    return typeof dir === "string" && existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const isStoryFile = (p: string) => /\.(ya?ml|json)$/i.test(p) && existsSync(p);

export async function run(args: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!v.output) throw new ReelError("E_INPUT_INVALID", `story needs -o FILE\n${USAGE}`);
  const out = resolve(v.output);
  const [sub, ...rest] = positionals;

  if (sub === "plan") {
    if (!/\.(json|ya?ml)$/i.test(out))
      throw new ReelError("E_INPUT_INVALID", `-o ${v.output}: a plan is a .json, .yaml or .yml file`);
    const story = await plan(rest, v, openBundle(v.model ?? DEFAULT_MODEL, v));
    writePlan(out, story);
    process.stdout.write(
      v.json
        ? `${JSON.stringify({ plan: out, shots: story.shots.length })}\n`
        : `wrote ${out} (${story.shots.length} shots)\n`,
    );
    return 0;
  }

  if (!out.endsWith(".mp4")) throw new ReelError("E_INPUT_INVALID", `-o ${v.output}: the output must be an .mp4 file`);
  let story: Story;
  let baseDir = process.cwd();
  let cacheDir = v.cache ? resolve(v.cache) : undefined;
  let bundle: WanBundle;
  if (sub === "render" || (positionals.length === 1 && sub !== undefined && isStoryFile(sub))) {
    const file = sub === "render" ? rest[0] : sub;
    if (file === undefined || (sub === "render" && rest.length !== 1))
      throw new ReelError("E_INPUT_INVALID", `story render takes one plan file\n${USAGE}`);
    if (!existsSync(file)) throw new ReelError("E_INPUT_INVALID", `plan file ${file} does not exist`);
    story = readStoryFile(file);
    baseDir = dirname(resolve(file));
    cacheDir = v.cache ? resolve(v.cache) : previousCache(file);
    bundle = openBundle(v.model ?? story.model ?? DEFAULT_MODEL, v);
  } else {
    bundle = openBundle(v.model ?? DEFAULT_MODEL, v);
    story = await plan(positionals, v, bundle);
    if (v["plan-only"]) {
      const p = out.replace(/\.mp4$/i, ".plan.json");
      writePlan(p, story);
      process.stdout.write(
        `wrote ${p} (${story.shots.length} shots); render it with: reel story render ${p} -o ${out}\n`,
      );
      return 0;
    }
  }
  if (v.soundtrack) story = parseStory({ ...story, soundtrack: resolve(v.soundtrack) }, "--soundtrack");
  if (v.seed !== undefined && story.seed !== Number(v.seed))
    story = parseStory({ ...story, seed: Number(v.seed) }, "--seed");
  const only = v.only?.split(",").map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 1) throw new ReelError("E_INPUT_INVALID", `--only ${v.only}: shot numbers from 1`);
    return n;
  });

  const ac = new AbortController();
  const onSignal = () => ac.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const bar = progressPrinter();
  try {
    const r = await renderStory(story, {
      bundle,
      out,
      baseDir,
      ...(cacheDir ? { cacheDir } : {}),
      ...(only ? { only } : {}),
      ...(v.precision ? { precision: v.precision as "f32" | "int8" } : {}),
      ...(v["burn-subtitles"] ? { burnSubtitles: true } : {}),
      signal: ac.signal,
      onProgress: (_shot, p) => bar.report(p),
      onShot: (e) => {
        bar.end();
        const what =
          e.status === "cached"
            ? "from cache"
            : e.status === "rendering"
              ? "rendering"
              : `rendered in ${((e.ms ?? 0) / 1000).toFixed(1)} s`;
        process.stderr.write(`shot ${e.shot}/${e.total}: ${what} (${e.key.slice(0, 12)})\n`);
      },
      warn: (m) => process.stderr.write(`reel: warning: ${m}\n`),
    });
    bar.end();
    const summary = {
      output: r.out,
      plan: r.plan,
      storyboard: r.storyboard,
      vtt: r.vtt,
      srt: r.srt,
      cache: r.cacheDir,
      model: bundle.name,
      shots: story.shots.length,
      rendered: r.rendered,
      cached: r.cached,
      seconds: Number(r.seconds.toFixed(3)),
      timings_ms: Object.fromEntries(Object.entries(r.timingsMs).map(([k, x]) => [k, Math.round(x)])),
    };
    process.stdout.write(
      v.json
        ? `${JSON.stringify(summary)}\n`
        : `wrote ${r.out} (${story.shots.length} shots, ${summary.seconds} s; rendered ${r.rendered.length}, cached ${r.cached.length}, ${(r.timingsMs.total / 1000).toFixed(1)} s)\n` +
            `  plan ${r.plan}\n  storyboard ${r.storyboard}\n  subtitles ${r.vtt}, ${r.srt}\n`,
    );
    return 0;
  } finally {
    bar.end();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
