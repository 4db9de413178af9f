/**
 * Benchmark workers: the PyTorch peer (reference/bench_worker.py) and reel (reel-worker.ts),
 * each a child process speaking JSON lines. The peer gets its best: OpenBLAS forced to its
 * AVX-512 kernels, oneDNN for bf16, the same malloc tunables as reel.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openblasEnv } from "./openblas.ts";

export const TORCH_PYTHON = process.env.REEL_TORCH_PYTHON ?? "/usr/bin/python3";
const TORCH_WORKER = fileURLToPath(new URL("../../reference/bench_worker.py", import.meta.url));
const REEL_WORKER = fileURLToPath(new URL("./reel-worker.ts", import.meta.url));
const LAUNCH = fileURLToPath(new URL("../../bin/launch.js", import.meta.url));

/** A benchmark worker process (torch or reel) speaking JSON lines on stdin/stdout. */
export class BenchWorker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(kind: "torch" | "reel", threads: number, label: string = kind) {
    const env = {
      ...process.env,
      ...openblasEnv(),
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
      // Both peers get the same malloc tunables; REEL_BENCH_GLIBC_TUNABLES tries others.
      GLIBC_TUNABLES: process.env.REEL_BENCH_GLIBC_TUNABLES ?? "glibc.malloc.hugetlb=1",
      REEL_NO_REEXEC: "1",
    };
    this.proc =
      kind === "torch"
        ? spawn(TORCH_PYTHON, [TORCH_WORKER], { env, stdio: ["pipe", "pipe", "pipe"] })
        : spawn(process.execPath, [LAUNCH, REEL_WORKER], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.on("data", (d: Buffer) => process.stderr.write(`[${label}] ${d}`));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async request<T extends Record<string, unknown>>(req: Record<string, unknown>): Promise<T> {
    this.proc.stdin.write(`${JSON.stringify(req)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`torch worker exited (request ${JSON.stringify(req)})`);
    const res = JSON.parse(next.value) as { ok: boolean; error?: string } & T;
    if (!res.ok) throw new Error(`torch worker: ${res.error}`);
    return res;
  }

  async close(): Promise<void> {
    try {
      await this.request({ cmd: "quit" });
    } catch {
      // already gone
    }
    this.proc.kill();
  }
}
