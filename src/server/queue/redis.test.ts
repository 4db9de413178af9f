/**
 * The Redis backend: the shared JobQueue contract (conformance.ts) against a real redis-server
 * started on a free port for this file, plus the `--queue redis://` factory. Without
 * redis-server the file shows as skipped with the reason, except under CI=true, where it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, redisSkipReason, startRedis } from "../../../test/helpers/redis-server.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import { queueConformance } from "./conformance.ts";
import { openQueue } from "./index.ts";
import { RedisQueue } from "./redis.ts";

const skipReason = redisSkipReason();
let server: RedisServer | null = null;
const tmp = tempDir();
beforeAll(async () => {
  if (!skipReason) server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

queueConformance("redis", {
  open: (name, o) => RedisQueue.connect(server!.url, { prefix: name, ...o }),
  relaysEvents: true,
  skipReason,
});

describe.skipIf(skipReason !== null)("--queue redis:// factory", () => {
  it("opens the Redis backend from a URL with a key prefix, isolated from other prefixes", async () => {
    const a = await openQueue({ url: `${server!.url}/0?prefix=fa`, dataDir: tmp.dir });
    const b = await openQueue({ url: `${server!.url}/0?prefix=fb`, dataDir: tmp.dir });
    expect(a).toBeInstanceOf(RedisQueue);
    await a.enqueue({
      id: "j",
      api: "ark",
      owner: "k",
      spec: { model: "m", requestedModel: "m", prompt: "p", width: 8, height: 8, frames: 1, fps: 1, seed: 1, echo: {} },
    });
    expect((await a.get("k", "j"))?.status).toBe("queued");
    expect(await b.get("k", "j")).toBeNull();
    expect(await b.claim({ workerId: "w", models: ["m"], leaseMs: 1000 })).toBeNull();
    await a.close();
    await b.close();
  });

  it("says clearly when Redis cannot be reached, or the prefix is bad", async () => {
    await expect(openQueue({ url: "redis://127.0.0.1:1", dataDir: tmp.dir })).rejects.toMatchObject({
      code: "E_CONFIG_INVALID",
      message: expect.stringContaining("cannot reach Redis"),
    });
    await expect(openQueue({ url: `${server!.url}?prefix=a%20b`, dataDir: tmp.dir })).rejects.toMatchObject({
      code: "E_CONFIG_INVALID",
    });
    await expect(openQueue({ url: "nats://x", dataDir: tmp.dir })).rejects.toThrow(/redis:, rediss:/);
  });
});
