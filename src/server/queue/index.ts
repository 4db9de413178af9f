/**
 * Chooses the queue backend: the embedded SQLite queue under the data folder by default, or a
 * distributed backend named by `--queue URL`. Distributed backends register themselves here by
 * URL scheme: `redis://` and `rediss://` (TLS) select redis.ts (loaded only when used).
 */
import { join } from "node:path";
import { ReelError } from "../../errors.ts";
import type { JobQueue } from "./queue.ts";

export type * from "./queue.ts";

export interface QueueConfig {
  /** `--queue URL`; undefined selects the embedded queue. */
  readonly url?: string;
  /** The data folder (the embedded queue keeps `queue.db` there). */
  readonly dataDir: string;
  readonly maxAttempts?: number;
}

export type QueueFactory = (url: URL, c: QueueConfig) => Promise<JobQueue>;

const BACKENDS = new Map<string, QueueFactory>();

/** Lets a distributed backend plug in by URL scheme (e.g. "redis:"). */
export function registerQueueBackend(protocol: string, f: QueueFactory): void {
  BACKENDS.set(protocol, f);
}

export async function openQueue(c: QueueConfig): Promise<JobQueue> {
  if (c.url === undefined) {
    const { SqliteQueue } = await import("./sqlite.ts");
    return new SqliteQueue(join(c.dataDir, "queue.db"), { maxAttempts: c.maxAttempts ?? 3 });
  }
  let u: URL;
  try {
    u = new URL(c.url);
  } catch {
    throw new ReelError("E_CONFIG_INVALID", `--queue ${c.url}: not a URL (e.g. redis://host:6379)`);
  }
  const f = BACKENDS.get(u.protocol);
  if (!f)
    throw new ReelError(
      "E_CONFIG_INVALID",
      `--queue ${u.protocol}//…: no queue backend for this scheme; available: ${[...BACKENDS.keys()].join(", ") || "(none; omit --queue for the embedded queue)"}`,
    );
  return f(u, c);
}

/** `redis://[user:pass@]host:port[/db][?prefix=reel]`, `rediss://` for TLS: see redis.ts. */
const redisBackend: QueueFactory = async (u, c) => {
  const { RedisQueue, parseRedisUrl } = await import("./redis.ts");
  const { url, prefix } = parseRedisUrl(u);
  return RedisQueue.connect(url, { prefix, maxAttempts: c.maxAttempts ?? 3 });
};
registerQueueBackend("redis:", redisBackend);
registerQueueBackend("rediss:", redisBackend);
