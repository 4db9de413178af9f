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

  it("keeps accepted jobs and leases through a Redis crash (appendonly, fsync always) and reconnects", async () => {
    const r = await startRedis({ persist: true });
    try {
      const q = await RedisQueue.connect(r.url, { prefix: "crash" });
      const s = {
        model: "m",
        requestedModel: "m",
        prompt: "p",
        width: 8,
        height: 8,
        frames: 1,
        fps: 1,
        seed: 1,
        echo: {},
      };
      await q.enqueue({ id: "a", api: "ark", owner: "k", spec: s });
      await q.enqueue({ id: "b", api: "ark", owner: "k", spec: s });
      const c = (await q.claim({ workerId: "w", models: ["m"], leaseMs: 60_000 }))!;
      await q.saveCheckpoint(c.lease, 2, new Uint8Array([5, 6]));
      await r.crash();
      await r.restart();
      // the same handle reconnects on its own; nothing accepted was lost
      expect((await q.get("k", "b"))?.status).toBe("queued");
      expect(await q.get("k", "a")).toMatchObject({ status: "running", checkpointStep: 2 });
      expect(
        await q.complete(c.lease, { video: "a/v.mp4", frames: 1, width: 8, height: 8, fps: 1, seed: 1 }, 9e15),
      ).toBe(true);
      expect((await q.claim({ workerId: "w", models: ["m"], leaseMs: 1000 }))?.job.id).toBe("b");
      expect((await q.stats()).byStatus).toMatchObject({ queued: 0, running: 1, succeeded: 1 });
      await q.close();
    } finally {
      await r.stop();
    }
  });

  it("says clearly when Redis cannot be reached, or the prefix is bad", async () => {
    await expect(openQueue({ url: "redis://127.0.0.1:1", dataDir: tmp.dir })).rejects.toMatchObject({
      code: "E_CONFIG_INVALID",
      message: expect.stringContaining("cannot reach Redis"),
    });
    for (const bad of ["a%20b", "a:b", ""])
      await expect(openQueue({ url: `${server!.url}?prefix=${bad}`, dataDir: tmp.dir })).rejects.toMatchObject({
        code: "E_CONFIG_INVALID",
      });
    await expect(openQueue({ url: "nats://x", dataDir: tmp.dir })).rejects.toThrow(/redis:, rediss:/);
  });
});
