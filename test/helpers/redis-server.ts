/**
 * A throwaway `redis-server` for tests: a free loopback port, a temp dir, no persistence, torn
 * down by `stop()`. `redisMissing()` says why tests cannot run (redis-server not installed);
 * callers skip with that reason locally and fail under CI=true, where .ci/run installs it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { tempDir } from "./tmp.ts";

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Null when redis-server can run here, else the reason it cannot. */
export function redisMissing(): string | null {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (r.error || r.status !== 0)
    return "redis-server is not installed (apt-get install redis-server; .ci/run installs it)";
  return null;
}

/** Throws under CI (where redis-server must be there); otherwise returns the skip reason. */
export function redisSkipReason(): string | null {
  const why = redisMissing();
  if (why && process.env.CI === "true") throw new Error(`CI=true but ${why}`);
  if (why) console.warn(`SKIPPED Redis queue tests: ${why}`);
  return why;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const tmp = tempDir("reel-redis-");
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp.dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${log}`)), 10_000);
    const check = () => {
      if (log.includes("Ready to accept connections")) {
        clearTimeout(t);
        resolve();
      } else setTimeout(check, 20);
    };
    child.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`redis-server exited (${code}):\n${log}`));
    });
    check();
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        await gone;
      }
      tmp.cleanup();
    },
  };
}
