/**
 * `npm run bench -- kernels [--tokens 1560,7800] [--reps 3] [--threads 2]`: the Wan 2.1 1.3B
 * DiT's hot kernels on their own, reel (ONNX Runtime, as the DiT compiles them: Gemm with
 * prepacked weights, com.microsoft.MultiHeadAttention) against the PyTorch reference
 * (F.linear on OpenBLAS, reference/wan_model.py `attention`) in the same run. Shows where the
 * whole-model ratio of `bench dit` comes from: the matrix multiplications or the attention.
 *
 * reel's graphs return only the first OUT_ROWS rows of the kernel's output: a whole [7800, 8960]
 * output copied into a JS buffer (280 MB, paged in afresh, collected later) made every other run
 * ~50% slower, a cost the DiT (whose outputs are small) never pays. The kernel still computes
 * all of it, into ORT's own buffers, as inside the DiT.
 *
 * Prints one JSON line per kernel and token count: kernel, tokens, reel_ms, torch_ms, ratio
 * (reel / torch), reel_gflops, torch_gflops, rel_err (torch against reel's output).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "../args.ts";
import { compile } from "../../src/engine/compile.ts";
import { Graph, Scope } from "../../src/engine/graph.ts";
import { attention, linearRaw } from "../../src/engine/ops/index.ts";
import { slice } from "../../src/engine/ops/shape.ts";
import { ortRuntime } from "../../src/engine/runtime-ort.ts";
import { type TensorToWrite, writeSafetensors } from "../../src/engine/safetensors.ts";
import { f32, type HostTensor } from "../../src/engine/tensor.ts";
import { weightMapFromFiles } from "../../src/engine/weights.ts";
import { preset } from "../../src/models/wan/config.ts";
import { BENCH_DIR, rand } from "./dit.ts";
import { openblasEnv } from "./openblas.ts";
import { TORCH_PYTHON } from "./worker.ts";

const USAGE = `usage: npm run bench -- kernels [--tokens 1560,7800] [--reps 3] [--threads 2] [--dir DIR]`;

/** Rows (tokens) of each kernel's output that reel returns and torch's is checked against. */
const OUT_ROWS = 8;

const TORCH_KERNELS = fileURLToPath(new URL("../../reference/bench_kernels.py", import.meta.url));

interface Kernel {
  readonly name: string;
  readonly flops: number;
  /** Graph params (deterministic random) and graph inputs. */
  readonly params: Record<string, HostTensor>;
  readonly inputs: Record<string, HostTensor>;
  readonly build: (g: Graph) => void;
}

function linearKernel(name: string, tokens: number, inF: number, outF: number, seed: number): Kernel {
  return {
    name,
    flops: 2 * tokens * inF * outF,
    params: {
      [`${name}.weight`]: f32(
        [outF, inF],
        rand(outF * inF, seed).map((v) => v / Math.sqrt(inF)),
      ),
      [`${name}.bias`]: f32(
        [outF],
        rand(outF, seed + 1).map((v) => v * 0.02),
      ),
    },
    inputs: { x: f32([tokens, inF], rand(tokens * inF, seed + 2)) },
    build: (g) => {
      const w = new Scope(g, name);
      const x = g.input("x", "float32", [tokens, inF]);
      g.output(
        slice(g, linearRaw(g, x, w.param("weight", [outF, inF]), w.param("bias", [outF])), 0, 0, OUT_ROWS),
        "out",
      );
    },
  };
}

