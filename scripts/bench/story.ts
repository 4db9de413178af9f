/**
 * `npm run bench -- story`: a three-shot story with the embedded model (or --model), through
 * the real CLI, one process per run:
 *   0. `reel story plan P1 P2 P3 -o film.json`, then a voice line added to each shot (short
 *      enough for the model's 17-frame shots: narration, dialogue, Mandarin narration);
 *   1. `reel story film.json -o film.mp4` from an empty shot cache: the wall time to the
 *      assembled MP4 (three shots, voices, assembly, storyboard, plan);
 *   2. `reel story render film.plan.json --only 2 -o film.mp4`: re-render one shot and
 *      reassemble, the other two from the cache.
 * Each repetition starts from a fresh folder. Prints one JSON line per run and a summary line
 * with the best of the repetitions.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { scriptArgs } from "../args.ts";

const USAGE = `usage: npm run bench -- story [--model reel-toy] [--reps 3] [--threads 2]`;

const PROMPTS = [
  "a red ball bounces to the right over green grass",
  "it rolls to the left",
  "later a blue square slides down over a sand background",
];

interface Summary {
  rendered: number[];
  cached: number[];
  seconds: number;
  timings_ms: Record<string, number>;
}

export async function benchStory(argv: string[]): Promise<void> {
  const { values } = scriptArgs(USAGE, {
    args: argv,
    options: {
      model: { type: "string", default: "reel-toy" },
      reps: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
    },
  });
  const root = resolve(import.meta.dirname, "..", "..");
  const reel = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [join(root, "bin", "reel.js"), "story", ...args, "--model", values.model, "--threads", values.threads, "--json"],
      { encoding: "utf8" },
    );
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`reel story failed (${r.status}): ${r.stderr}`);
    return { wall, summary: JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Summary & { plan?: string } };
  };
  const full: number[] = [];
  const one: number[] = [];
  for (let rep = 0; rep < Number(values.reps); rep++) {
    const dir = mkdtempSync(join(tmpdir(), "reel-bench-story-"));
    try {
      const out = join(dir, "film.mp4");
      const storyFile = join(dir, "film.json");
      const planned = reel(["plan", ...PROMPTS, "--seed", String(rep), "-o", storyFile]);
      const story = JSON.parse(readFileSync(storyFile, "utf8")) as { shots: Record<string, unknown>[] };
      story.shots[0]!.narration = { text: "Morning.", language: "en" };
      story.shots[1]!.dialogue = { character: "ball", text: "Wheee!", language: "en" };
      story.shots[2]!.narration = { text: "晚上。", language: "cmn" };
      writeFileSync(storyFile, JSON.stringify(story));
      const a = reel([storyFile, "-o", out]);
      if (a.summary.rendered.length !== 3) throw new Error(`expected 3 rendered shots, got ${a.summary.rendered}`);
      full.push(a.wall);
      process.stdout.write(
        `${JSON.stringify({ run: "three-shot story", rep, plan_wall_ms: Math.round(planned.wall), wall_ms: Math.round(a.wall), film_s: a.summary.seconds, timings_ms: a.summary.timings_ms })}\n`,
      );
      const b = reel(["render", join(dir, "film.plan.json"), "--only", "2", "-o", out]);
      if (b.summary.rendered.join() !== "2" || b.summary.cached.join() !== "1,3")
        throw new Error(`expected shot 2 rendered and 1, 3 cached, got ${JSON.stringify(b.summary)}`);
      one.push(b.wall);
      process.stdout.write(
        `${JSON.stringify({ run: "re-render shot 2", rep, wall_ms: Math.round(b.wall), timings_ms: b.summary.timings_ms })}\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    `${JSON.stringify({ summary: "story", model: values.model, threads: Number(values.threads), reps: full.length, three_shot_story_s: Number((Math.min(...full) / 1000).toFixed(2)), rerender_one_shot_s: Number((Math.min(...one) / 1000).toFixed(2)) })}\n`,
  );
}
