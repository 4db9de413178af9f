/** Starts real `reel serve` / `reel worker` processes and waits until they are ready. */
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

export interface ReelProcess {
  readonly proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  log(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export interface Served extends ReelProcess {
  readonly url: string;
}

/**
 * Spawns `reel <args>` and resolves once its stderr matches `ready` (with the match), rejects
 * if it exits first or does not get there within a minute.
 */
export function startReel(
  args: readonly string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<ReelProcess & { readonly match: RegExpExecArray }> {
  const name = `reel ${args[0] ?? ""}`;
  const proc = spawn(process.execPath, [join(ROOT, "bin/reel.js"), ...args], {
    // GLIBC_TUNABLES set: bin/launch.js runs the command in this process instead of a child,
    // so that SIGKILL reaches it itself.
    env: { ...process.env, GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start:\n${err}`)), 60_000);
    proc.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const match = ready.exec(err);
      if (match) {
        clearTimeout(t);
        resolveStart({
          match,
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
      reject(new Error(`${name} exited (${code}):\n${err}`));
    });
  });
}

/** Starts the real `reel serve` process on a free port and waits until it listens. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const { match, ...p } = await startReel(["serve", "--port", "0", ...args], /listening on (http:\/\/[^\s]+)/, env);
  return { ...p, url: match[1]! };
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