function attentionKernel(tokens: number, dim: number, heads: number, seed: number): Kernel {
  const qkv = ["q", "k", "v"] as const;
  return {
    name: "self_attn",
    flops: 4 * tokens * tokens * dim, // q·kᵀ and p·v
    params: {},
    inputs: Object.fromEntries(qkv.map((s, i) => [s, f32([1, tokens, dim], rand(tokens * dim, seed + i))])),
    build: (g) => {
      const [q, k, v] = qkv.map((s) => g.input(s, "float32", [1, tokens, dim]));
      g.output(slice(g, attention(g, q!, k!, v!, heads), 1, 0, OUT_ROWS), "out");
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchKernels(argv: string[]): Promise<void> {
  const { values } = scriptArgs(USAGE, {
    args: argv,
    options: {
      tokens: { type: "string", default: "1560,7800" },
      reps: { type: "string", default: "3" },
      threads: { type: "string", default: "2" },
      dir: { type: "string", default: BENCH_DIR },
    },
  });
  const reps = Number(values.reps);
  const threads = Number(values.threads);
  const cfg = preset("t2v-1.3B");
  const D = cfg.dim;
  const dir = join(values.dir, "kernels");
  mkdirSync(dir, { recursive: true });
  for (const tokens of values.tokens.split(",").map(Number)) {
    if (!Number.isInteger(tokens) || tokens < 1) throw new Error(`--tokens: ${values.tokens} is not a list of counts`);
    const kernels = [
      linearKernel("self_attn_q", tokens, D, D, 10),
      linearKernel("ffn_0", tokens, D, cfg.ffn_dim, 20),
      linearKernel("ffn_2", tokens, cfg.ffn_dim, D, 30),
      attentionKernel(tokens, D, cfg.num_heads, 40),
    ];
    const forTorch: Record<string, TensorToWrite> = {};
    const reel = new Map<string, number>();
    for (const k of kernels) {
      const weightsPath = join(dir, `${k.name}-${tokens}.safetensors`);
      writeSafetensors(weightsPath, k.params);
      const g = new Graph(`bench-${k.name}-${tokens}`);
      k.build(g);
      const session = await compile(g, weightMapFromFiles([weightsPath]), {
        runtime: ortRuntime,
        device: "cpu",
        threads,
        keepWeightsMapped: false, // as the DiT: ORT prepacks the Gemm weights
      });
      const out = (await session.run(k.inputs)).out!; // warm-up
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await session.run(k.inputs);
        ms.push(performance.now() - t0);
      }
      await session.release();
      reel.set(k.name, median(ms));
      for (const [n, t] of Object.entries({ ...k.params, ...k.inputs })) {
        const key = n.includes(".") ? n : `${k.name}.${n}`;
        forTorch[key] = t;
      }
      forTorch[`${k.name}.out`] = out;
      if (k.name === "self_attn")
        forTorch["self_attn.heads"] = { dtype: "int64", dims: [1], data: new BigInt64Array([BigInt(cfg.num_heads)]) };
    }
    const dataPath = join(dir, `torch-${tokens}.safetensors`);
    writeSafetensors(dataPath, forTorch);
    const r = spawnSync(TORCH_PYTHON, [TORCH_KERNELS, dataPath, String(reps), String(threads)], {
      encoding: "utf8",
      env: {
        ...process.env,
        ...openblasEnv(),
        OPENBLAS_NUM_THREADS: String(threads),
        OMP_NUM_THREADS: String(threads),
      },
    });
    if (r.status !== 0) throw new Error(`torch kernels failed: ${r.stderr}`);
    for (const line of r.stdout.trim().split("\n")) {
      const t = JSON.parse(line) as { kernel: string; ms: number; rel_err: number };
      const k = kernels.find((x) => x.name === t.kernel)!;
      const reelMs = reel.get(t.kernel)!;
      process.stdout.write(
        `${JSON.stringify({
          bench: "kernels",
          kernel: t.kernel,
          tokens,
          threads,
          reel_ms: Math.round(reelMs * 10) / 10,
          torch_ms: Math.round(t.ms * 10) / 10,
          ratio: Math.round((reelMs / t.ms) * 1000) / 1000,
          reel_gflops: Math.round(k.flops / reelMs / 1e6),
          torch_gflops: Math.round(k.flops / t.ms / 1e6),
          rel_err: Number(t.rel_err.toPrecision(3)),
        })}\n`,
      );
    }
  }
}
