/**
 * The embedded SQLite queue: durable across reopen, lease expiry re-claims (keeping the
 * checkpoint), completion only under a live lease (so at most once), cancellation, owner
 * isolation, paging, expiry and attempts.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../test/helpers/tmp.ts";
import type { JobSpec } from "./queue.ts";
import { SqliteQueue } from "./sqlite.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const spec = (model = "reel-toy"): JobSpec => ({
  model,
  requestedModel: model,
  prompt: "a red ball",
  width: 128,
  height: 128,
  frames: 17,
  fps: 16,
  seed: 1,
  echo: {},
});
const result = { video: "v.mp4", frames: 17, width: 128, height: 128, fps: 16, seed: 1 };

function clocked(file: string) {
  let t = 1_000_000;
  const q = new SqliteQueue(file, { now: () => t, maxAttempts: 2 });
  return { q, advance: (ms: number) => (t += ms), now: () => t };
}

describe("SqliteQueue", () => {
  it("keeps jobs across close and reopen", async () => {
    const file = join(tmp.dir, "a.db");
    const q = new SqliteQueue(file);
    await q.enqueue({ id: "j1", api: "ark", owner: "k1", spec: spec() });
    await q.close();
    const q2 = new SqliteQueue(file);
    expect((await q2.get("k1", "j1"))?.status).toBe("queued");
    await q2.close();
  });

  it("claims only jobs for the worker's models, oldest first", async () => {
    const { q } = clocked(join(tmp.dir, "b.db"));
    await q.enqueue({ id: "x", api: "ark", owner: "k", spec: spec("other") });
    await q.enqueue({ id: "y", api: "ark", owner: "k", spec: spec() });
    await q.enqueue({ id: "z", api: "ark", owner: "k", spec: spec() });
    expect((await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 1000 }))?.job.id).toBe("y");
    expect((await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 1000 }))?.job.id).toBe("z");
    expect(await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 1000 })).toBeNull();
    await q.close();
  });

  it("re-claims an expired lease with its checkpoint; the old lease can no longer complete", async () => {
    const { q, advance } = clocked(join(tmp.dir, "c.db"));
    const events: string[] = [];
    q.subscribe((e) => events.push(`${e.previous ?? "-"}>${e.job.status}`));
    await q.enqueue({ id: "j", api: "openai", owner: "k", spec: spec() });
    const a = (await q.claim({ workerId: "w1", models: ["reel-toy"], leaseMs: 1000 }))!;
    expect(a.checkpoint).toBeNull();
    expect((await q.saveCheckpoint(a.lease, 3, new Uint8Array([1, 2, 3]))).ok).toBe(true);
    expect((await q.heartbeat(a.lease, 1000)).ok).toBe(true);
    advance(1500); // worker 1 died
    const b = (await q.claim({ workerId: "w2", models: ["reel-toy"], leaseMs: 1000 }))!;
    expect(b.job.attempts).toBe(2);
    expect(b.checkpoint).toEqual({ step: 3, data: new Uint8Array([1, 2, 3]) });
    expect(await q.complete(a.lease, result, 0)).toBe(false);
    expect((await q.heartbeat(a.lease, 1000)).ok).toBe(false);
    expect(await q.complete(b.lease, result, 9e15)).toBe(true);
    expect(await q.complete(b.lease, result, 9e15)).toBe(false);
    const j = (await q.get("k", "j"))!;
    expect(j).toMatchObject({ status: "succeeded", progress: 100, result });
    expect(events).toEqual(["->queued", "queued>running", "running>queued", "queued>running", "running>succeeded"]);
    await q.close();
  });

  it("fails a job whose workers keep dying after maxAttempts", async () => {
    const { q, advance, now } = clocked(join(tmp.dir, "d.db"));
    await q.enqueue({ id: "j", api: "ark", owner: "k", spec: spec() });
    await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 10 });
    advance(20);
    await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 10 });
    advance(20);
    expect(await q.reapExpired(now())).toBe(1);
    expect((await q.get("k", "j"))?.error?.code).toBe("E_JOB_ATTEMPTS");
    await q.close();
  });

  it("cancels queued jobs at once and running ones through the lease answer", async () => {
    const { q } = clocked(join(tmp.dir, "e.db"));
    await q.enqueue({ id: "a", api: "ark", owner: "k", spec: spec() });
    await q.enqueue({ id: "b", api: "ark", owner: "k", spec: spec() });
    const c = (await q.claim({ workerId: "w", models: ["reel-toy"], leaseMs: 1000 }))!;
    expect(await q.cancel("other", "b", 0)).toBe("not_found");
    expect(await q.cancel("k", "b", 0)).toBe("cancelled");
    expect(await q.cancel("k", "a", 0)).toBe("requested");
    expect(await q.progress(c.lease, 50)).toEqual({ ok: true, cancel: true });
    expect(await q.markCancelled(c.lease, 0)).toBe(true);
    expect((await q.get("k", "a"))?.status).toBe("cancelled");
    expect(await q.cancel("k", "a", 0)).toBe("final");
    expect((await q.remove("k", "a"))?.id).toBe("a");
    expect(await q.get("k", "a")).toBeNull();
    await q.close();
  });

  it("lists per owner with filters, offset and cursor paging; expires old jobs", async () => {
    const { q, advance, now } = clocked(join(tmp.dir, "f.db"));
    for (let i = 0; i < 5; i++) {
      await q.enqueue({ id: `j${i}`, api: "ark", owner: "k", spec: spec() });
      advance(1);
    }
    await q.enqueue({ id: "other", api: "ark", owner: "k2", spec: spec() });
    const p1 = await q.list({ owner: "k" }, { order: "desc", limit: 2 });
    expect(p1.items.map((j) => j.id)).toEqual(["j4", "j3"]);
    expect(p1).toMatchObject({ total: 5, hasMore: true });
    const p2 = await q.list({ owner: "k" }, { order: "desc", limit: 2, after: "j3" });
    expect(p2.items.map((j) => j.id)).toEqual(["j2", "j1"]);
    const p3 = await q.list({ owner: "k" }, { order: "asc", limit: 10, offset: 3 });
    expect(p3.items.map((j) => j.id)).toEqual(["j3", "j4"]);
    expect((await q.list({ owner: "k", ids: ["j1", "other"] }, { order: "asc", limit: 10 })).total).toBe(1);
    expect((await q.list({ owner: "k", status: ["running"] }, { order: "asc", limit: 10 })).total).toBe(0);
    await q.cancel("k", "j0", now() + 100);
    expect(await q.expire(now())).toEqual([]);
    advance(100);
    expect((await q.expire(now())).map((j) => j.id)).toEqual(["j0"]);
    expect((await q.stats()).byStatus).toMatchObject({ queued: 5, cancelled: 0 });
    await q.close();
  });
});
