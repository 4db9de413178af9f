/**
 * A reel benchmark worker: one process per configuration, so peak RSS is measured per
 * configuration. Speaks the same JSON-lines protocol as reference/bench_worker.py:
 *   {"cmd":"load","weights":PATH,"config":{...},"threads":N,"precision":"f32"|"int8","ffn_rows":N?} → {"ok":true,"load_ms":F}
 *   {"cmd":"run","inputs":PATH,"output":PATH?} → {"ok":true,"ms":F,"peak_rss_mb":F}
 *   {"cmd":"quit"}
 * The first run of a shape compiles the session and pages the weights in; callers time later runs.
 */
import { createInterface } from "node:readline";
import { ortRuntime } from "../../src/engine/runtime-ort.ts";
import { loadAll, writeSafetensors } from "../../src/engine/safetensors.ts";
import { weightMapFromFiles } from "../../src/engine/weights.ts";
import { parseWanConfig } from "../../src/models/wan/config.ts";
import { WanDiT } from "../../src/models/wan/model.ts";
import { linearInt8Blocks } from "../../src/models/wan/transformer.ts";
import { peakRssMb, resetPeakRss } from "./rss.ts";

let model: WanDiT | null = null;

async function handle(req: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (req.cmd === "load") {
    const t0 = performance.now();
    const int8 = req.precision === "int8";
    model = new WanDiT(parseWanConfig(req.config, "bench config"), weightMapFromFiles([String(req.weights)]), {
      runtime: ortRuntime,
      device: "cpu",
      threads: Number(req.threads ?? 2),
      ...(int8 ? { linear: linearInt8Blocks, linearName: "int8" } : {}),
      ...(req.ffn_rows !== undefined ? { ffnRows: Number(req.ffn_rows) } : {}),
    });
    return { ok: true, load_ms: performance.now() - t0 };
  }
  if (req.cmd === "run") {
    if (model === null) throw new Error("run before load");
    const io = loadAll(String(req.inputs)).tensors;
    const input = {
      x: io.get("x")!,
      t: [...(io.get("t")!.data as Float32Array)],
      context: io.get("context")!,
    };
    const { shape } = model.prepare(input);
    const tc = performance.now();
    await model.session(shape);
    const compileMs = performance.now() - tc;
    resetPeakRss();
    const t0 = performance.now();
    const r = await model.forward(input);
    const ms = performance.now() - t0;
    const peak = peakRssMb();
    if (typeof req.output === "string") writeSafetensors(req.output, { out: r.out! });
    return { ok: true, ms, peak_rss_mb: peak, compile_ms: compileMs };
  }
  if (req.cmd === "quit") return { ok: true };
  throw new Error(`unknown cmd ${String(req.cmd)}`);
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let res: Record<string, unknown>;
  let quit = false;
  try {
    const req = JSON.parse(line) as Record<string, unknown>;
    quit = req.cmd === "quit";
    res = await handle(req);
  } catch (e) {
    res = { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  process.stdout.write(`${JSON.stringify(res)}\n`);
  if (quit) break;
}
process.exit(0);
