/**
 * `npm run bench -- dit`: one forward pass of the Wan 2.1 T2V-1.3B DiT (deterministic random
 * weights made locally, never downloaded) at 1,560 and 7,800 tokens, reel against the PyTorch
 * reference on the same weights in the same run, interleaved round-robin. Prints one JSON line
 * per (tokens, reel precision):
 *   bench, tokens, precision, reel_ms, torch_f32_ms, torch_bf16_ms, ratio_vs_f32, ratio_vs_bf16,
 *   gflops, peak_rss_mb, max_rel_err
 * Times are the minimum over the repetitions (the 2-vCPU VM has noisy neighbours; see
 * shared/docs/backend-measurements.md §0); medians go to stderr.
 */
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { scriptArgs } from "../args.ts";
import { writeRandomWeights } from "../../src/engine/random-weights.ts";
import { loadAll, writeSafetensors } from "../../src/engine/safetensors.ts";
import { f32 } from "../../src/engine/tensor.ts";
import { weightMapFromFiles } from "../../src/engine/weights.ts";
import { preset, type WanConfig } from "../../src/models/wan/config.ts";
import { wanParams } from "../../src/models/wan/model.ts";
import { FFN_ROWS } from "../../src/models/wan/transformer.ts";
import { cpuHasAvx512, cpuHasBf16 } from "./openblas.ts";
import { BenchWorker } from "./worker.ts";

const USAGE = `usage: npm run bench -- dit [--tokens 1560,7800] [--reps 3] [--reps-large 2] [--threads 2] [--precisions f32,int8]
         [--dir DIR] [--no-torch] [--torch-bf16 auto|on|off] [--layers N] [--ffn-rows N]`;

/** Latent sizes for a token count at 480×832 (latent 60×104, grid 30×52 = 1,560 tokens per latent frame). */
const SHAPES: Record<number, [number, number, number]> = { 1560: [1, 60, 104], 7800: [5, 60, 104] };

/** Where the benchmarks keep their random weights and inputs. */
export const BENCH_DIR = join(process.env.REEL_CACHE_DIR ?? join(homedir(), ".cache", "reel"), "bench");

/** The deterministic random weights of the T2V-1.3B model, or of its first `layers` blocks. */
export function benchWeightsPath(dir: string, layers: number, full: number): string {
  const slice = layers === full ? "" : `-${layers}blocks`;
  return join(dir, `wan21-t2v-1.3B${slice}-random-seed0.safetensors`);
}

/** Multiply-add FLOPs of one WanModel forward (×2 per MAC), dominated by blocks. */
export function wanFlops(c: WanConfig, L: number): number {
  const D = c.dim;
  const T = c.text_len;
  const perBlock =
    2 * (4 * L * D * D) + // self q, k, v, o
    2 * (2 * L * L * D) + // self attention scores and values
    2 * (2 * L * D * D + 2 * T * D * D) + // cross q, o and k, v over the text
    2 * (2 * L * T * D) + // cross attention
    2 * (2 * L * D * c.ffn_dim); // ffn
  const embed = 2 * (T * c.text_dim * D + T * D * D) + 2 * L * D * c.in_dim * 4 + 2 * L * D * 64;
  return c.num_layers * perBlock + embed;
}

