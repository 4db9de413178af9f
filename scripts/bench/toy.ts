/**
 * `npm run bench -- toy`: end-to-end generation with the embedded model (or --model NAME|PATH
 * in the same layout), reel against a PyTorch peer in the same run.
 *
 * reel: the real CLI, one process per clip (`reel generate PROMPT --json -o clip.mp4`): the
 * wall time a person waits (Node start, model load, text, sampling, decode, MP4) and the
 * pipeline's own total. Peer: reference/bench_toy.py, the same weights through the PyTorch
 * reference modules, same steps/guidance/size, timed in-process (no process start, load or
 * MP4), with the conditional and unconditional passes batched.
 * Prints one JSON line per clip and a summary line.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { scriptArgs } from "../args.ts";
import { resolveModel } from "../../src/models/discovery.ts";
import { UmT5Tokenizer } from "../../src/models/t5/tokenizer.ts";
import { openblasEnv } from "./openblas.ts";

const USAGE = `usage: npm run bench -- toy [--model reel-toy] [--reps 1] [--threads 2] [--no-torch]`;

const PROMPTS = [
  "a red ball bounces to the right over green grass",
  "a small blue square drifts slowly up against a sunset sky",
  "a yellow star moves left on a plain gray background, the camera zooms in",
  "two green triangles move down over a blue sky",
  "a purple circle spins in the middle of an orange gradient",
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchToy(argv: string[]): Promise<void> {
  const { values } = scriptArgs(USAGE, {
    args: argv,
    options: {
      model: { type: "string", default: "reel-toy" },
      reps: { type: "string", default: "1" },
      threads: { type: "string", default: "2" },
      "no-torch": { type: "boolean", default: false },
    },
  });
  const folder = resolveModel(values.model);
  const reps = Number(values.reps);
  const dir = mkdtempSync(join(tmpdir(), "reel-bench-toy-"));
  const root = resolve(import.meta.dirname, "..", "..");
  const reel: number[] = [];
  const pipeline: number[] = [];
  const torch: number[] = [];
  try {
    for (let rep = 0; rep < reps; rep++)
      for (const [i, prompt] of PROMPTS.entries()) {
        const out = join(dir, `clip-${i}.mp4`);
        const t0 = performance.now();
        const r = spawnSync(
          process.execPath,
          [
            join(root, "bin", "reel.js"),
            "generate",
            prompt,
            "--model",
            folder.root,
            "--seed",
            String(i),
            "--threads",
            values.threads,
            "--json",
            "-o",
            out,
          ],
          { encoding: "utf8" },
        );
        const wall = performance.now() - t0;
        if (r.status !== 0) throw new Error(`reel generate failed (${r.status}): ${r.stderr}`);
        const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
          seconds: number;
          timings_ms: Record<string, number>;
        };
        reel.push(wall);
        pipeline.push(summary.seconds * 1000);
        process.stdout.write(
          `${JSON.stringify({ peer: "reel", rep, prompt: i, wall_ms: Math.round(wall), pipeline_ms: summary.seconds * 1000, timings_ms: summary.timings_ms })}\n`,
        );
      }
    if (!values["no-torch"]) {
      const tokPath = folder.components.tokenizer;
      if (!tokPath) throw new Error(`${folder.root}: no tokenizer found`);
      const tok = new UmT5Tokenizer(
        JSON.parse(readFileSync(tokPath.endsWith(".json") ? tokPath : join(tokPath, "tokenizer.json"), "utf8")),
      );
      const textLen = Number(
        (JSON.parse(readFileSync(join(folder.root, "config.json"), "utf8")) as { text_len: number }).text_len,
      );
      const negative = String(((folder.reel?.defaults ?? {}) as { negativePrompt?: string }).negativePrompt ?? "");
      const idsPath = join(dir, "ids.json");
      writeFileSync(
        idsPath,
        JSON.stringify({ prompts: PROMPTS.map((p) => tok.ids(p, textLen)), negative: tok.ids(negative, textLen) }),
      );
      const r = spawnSync(
        "/usr/bin/python3",
        [
          join(root, "reference", "bench_toy.py"),
          "--model",
          folder.root,
          "--ids",
          idsPath,
          "--threads",
          values.threads,
          "--reps",
          String(reps),
        ],
        {
          encoding: "utf8",
          env: { ...process.env, ...openblasEnv(), GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" },
        },
      );
      if (r.status !== 0) throw new Error(`bench_toy.py failed (${r.status}): ${r.stderr}`);
      for (const line of r.stdout.trim().split("\n")) {
        process.stdout.write(`${line}\n`);
        torch.push((JSON.parse(line) as { ms: number }).ms);
      }
    }
    process.stdout.write(
      `${JSON.stringify({
        summary: "toy",
        model: folder.name,
        clips: reel.length,
        reel_cli_wall_s_median: Number((median(reel) / 1000).toFixed(2)),
        reel_pipeline_s_median: Number((median(pipeline) / 1000).toFixed(2)),
        ...(torch.length
          ? {
              torch_s_median: Number((median(torch) / 1000).toFixed(2)),
              reel_pipeline_over_torch: Number((median(pipeline) / median(torch)).toFixed(2)),
            }
          : {}),
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
