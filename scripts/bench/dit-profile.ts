/**
 * `npm run bench -- dit-profile [--layers 4] [--tokens 7800] [--threads 2]`: where one reel DiT
 * forward spends its time, by ONNX op type, from ORT's own profiler (REEL_ORT_PROFILE). Uses the
 * deterministic random weights `bench dit --layers N` writes; the first run (session creation,
 * weight paging) is left out of the table, the second is reported.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { scriptArgs } from "../args.ts";
import { ortRuntime } from "../../src/engine/runtime-ort.ts";
import { loadAll } from "../../src/engine/safetensors.ts";
import { weightMapFromFiles } from "../../src/engine/weights.ts";
import { parseWanConfig, preset } from "../../src/models/wan/config.ts";
import { WanDiT } from "../../src/models/wan/model.ts";
import { BENCH_DIR, benchWeightsPath } from "./dit.ts";

const USAGE = `usage: npm run bench -- dit-profile [--layers 4] [--tokens 7800] [--threads 2] [--dir DIR]`;

interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

export async function benchDitProfile(argv: string[]): Promise<void> {
  const { values } = scriptArgs(USAGE, {
    args: argv,
    options: {
      layers: { type: "string", default: "4" },
      tokens: { type: "string", default: "7800" },
      threads: { type: "string", default: "2" },
      dir: { type: "string", default: BENCH_DIR },
    },
  });
  const layers = Number(values.layers);
  const weights = benchWeightsPath(values.dir, layers, preset("t2v-1.3B").num_layers);
  const inputs = join(values.dir, `inputs-${values.tokens}.safetensors`);
  for (const f of [weights, inputs])
    if (!existsSync(f))
      throw new Error(
        `${f} is missing: run \`npm run bench -- dit --layers ${layers} --tokens ${values.tokens}\` once`,
      );
  if (!process.env.REEL_ORT_PROFILE) process.env.REEL_ORT_PROFILE = join(tmpdir(), `reel-profile-${process.pid}`);
  const cfg = parseWanConfig({ ...preset("t2v-1.3B"), num_layers: layers }, "profile config");
  const model = new WanDiT(cfg, weightMapFromFiles([weights]), {
    runtime: ortRuntime,
    device: "cpu",
    threads: Number(values.threads),
  });
  const io = loadAll(inputs).tensors;
  const input = { x: io.get("x")!, t: [...(io.get("t")!.data as Float32Array)], context: io.get("context")! };
  const ms: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await model.forward(input);
    ms.push(performance.now() - t0);
  }
  await model.release();
  const dir = dirname(resolve(process.env.REEL_ORT_PROFILE));
  const prefix = basename(process.env.REEL_ORT_PROFILE);
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".json"))
    .map((f) => join(dir, f))
    .pop();
  if (!file) throw new Error(`no ORT profile with prefix ${process.env.REEL_ORT_PROFILE} was written`);
  const events = JSON.parse(readFileSync(file, "utf8")) as TraceEvent[];
  rmSync(file);
  // Events of the second run: after the second "model_run" session event starts.
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const secondStart = events.indexOf(runs[0]!) + 1;
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events.slice(secondStart)) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    const op = e.args?.op_name ?? "?";
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  process.stdout.write(
    `${JSON.stringify({ bench: "dit-profile", layers, tokens: Number(values.tokens), run_ms: ms.map(Math.round) })}\n`,
  );
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(
      `${op.padEnd(32)} ${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1)}%\n`,
    );
  }
}
