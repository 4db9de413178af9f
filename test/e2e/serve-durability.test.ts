/**
 * `reel serve` durability: the server is SIGKILLed mid-sampling and restarted on the same data
 * folder; the job is claimed again after its lease expires, resumes from its last saved
 * sampling step, completes exactly once, and its video equals that of an uninterrupted run
 * with the same seed. SIGTERM with no grace re-queues a running job, which the next server
 * finishes.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { type Served, startServe, until } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir();
afterAll(tmp.cleanup);
const ENV = { REEL_API_KEYS: "", REEL_LEASE_MS: "1500", REEL_GRACE_MS: "0" };
const BODY = {
  model: "reel-toy",
  content: [{ type: "text", text: "a green square moves left over the sky" }],
  seed: 1234,
  duration: 3,
};

const tasks = (s: Served, path = "") => `${s.url}/api/v3/contents/generations/tasks${path}`;
const create = async (s: Served) =>
  ((await (await fetch(tasks(s), { method: "POST", body: JSON.stringify(BODY) })).json()) as { id: string }).id;
const get = async (s: Served, id: string) =>
  (await (await fetch(tasks(s, `/${id}`))).json()) as { status: string; content: { video_url?: string } };
const sha = async (url: string) =>
  createHash("sha256")
    .update(Buffer.from(await (await fetch(url)).arrayBuffer()))
    .digest("hex");
const finished = (s: Served, id: string) =>
  until(async () => {
    const t = await get(s, id);
    return t.status === "succeeded" || t.status === "failed" ? t : undefined;
  }, 240_000);

/** Waits until the job has saved a sampling checkpoint past step 2 (read from the database). */
const checkpointed = (dir: string, id: string) =>
  until(
    async () => {
      const db = new Database(join(dir, "queue.db"), { readonly: true });
      try {
        const r = db.prepare("SELECT checkpoint_step FROM jobs WHERE id = ?").get(id) as { checkpoint_step: number };
        return r.checkpoint_step >= 3 ? r.checkpoint_step : undefined;
      } finally {
        db.close();
      }
    },
    120_000,
    50,
  );

describe("reel serve durability", () => {
  let reference: string;

  it("an uninterrupted run (the reference)", async () => {
    const dir = join(tmp.dir, "ref");
    const s = await startServe(["--data", dir], ENV);
    try {
      const id = await create(s);
      const t = await finished(s, id);
      expect(t.status).toBe("succeeded");
      reference = await sha(t.content.video_url!);
    } finally {
      await s.stop();
    }
  });

  it("SIGKILL mid-job, restart: resumes from the saved step, completes once, same video", async () => {
    const dir = join(tmp.dir, "kill");
    const a = await startServe(["--data", dir], ENV);
    const id = await create(a);
    const step = await checkpointed(dir, id);
    await a.kill();
    const b = await startServe(["--data", dir], ENV);
    try {
      const t = await finished(b, id);
      expect(t.status).toBe("succeeded");
      const m = new RegExp(`job ${id}: attempt 2 on worker \\S+, resuming from step (\\d+)`).exec(b.log());
      expect(m, b.log()).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(step);
      expect(`${a.log()}${b.log()}`.split(`job ${id}: succeeded`).length - 1).toBe(1);
      // the killed attempt's half-written files are gone; only the finished attempt's remain
      expect(readdirSync(join(dir, "files", id)).sort()).toEqual([
        "a2-last-frame.png",
        "a2-thumbnail.png",
        "a2-video.mp4",
      ]);
      expect(await sha(t.content.video_url!)).toBe(reference);
    } finally {
      await b.stop();
    }
    const db = new Database(join(dir, "queue.db"), { readonly: true });
    expect(db.prepare("SELECT status, attempts FROM jobs WHERE id = ?").get(id)).toEqual({
      status: "succeeded",
      attempts: 2,
    });
    db.close();
  });

  it("SIGTERM re-queues a running job gracefully; the next server finishes it", async () => {
    const dir = join(tmp.dir, "term");
    const a = await startServe(["--data", dir], ENV);
    const id = await create(a);
    await checkpointed(dir, id);
    expect(await a.stop()).toBe(0);
    expect(a.log()).toContain(`job ${id}: re-queued at shutdown`);
    const b = await startServe(["--data", dir], ENV);
    try {
      const t = await finished(b, id);
      expect(t.status).toBe("succeeded");
      expect(b.log()).toMatch(new RegExp(`job ${id}: attempt 1 on worker \\S+, resuming from step [1-9]`));
      expect(await sha(t.content.video_url!)).toBe(reference);
    } finally {
      await b.stop();
    }
  });

  it("outputs expire after --output-ttl: the task and its files are gone", async () => {
    const dir = join(tmp.dir, "ttl");
    const s = await startServe(["--data", dir, "--output-ttl", "2"], ENV);
    try {
      const id = (
        (await (
          await fetch(tasks(s), {
            method: "POST",
            body: JSON.stringify({ model: "reel-toy", content: [{ type: "text", text: "a red ball" }] }),
          })
        ).json()) as { id: string }
      ).id;
      const t = await finished(s, id);
      expect(t.status).toBe("succeeded");
      expect(existsSync(join(dir, "files", id))).toBe(true);
      await until(async () => ((await fetch(tasks(s, `/${id}`))).status === 404 ? true : undefined), 10_000);
      expect([403, 404]).toContain((await fetch(t.content.video_url!)).status); // the link expires with the file
      expect(existsSync(join(dir, "files", id))).toBe(false);
    } finally {
      await s.stop();
    }
  });
});
