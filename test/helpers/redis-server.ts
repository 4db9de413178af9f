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

function spawnRedis(port: number, dir: string, persist: boolean): Promise<ChildProcess> {
  const durability = persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...durability, "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const add = (d: Buffer) => {
    log += d.toString();
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${log}`)), 10_000);
    const onExit = (code: number | null) => {
      clearTimeout(t);
      reject(new Error(`redis-server exited (${code}):\n${log}`));
    };
    child.once("exit", onExit);
    const check = () => {
      if (log.includes("Ready to accept connections")) {
        clearTimeout(t);
        child.off("exit", onExit);
        resolve(child);
      } else if (child.exitCode === null) setTimeout(check, 20);
    };
    check();
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill(signal);
  await gone;
}

/**
 * Starts redis-server. `persist`: an append-only file fsynced on every write (what production
 * should run), so `crash()` (SIGKILL) then `restart()` on the same port and folder keeps the data.
 */
export async function startRedis(
  o: { persist?: boolean } = {},
): Promise<RedisServer & { crash(): Promise<void>; restart(): Promise<void> }> {
  const tmp = tempDir("reel-redis-");
  const port = await freePort();
  let child = await spawnRedis(port, tmp.dir, o.persist ?? false);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    crash: () => kill(child, "SIGKILL"),
    restart: async () => {
      child = await spawnRedis(port, tmp.dir, o.persist ?? false);
    },
    stop: async () => {
      await kill(child, "SIGTERM");
      tmp.cleanup();
    },
  };
}
