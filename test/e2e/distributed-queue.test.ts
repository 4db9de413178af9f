/**
 * Scaling out end to end: a real redis-server, `reel serve --queue redis://… --workers 0` (API
 * only) and separate `reel worker --queue …` processes sharing one data folder, running real
 * jobs with the embedded model. Every job completes exactly once, split across both workers;
 * a worker killed with SIGKILL mid-job loses its lease and another worker resumes the job from
 * its last checkpoint and completes it. Without redis-server the file is skipped with the
 * reason locally and fails under CI=true.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, redisSkipReason, startRedis } from "../helpers/redis-server.ts";
import { type ReelProcess, type Served, startReel, startServe, until } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

// short enough for the kill test; long enough that a busy shared machine (the full suite beside a
// training run) does not starve a live worker's heartbeat past it (3 s once did)
const LEASE_MS = 10_000;
const skipReason = redisSkipReason();
const tmp = tempDir();

function startWorker(queueUrl: string): Promise<ReelProcess> {
  return startReel(["worker", "--queue", queueUrl, "--data", tmp.dir, "--threads", "1"], /reel worker: ready/, {
    REEL_LEASE_MS: String(LEASE_MS),
  });
}

const succeededIn = (log: string, id: string) => log.split(`job ${id}: succeeded`).length - 1;

describe.skipIf(skipReason !== null)(
  `reel serve + reel worker on a Redis queue${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let redis: RedisServer;
    let srv: Served;
    let peek: Redis;
    const procs: ReelProcess[] = [];
    const field = (id: string, f: string) => peek.hget(`reel:job:${id}`, f);

    beforeAll(async () => {
      redis = await startRedis();
      peek = new Redis(redis.url);
      srv = await startServe(["--data", tmp.dir, "--workers", "0", "--queue", redis.url], {
        REEL_LEASE_MS: String(LEASE_MS),
      });
    });
    afterAll(async () => {
      for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) await p.kill();
      if (srv) expect(await srv.stop()).toBe(0);
      peek?.disconnect();
      await redis?.stop();
      tmp.cleanup();
    });

    const ark = (path: string, init: RequestInit = {}) =>
      fetch(`${srv.url}/api/v3/contents/generations/tasks${path}`, {
        ...init,
        headers: { "content-type": "application/json" },
      });
    const create = async (duration: number, i: number) => {
      const r = await ark("", {
        method: "POST",
        body: JSON.stringify({
          model: "reel-toy",
          content: [{ type: "text", text: `a red ball moves to the right over green grass --seed ${i}` }],
          duration,
        }),
      });
      expect(r.status).toBe(200);
      return ((await r.json()) as { id: string }).id;
    };
    const finished = (id: string, ms = 180_000) =>
      until(async () => {
        const t = (await (await ark(`/${id}`)).json()) as {
          status: string;
          content?: { video_url: string };
          error: unknown;
        };
        return t.status === "succeeded" || t.status === "failed" || t.status === "cancelled" ? t : undefined;
      }, ms);
    const served = async (url: string) => {
      const v = await fetch(url);
      expect(v.status).toBe(200);
      expect(
        Buffer.from(await v.arrayBuffer())
          .subarray(4, 8)
          .toString(),
      ).toBe("ftyp");
    };

    it("two workers run every job exactly once, split between them", async () => {
      const a = await startWorker(redis.url);
      const b = await startWorker(redis.url);
      procs.push(a, b);
      const ids: string[] = [];
      const attempts: number[] = [];
      for (let i = 0; i < 6; i++) ids.push(await create(1, i));
      for (const id of ids) {
        const t = await finished(id);
        expect(t.status, JSON.stringify(t.error)).toBe("succeeded");
        await served(t.content!.video_url);
        attempts.push(Number(await field(id, "attempts")));
        // the worker logs after its complete() returned: give its stderr a moment to arrive
        await until(
          async () => (succeededIn(a.log(), id) + succeededIn(b.log(), id) > 0 ? true : undefined),
          10_000,
          50,
        );
        expect(succeededIn(a.log(), id) + succeededIn(b.log(), id)).toBe(1);
      }
      const byA = ids.filter((id) => succeededIn(a.log(), id) === 1).length;
      expect(byA).toBeGreaterThan(0);
      expect(byA).toBeLessThan(ids.length);
      // a re-claim (attempts > 1) only ever follows a lapsed lease, and still completes once (above)
      for (const [i, n] of attempts.entries())
        if (n > 1) {
          const lost = `job ${ids[i]}: lease lost`;
          await until(async () => (`${a.log()}${b.log()}`.includes(lost) ? true : undefined), 30_000, 100);
        }
      console.info(
        `two workers: A ran ${byA} of ${ids.length} jobs, B ${ids.length - byA}; attempts ${attempts.join(",")}`,
      );
      // graceful stop: SIGTERM with nothing running exits 0
      expect(await b.stop()).toBe(0);
      expect(b.log()).toContain("reel worker: stopped");
    });

    it("a worker killed with SIGKILL mid-job: another resumes it after the lease expires", async () => {
      const [a, b] = procs;
      if (!a || !b) throw new Error("needs the workers of the test before");
      if (b.proc.exitCode === null) await b.stop(); // only A may take the next job
      const id = await create(4, 99);
      // wait until worker A is sampling this job and has saved a checkpoint
      const step = await until(
        async () => {
          const [status, cp] = await Promise.all([field(id, "status"), field(id, "checkpointStep")]);
          if (status !== "running" && status !== "queued") throw new Error(`job ended before the kill: ${status}`);
          return status === "running" && Number(cp) >= 1 ? Number(cp) : undefined;
        },
        120_000,
        20,
      );
      expect(await field(id, "leaseWorker")).toBe(`${a.proc.pid}-0`);
      await a.kill();
      const c = await startWorker(redis.url);
      procs.push(c);
      const t = await finished(id);
      expect(t.status, JSON.stringify(t.error)).toBe("succeeded");
      await served(t.content!.video_url);
      expect(await field(id, "attempts")).toBe("2");
      expect(succeededIn(a.log(), id)).toBe(0);
      await until(async () => (succeededIn(c.log(), id) > 0 ? true : undefined), 10_000, 50);
      expect(succeededIn(c.log(), id)).toBe(1);
      const resumed = new RegExp(`job ${id}: attempt 2 on worker ${c.proc.pid}-0, resuming from step (\\d+)`).exec(
        c.log(),
      );
      expect(resumed, c.log()).not.toBeNull();
      expect(Number(resumed![1])).toBeGreaterThanOrEqual(step);
      console.info(`SIGKILL at checkpoint step ≥ ${step}; the new worker resumed from step ${resumed![1]}`);
      expect(await c.stop()).toBe(0);
    });
  },
);
