/** Starts the real `reel serve` process on a free port and waits until it listens. */
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export interface Served {
  readonly url: string;
  readonly proc: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export function startServe(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const proc = spawn(process.execPath, [join(ROOT, "bin/reel.js"), "serve", "--port", "0", ...args], {
    // GLIBC_TUNABLES set: bin/launch.js runs the server in this process instead of a child,
    // so that SIGKILL reaches the server itself.
    env: { ...process.env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    const t = setTimeout(() => reject(new Error(`reel serve did not start:\n${err}`)), 60_000);
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolveStart({
          url: m[1]!,
          proc,
          log: () => err,
          stop: async () => {
            proc.kill("SIGTERM");
            return exited;
          },
          kill: async () => {
            proc.kill("SIGKILL");
            await exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`reel serve exited (${code}):\n${err}`));
    });
  });
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function until<T>(check: () => Promise<T | undefined>, ms = 120_000, every = 200): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, every));
  }
}
