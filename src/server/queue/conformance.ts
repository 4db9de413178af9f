/**
 * The JobQueue contract (queue.ts) as one suite every backend runs: each backend's test file
 * calls `queueConformance` with a way to open stores. It uses the real clock with short leases
 * (a few hundred ms), so it also holds for backends that judge leases by their own server's
 * clock (redis.ts). Not a test file itself: vitest collects it through the backend test files.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { JobQueue, JobResult, JobSpec, JobStatus, NewJob } from "./queue.ts";

export interface ConformanceTarget {
  /** Opens a handle on store `name` (same name: same store, as another process would see it). */
  readonly open: (name: string, o?: { maxAttempts?: number }) => Promise<JobQueue>;
  /** Whether state changes made through one handle reach `subscribe` on another. */
  readonly relaysEvents: boolean;
  /** Set: the backend cannot run here; the suite shows as skipped with this reason. */
  readonly skipReason: string | null;
}

export const spec = (model = "reel-toy", requestedModel = model): JobSpec => ({
  model,
  requestedModel,
  prompt: "a red ball",
  width: 128,
  height: 128,
  frames: 17,
  fps: 16,
  seed: 1,
  echo: { ratio: "16:9" },
});
const result: JobResult = {
  video: "j/v.mp4",
  thumbnail: "j/t.png",
  frames: 17,
  width: 128,
  height: 128,
  fps: 16,
  seed: 1,
};
const job = (id: string, owner = "k", model = "reel-toy", api: NewJob["api"] = "ark"): NewJob => ({
  id,
  api,
  owner,
  spec: spec(model),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAR = 9e15;
const W = (workerId: string, leaseMs = 5000, models = ["reel-toy"]) => ({ workerId, models, leaseMs });

let seq = 0;

export function queueConformance(name: string, t: ConformanceTarget): void {
  const { skipReason } = t;
  describe.skipIf(skipReason !== null)(
    `JobQueue conformance: ${name}${skipReason ? ` (skipped: ${skipReason})` : ""}`,
    () => {
      const open: JobQueue[] = [];
      const fresh = async (o?: { maxAttempts?: number }) => {
        const store = `s${process.pid}x${++seq}x${Date.now()}`;
        const q = await t.open(store, o);
        open.push(q);
        return {
          q,
          store,
          again: async () => {
            const q2 = await t.open(store, o);
            open.push(q2);
            return q2;
          },
        };
      };
      afterEach(async () => {
        for (const q of open.splice(0)) await q.close();
      });

      it("enqueue → claim → progress → complete; once only; fields as documented", async () => {
        const { q } = await fresh();
        const before = Date.now();
        const e = await q.enqueue({ ...job("j1"), callbackUrl: "https://example.com/cb", remixedFrom: "j0" });
        expect(e).toMatchObject({
          id: "j1",
          api: "ark",
          owner: "k",
          status: "queued",
          spec: spec(),
          progress: 0,
          error: null,
          result: null,
          startedAt: null,
          completedAt: null,
          expiresAt: null,
          attempts: 0,
          cancelRequested: false,
          checkpointStep: 0,
          callbackUrl: "https://example.com/cb",
          remixedFrom: "j0",
        });
        expect(e.createdAt).toBeGreaterThanOrEqual(before - 2000);
        expect(await q.claim(W("w", 5000, ["other-model"]))).toBeNull();
        expect(await q.claim(W("w", 5000, []))).toBeNull();
        const c = (await q.claim(W("w")))!;
        expect(c.lease).toMatchObject({ jobId: "j1", workerId: "w" });
        expect(c.job).toMatchObject({ status: "running", attempts: 1 });
        expect(c.job.startedAt).not.toBeNull();
        expect(c.checkpoint).toBeNull();
        expect(await q.claim(W("w2"))).toBeNull();
        expect(await q.progress(c.lease, 42.4)).toEqual({ ok: true, cancel: false });
        expect((await q.get("k", "j1"))?.progress).toBe(42);
        expect(await q.heartbeat(c.lease, 5000)).toEqual({ ok: true, cancel: false });
        expect(await q.complete(c.lease, result, FAR)).toBe(true);
        expect(await q.complete(c.lease, result, FAR)).toBe(false);
        expect(await q.fail(c.lease, { code: "E_X", message: "x" }, FAR)).toBe(false);
        expect((await q.heartbeat(c.lease, 5000)).ok).toBe(false);
        const done = (await q.get("k", "j1"))!;
        expect(done).toMatchObject({ status: "succeeded", progress: 100, result, error: null, expiresAt: FAR });
        expect(done.completedAt).not.toBeNull();
        expect(await q.claim(W("w"))).toBeNull();
      });

      it("claims the oldest job across only the worker's models", async () => {
        const { q } = await fresh();
        await q.enqueue(job("a", "k", "m1"));
        await q.enqueue(job("b", "k", "m2"));
        await q.enqueue(job("c", "k", "m3"));
        await q.enqueue(job("d", "k", "m1"));
        const got: string[] = [];
        for (;;) {
          const c = await q.claim(W("w", 5000, ["m1", "m2"]));
          if (!c) break;
          got.push(c.job.id);
        }
        expect(got).toEqual(["a", "b", "d"]);
        expect((await q.claim(W("w", 5000, ["m3"])))?.job.id).toBe("c");
      });

      it("lease expiry → re-claim with the checkpoint; the stale holder can change nothing", async () => {
        const { q } = await fresh();
        const events: string[] = [];
        q.subscribe((e) => events.push(`${e.previous ?? "-"}>${e.job.status}`));
        await q.enqueue(job("j"));
        const a = (await q.claim(W("w1", 300)))!;
        const bytes = new Uint8Array([1, 2, 3, 250, 0, 255]);
        expect((await q.saveCheckpoint(a.lease, 3, bytes)).ok).toBe(true);
        expect(await q.claim(W("w2", 300))).toBeNull(); // still held
        await sleep(450); // worker 1 died: no heartbeat
        const b = (await q.claim(W("w2", 5000)))!;
        expect(b.job.id).toBe("j");
        expect(b.job.attempts).toBe(2);
        expect(b.job.checkpointStep).toBe(3);
        expect(b.checkpoint).toEqual({ step: 3, data: bytes });
        expect(b.lease.token).not.toBe(a.lease.token);
        // the old holder: every lease-conditional call answers false and changes nothing
        expect((await q.heartbeat(a.lease, 5000)).ok).toBe(false);
        expect((await q.progress(a.lease, 99)).ok).toBe(false);
        expect((await q.saveCheckpoint(a.lease, 9, new Uint8Array([9]))).ok).toBe(false);
        expect(await q.complete(a.lease, result, FAR)).toBe(false);
        expect(await q.fail(a.lease, { code: "E_X", message: "x" }, FAR)).toBe(false);
        expect(await q.markCancelled(a.lease, FAR)).toBe(false);
        expect(await q.release(a.lease)).toBe(false);
        expect(await q.get("k", "j")).toMatchObject({ status: "running", checkpointStep: 3, attempts: 2 });
        expect((await q.saveCheckpoint(b.lease, 4, new Uint8Array([4]))).ok).toBe(true);
        expect(await q.complete(b.lease, result, FAR)).toBe(true);
        expect(await q.get("k", "j")).toMatchObject({ status: "succeeded", result });
        expect(events).toEqual(["->queued", "queued>running", "running>queued", "queued>running", "running>succeeded"]);
      });

      it("a heartbeat keeps the lease; reapExpired re-queues an expired one", async () => {
        const { q } = await fresh();
        await q.enqueue(job("j"));
        const a = (await q.claim(W("w1", 300)))!;
        for (let i = 0; i < 5; i++) {
          await sleep(120);
          expect((await q.heartbeat(a.lease, 300)).ok).toBe(true);
        }
        expect(await q.claim(W("w2"))).toBeNull();
        expect(await q.reapExpired(Date.now())).toBe(0);
        await sleep(450);
        expect(await q.reapExpired(Date.now())).toBe(1);
        expect(await q.get("k", "j")).toMatchObject({ status: "queued", attempts: 1 });
        expect((await q.claim(W("w2")))?.job.attempts).toBe(2);
      });

      it("fails a job with E_JOB_ATTEMPTS once its workers died maxAttempts times", async () => {
        const { q } = await fresh({ maxAttempts: 2 });
        await q.enqueue(job("j"));
        expect((await q.claim(W("w", 100)))?.job.attempts).toBe(1);
        await sleep(200);
        expect((await q.claim(W("w", 100)))?.job.attempts).toBe(2);
        await sleep(200);
        expect(await q.claim(W("w", 100))).toBeNull();
        const j = (await q.get("k", "j"))!;
        expect(j.status).toBe("failed");
        expect(j.error?.code).toBe("E_JOB_ATTEMPTS");
      });

      it("release gives the job back with its checkpoint and without spending an attempt", async () => {
        const { q } = await fresh();
        await q.enqueue(job("j"));
        const a = (await q.claim(W("w1")))!;
        await q.saveCheckpoint(a.lease, 2, new Uint8Array([7, 7]));
        expect(await q.release(a.lease)).toBe(true);
        expect(await q.get("k", "j")).toMatchObject({ status: "queued", attempts: 0 });
        const b = (await q.claim(W("w2")))!;
        expect(b.job.attempts).toBe(1);
        expect(b.checkpoint).toEqual({ step: 2, data: new Uint8Array([7, 7]) });
        expect(await q.complete(a.lease, result, FAR)).toBe(false);
      });

      it("cancels queued jobs at once and running ones through the lease answer", async () => {
        const { q } = await fresh();
        await q.enqueue(job("a"));
        await q.enqueue(job("b"));
        const c = (await q.claim(W("w")))!;
        expect(c.job.id).toBe("a");
        expect(await q.cancel("other", "b", FAR)).toBe("not_found");
        expect(await q.cancel("k", "nope", FAR)).toBe("not_found");
        expect(await q.cancel("k", "b", 1234)).toBe("cancelled");
        expect(await q.get("k", "b")).toMatchObject({ status: "cancelled", expiresAt: 1234 });
        expect(await q.claim(W("w2"))).toBeNull(); // b is not claimable any more
        expect(await q.cancel("k", "a", FAR)).toBe("requested");
        expect((await q.get("k", "a"))?.cancelRequested).toBe(true);
        expect(await q.heartbeat(c.lease, 5000)).toEqual({ ok: true, cancel: true });
        expect(await q.progress(c.lease, 50)).toEqual({ ok: true, cancel: true });
        expect(await q.markCancelled(c.lease, FAR)).toBe(true);
        expect((await q.get("k", "a"))?.status).toBe("cancelled");
        expect(await q.cancel("k", "a", FAR)).toBe("final");
      });

      it("isolates owners: another owner's job behaves as absent", async () => {
        const { q } = await fresh();
        await q.enqueue(job("mine", "k1"));
        await q.enqueue(job("theirs", "k2"));
        expect(await q.get("k2", "mine")).toBeNull();
        expect((await q.get("k1", "mine"))?.id).toBe("mine");
        expect(await q.cancel("k2", "mine", FAR)).toBe("not_found");
        const p = await q.list({ owner: "k1" }, { order: "asc", limit: 10 });
        expect(p.items.map((j) => j.id)).toEqual(["mine"]);
        expect(await q.list({ owner: "k3" }, { order: "asc", limit: 10 })).toEqual({
          items: [],
          total: 0,
          hasMore: false,
        });
        expect((await q.list({ owner: "k1", ids: ["theirs"] }, { order: "asc", limit: 10 })).total).toBe(0);
        const c = (await q.claim(W("w")))!;
        await q.complete(c.lease, result, FAR);
        expect(await q.remove("k2", "mine")).toBeNull();
        expect((await q.get("k1", "mine"))?.status).toBe("succeeded");
      });

      it("removes only final jobs and returns them", async () => {
        const { q } = await fresh();
        await q.enqueue(job("a"));
        expect(await q.remove("k", "a")).toBeNull(); // queued
        const c = (await q.claim(W("w")))!;
        expect(await q.remove("k", "a")).toBeNull(); // running
        await q.fail(c.lease, { code: "E_X", message: "boom" }, FAR);
        const r = (await q.remove("k", "a"))!;
        expect(r).toMatchObject({ id: "a", status: "failed", error: { code: "E_X", message: "boom" } });
        expect(await q.get("k", "a")).toBeNull();
        expect(await q.remove("k", "a")).toBeNull();
        expect((await q.list({ owner: "k" }, { order: "asc", limit: 10 })).total).toBe(0);
      });

      it("lists per owner with filters, offset paging and cursor paging", async () => {
        const { q } = await fresh();
        await q.enqueue(job("j0", "k", "reel-toy", "ark"));
        await q.enqueue(job("j1", "k", "reel-toy", "openai"));
        await q.enqueue({ id: "j2", api: "ark", owner: "k", spec: spec("reel-toy", "sora-2") });
        await q.enqueue(job("j3", "k", "reel-toy", "ark"));
        await q.enqueue(job("j4", "k", "reel-toy", "ark"));
        await q.enqueue(job("x", "k2"));
        const c = (await q.claim(W("w")))!; // j0 running
        expect(c.job.id).toBe("j0");
        const ids = (p: { items: readonly { id: string }[] }) => p.items.map((j) => j.id);
        const p1 = await q.list({ owner: "k" }, { order: "desc", limit: 2 });
        expect(ids(p1)).toEqual(["j4", "j3"]);
        expect(p1).toMatchObject({ total: 5, hasMore: true });
        const p2 = await q.list({ owner: "k" }, { order: "desc", limit: 2, after: "j3" });
        expect(ids(p2)).toEqual(["j2", "j1"]);
        expect(p2.hasMore).toBe(true);
        const p3 = await q.list({ owner: "k" }, { order: "desc", limit: 2, after: "j1" });
        expect(ids(p3)).toEqual(["j0"]);
        expect(p3.hasMore).toBe(false);
        expect(ids(await q.list({ owner: "k" }, { order: "asc", limit: 2, after: "j1" }))).toEqual(["j2", "j3"]);
        expect(await q.list({ owner: "k" }, { order: "asc", limit: 2, after: "x" })).toMatchObject({
          items: [],
          hasMore: false,
        });
        const p4 = await q.list({ owner: "k" }, { order: "asc", limit: 2, offset: 3 });
        expect(ids(p4)).toEqual(["j3", "j4"]);
        expect(p4.hasMore).toBe(false);
        expect(ids(await q.list({ owner: "k" }, { order: "asc", limit: 2, offset: 2 }))).toEqual(["j2", "j3"]);
        const running = await q.list({ owner: "k", status: ["running"] }, { order: "asc", limit: 10 });
        expect(ids(running)).toEqual(["j0"]);
        const st = await q.list({ owner: "k", status: ["running", "queued"] }, { order: "asc", limit: 10 });
        expect(st.total).toBe(5);
        expect(ids(await q.list({ owner: "k", api: "openai" }, { order: "asc", limit: 10 }))).toEqual(["j1"]);
        expect(ids(await q.list({ owner: "k", model: "sora-2" }, { order: "asc", limit: 10 }))).toEqual(["j2"]);
        const byIds = await q.list({ owner: "k", ids: ["j4", "j1", "x"] }, { order: "asc", limit: 10 });
        expect(ids(byIds)).toEqual(["j1", "j4"]);
        const combo = await q.list(
          { owner: "k", api: "ark", status: ["queued"], ids: ["j0", "j2", "j3"] },
          { order: "desc", limit: 1 },
        );
        expect(ids(combo)).toEqual(["j3"]);
        expect(combo).toMatchObject({ total: 2, hasMore: true });
      });

      it("expires final jobs whose time passed, and only those", async () => {
        const { q } = await fresh();
        for (const id of ["a", "b", "c", "d"]) await q.enqueue(job(id));
        const now = Date.now();
        const a = (await q.claim(W("w")))!;
        await q.complete(a.lease, result, now - 1);
        const b = (await q.claim(W("w")))!;
        await q.fail(b.lease, { code: "E_X", message: "x" }, now + 60_000);
        await q.cancel("k", "c", now - 5);
        // d stays queued
        const gone = await q.expire(now);
        expect(gone.map((j) => j.id).sort()).toEqual(["a", "c"]);
        expect(gone.find((j) => j.id === "a")?.result).toEqual(result);
        expect(await q.get("k", "a")).toBeNull();
        expect(await q.get("k", "c")).toBeNull();
        expect((await q.get("k", "b"))?.status).toBe("failed");
        expect((await q.get("k", "d"))?.status).toBe("queued");
        expect(await q.expire(now)).toEqual([]);
        expect((await q.expire(now + 60_000)).map((j) => j.id)).toEqual(["b"]);
        expect((await q.list({ owner: "k" }, { order: "asc", limit: 10 })).total).toBe(1);
      });

      it("counts jobs by status", async () => {
        const { q } = await fresh();
        for (const id of ["a", "b", "c", "d"]) await q.enqueue(job(id));
        const a = (await q.claim(W("w")))!;
        await q.saveCheckpoint(a.lease, 1, new Uint8Array([1]));
        await q.complete(a.lease, result, FAR);
        await q.claim(W("w"));
        await q.cancel("k", "c", FAR);
        const s = await q.stats();
        expect(s.byStatus).toEqual({ queued: 1, running: 1, succeeded: 1, failed: 0, cancelled: 1 });
        expect(s.stepsTotal).toBeGreaterThanOrEqual(1);
      });

      it("is durable across handles: a job stored through one is seen and run through another", async () => {
        const { q, again } = await fresh();
        await q.enqueue(job("j"));
        await q.close();
        open.splice(open.indexOf(q), 1);
        const q2 = await again();
        expect((await q2.get("k", "j"))?.status).toBe("queued");
        const c = (await q2.claim(W("w")))!;
        expect(await q2.complete(c.lease, result, FAR)).toBe(true);
      });

      it("hands each job to exactly one of many concurrent claimers", async () => {
        const { q, again } = await fresh();
        const q2 = await again();
        const n = 20;
        for (let i = 0; i < n; i++) await q.enqueue(job(`j${i}`));
        const got: string[] = [];
        const claimer = async (h: JobQueue, w: string) => {
          for (;;) {
            const c = await h.claim(W(w));
            if (!c) return;
            got.push(c.job.id);
            expect(await h.complete(c.lease, result, FAR)).toBe(true);
          }
        };
        await Promise.all([claimer(q, "a"), claimer(q2, "b"), claimer(q, "c"), claimer(q2, "d")]);
        expect(got.sort()).toEqual(Array.from({ length: n }, (_, i) => `j${i}`).sort());
        expect((await q.stats()).byStatus.succeeded).toBe(n);
      });

      it.runIf(t.relaysEvents)("relays state changes made through another handle", async () => {
        const { q, again } = await fresh();
        const q2 = await again();
        const seen: string[] = [];
        q2.subscribe((e) => seen.push(`${e.job.id}:${e.previous ?? "-"}>${e.job.status}`));
        await (q2 as JobQueue & { ready?: () => Promise<void> }).ready?.();
        await q.enqueue(job("j"));
        const c = (await q.claim(W("w")))!;
        await q.complete(c.lease, result, FAR);
        const want = ["j:->queued", "j:queued>running", "j:running>succeeded"];
        for (let i = 0; i < 100 && seen.length < want.length; i++) await sleep(20);
        expect(seen).toEqual(want);
        const statuses: JobStatus[] = [];
        q.subscribe((e) => statuses.push(e.job.status));
        await q.enqueue(job("k2"));
        expect(statuses).toEqual(["queued"]); // own changes: delivered once, at once
      });
    },
  );
}