export function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    // approximately normal: sum of 4 uniforms, centred, unit variance
    let u = 0;
    for (let k = 0; k < 4; k++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      u += (s >>> 0) / 4294967296;
    }
    out[i] = (u - 2) * Math.sqrt(3);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchDit(argv: string[]): Promise<void> {
  const { values } = scriptArgs(USAGE, {
    args: argv,
    options: {
      tokens: { type: "string", default: "1560,7800" },
      reps: { type: "string", default: "3" },
      "reps-large": { type: "string", default: "2" },
      threads: { type: "string", default: "2" },
      precisions: { type: "string", default: "f32,int8" },
      dir: { type: "string", default: BENCH_DIR },
      "no-torch": { type: "boolean", default: false },
      // torch bf16 autocast: "auto" runs it only where the CPU has native bf16 (AVX512_BF16);
      // elsewhere it is emulated (~9x slower than f32, not the peer's best) and left out.
      "torch-bf16": { type: "string", default: "auto" },
      // A slice of the model (e.g. 4 of its 30 blocks) for quick A/B runs of engine changes.
      layers: { type: "string", default: "" },
      // Tokens per FFN piece in reel's DiT (default: the model's FFN_ROWS; 0: whole sequence).
      "ffn-rows": { type: "string", default: String(FFN_ROWS) },
    },
  });
  const ffnRows = Number(values["ffn-rows"]);
  if (!Number.isInteger(ffnRows) || ffnRows < 0)
    throw new Error(`--ffn-rows ${values["ffn-rows"]}: expected a whole number of tokens (0: no pieces)`);
  const threads = Number(values.threads);
  if (!["auto", "on", "off"].includes(values["torch-bf16"]))
    throw new Error(`--torch-bf16 ${values["torch-bf16"]}: expected auto, on or off`);
  const torchBf16 = values["torch-bf16"] === "on" || (values["torch-bf16"] === "auto" && cpuHasBf16());
  if (!torchBf16)
    process.stderr.write("torch bf16: left out (no AVX512_BF16 on this CPU; --torch-bf16 on forces it)\n");
  const tokensList = values.tokens.split(",").map(Number);
  const precisions = values.precisions.split(",") as ("f32" | "int8")[];
  const full = preset("t2v-1.3B");
  const cfg: WanConfig = values.layers ? { ...full, num_layers: Number(values.layers) } : full;
  if (!Number.isInteger(cfg.num_layers) || cfg.num_layers < 1 || cfg.num_layers > full.num_layers) {
    throw new Error(`--layers ${values.layers}: expected an integer from 1 to ${full.num_layers}`);
  }
  mkdirSync(values.dir, { recursive: true });
  const slice = cfg.num_layers === full.num_layers ? "" : `-${cfg.num_layers}blocks`;
  const weightsPath = benchWeightsPath(values.dir, cfg.num_layers, full.num_layers);
  if (!existsSync(weightsPath)) {
    process.stderr.write(`writing deterministic random weights to ${weightsPath} ...\n`);
    const t0 = performance.now();
    const bytes = writeRandomWeights(weightsPath, wanParams(cfg), 0, { config: JSON.stringify(cfg) });
    process.stderr.write(
      `  ${(bytes / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  const weights = weightMapFromFiles([weightsPath]);
  const weightBytes = [...weights.values()].reduce((acc, w) => acc + w.entry.byteLength, 0);

  // One process per configuration, so each peak RSS is its own.
  const workers = new Map<string, BenchWorker>();
  for (const p of precisions) workers.set(`reel_${p}`, new BenchWorker("reel", threads, `reel ${p}`));
  if (!values["no-torch"]) workers.set("torch", new BenchWorker("torch", threads));
  for (const [name, w] of workers) {
    const precision = name.startsWith("reel_") ? name.slice(5) : undefined;
    const r = await w.request<{ load_ms: number }>({
      cmd: "load",
      weights: weightsPath,
      config: cfg,
      threads,
      precision,
      ffn_rows: ffnRows,
    });
    process.stderr.write(`${name}: loaded in ${r.load_ms.toFixed(0)} ms\n`);
  }
  const torch = workers.get("torch") ?? null;
  let warmedUp = false;

  for (const tokens of tokensList) {
    const shape = SHAPES[tokens];
    if (!shape) throw new Error(`--tokens ${tokens}: known sizes are ${Object.keys(SHAPES).join(", ")}`);
    const [F, H, W] = shape;
    const x = f32([16, F, H, W], rand(16 * F * H * W, 1));
    const context = f32([64, cfg.text_dim], rand(64 * cfg.text_dim, 2));
    const inputsPath = join(values.dir, `inputs-${tokens}.safetensors`);
    writeSafetensors(inputsPath, {
      x,
      t: f32([1], new Float32Array([500])),
      context,
      seq_len: { dtype: "int64", dims: [1], data: new BigInt64Array([BigInt(tokens)]) },
    });
    const outPath = (name: string) => join(values.dir, `out-${tokens}-${name}.safetensors`);
    const run = async (name: string, extra: Record<string, unknown>) =>
      workers.get(name)!.request<{ ms: number; peak_rss_mb: number; compile_ms?: number }>({
        cmd: "run",
        inputs: inputsPath,
        ...extra,
      });
    if (!warmedUp) {
      // Not timed: compiles sessions, derives the int8 weights, pages every weight in.
      for (const name of workers.keys()) {
        const r = await run(name, name === "torch" ? { precision: "f32" } : {});
        process.stderr.write(
          `[${tokens}] warm-up ${name}: ${r.ms.toFixed(0)} ms (compile ${r.compile_ms?.toFixed(0) ?? "-"} ms)\n`,
        );
      }
      warmedUp = true;
    }
    const reps = tokens > 2000 ? Number(values["reps-large"]) : Number(values.reps);
    const times: Record<string, number[]> = {};
    const rss: Record<string, number> = {};
    for (let rep = 0; rep < reps; rep++) {
      const order: [string, string, Record<string, unknown>][] = [
        ...precisions.map((p) => [`reel_${p}`, p, {}] as [string, string, Record<string, unknown>]),
        ...(torch
          ? ([
              ["torch", "torch_f32", { precision: "f32" }],
              ...(torchBf16 ? [["torch", "torch_bf16", { precision: "bf16" }]] : []),
            ] as [string, string, Record<string, unknown>][])
          : []),
      ];
      for (const [worker, key, extra] of order) {
        const r = await run(worker, { ...extra, ...(rep === 0 ? { output: outPath(key) } : {}) });
        times[key] = [...(times[key] ?? []), r.ms];
        rss[key] = Math.max(rss[key] ?? 0, r.peak_rss_mb);
        process.stderr.write(`[${tokens}] rep ${rep} ${key}: ${r.ms.toFixed(0)} ms, peak RSS ${r.peak_rss_mb} MB\n`);
      }
    }
    const read = (key: string) => loadAll(outPath(key)).tensors.get("out")!.data as Float32Array;
    const ref = torch ? read("torch_f32") : null;
    const err = (got: Float32Array) => {
      if (ref === null) return { maxRel: null, relL2: null };
      let mx = 0;
      let mw = 0;
      let se = 0;
      let sw = 0;
      for (let i = 0; i < got.length; i++) {
        const d = got[i]! - ref[i]!;
        mx = Math.max(mx, Math.abs(d));
        mw = Math.max(mw, Math.abs(ref[i]!));
        se += d * d;
        sw += ref[i]! * ref[i]!;
      }
      return { maxRel: Number((mx / mw).toExponential(2)), relL2: Number(Math.sqrt(se / sw).toExponential(2)) };
    };
    const flops = wanFlops(cfg, tokens);
    const best = (key: string) => (times[key]?.length ? Math.min(...times[key]!) : null);
    const tf32 = best("torch_f32");
    const tbf16 = best("torch_bf16");
    const bf16Err = torch && torchBf16 ? err(read("torch_bf16")) : null;
    for (const p of precisions) {
      const ms = best(p)!;
      const e = err(read(p));
      const line = {
        bench: "dit",
        model: `wan2.1-t2v-1.3B${slice}`,
        tokens,
        precision: p,
        threads,
        ffn_rows: ffnRows,
        cpu: cpuHasAvx512() ? (cpuHasBf16() ? "avx512+bf16" : "avx512") : "avx2",
        reel_ms: Math.round(ms),
        torch_f32_ms: tf32 === null ? null : Math.round(tf32),
        torch_bf16_ms: tbf16 === null ? null : Math.round(tbf16),
        ratio_vs_f32: tf32 === null ? null : Number((ms / tf32).toFixed(3)),
        ratio_vs_bf16: tbf16 === null ? null : Number((ms / tbf16).toFixed(3)),
        gflops: Math.round(flops / ms / 1e6),
        peak_rss_mb: rss[p],
        weight_mb: Math.round(weightBytes / 2 ** 20),
        torch_f32_peak_rss_mb: rss.torch_f32 ?? null,
        max_rel_err: e.maxRel,
        rel_l2_err: e.relL2,
        torch_bf16_max_rel_err: bf16Err?.maxRel ?? null,
        torch_bf16_rel_l2_err: bf16Err?.relL2 ?? null,
        reps,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      const med = (key: string) => (times[key]?.length ? median(times[key]!).toFixed(0) : "-");
      process.stderr.write(
        `[${tokens}] medians: reel ${p} ${med(p)} ms, torch f32 ${med("torch_f32")}, bf16 ${med("torch_bf16")}\n`,
      );
    }
  }
  for (const w of workers.values()) await w.close();
}
