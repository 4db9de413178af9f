/**
 * Stories over HTTP, end to end: the real `reel serve` with the embedded model plans a
 * three-shot story, renders it as a task with per-shot progress, serves the film and its
 * sidecars, re-renders one shot (the others come from the shot cache), refuses bad plans with
 * a 400 that names the field, keeps one key's stories from another, and forgets a story
 * deleted mid-render at once.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, startServe, until } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

const KEY_A = "reel-story-key-aaaaaaaaaaa";
const KEY_B = "reel-story-key-bbbbbbbbbbb";
const tmp = tempDir();
let srv: Served;

const hasTools = spawnSync("ffprobe", ["-version"]).status === 0 && spawnSync("espeak-ng", ["--version"]).status === 0;
if (!hasTools && process.env.CI === "true") throw new Error("CI=true but ffprobe or espeak-ng is missing");

interface StoryObject {
  id: string;
  status: string;
  progress: number;
  only: number[] | null;
  shots: { index: number; status: string; progress: number }[];
  plan: { shots: { prompt: string }[] };
  files: Record<string, string> | null;
  error: { code: string; message: string } | null;
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
type Json = any;

async function api(path: string, init: RequestInit = {}, key = KEY_A): Promise<{ status: number; body: Json }> {
  const r = await fetch(`${srv.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: r.status, body };
}

const post = (path: string, body: unknown, key = KEY_A) =>
  api(path, { method: "POST", body: JSON.stringify(body) }, key);

async function finished(id: string, seen?: Set<string>): Promise<StoryObject> {
  return until(
    async () => {
      const s = (await api(`/v1/stories/${id}`)).body as StoryObject;
      for (const x of s.shots) seen?.add(`${x.index}:${x.status}`);
      return ["succeeded", "failed", "cancelled"].includes(s.status) ? s : undefined;
    },
    240_000,
    100,
  );
}

/** Downloads a film and hashes its decoded frames. */
async function framesOf(path: string): Promise<string> {
  const r = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${KEY_A}` } });
  const file = join(tmp.dir, `${path.split("/")[3]}.mp4`);
  writeFileSync(file, Buffer.from(await r.arrayBuffer()));
  const raw = spawnSync("ffmpeg", ["-v", "error", "-i", file, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], {
    maxBuffer: 1 << 28,
  });
  expect(raw.status).toBe(0);
  return createHash("sha256").update(raw.stdout).digest("hex");
}

beforeAll(async () => {
  srv = await startServe(["--data", join(tmp.dir, "data")], { REEL_API_KEYS: `${KEY_A},${KEY_B}` });
});
afterAll(async () => {
  await srv?.stop();
  tmp.cleanup();
});

describe.skipIf(!hasTools)(hasTools ? "reel serve: stories" : "SKIPPED: no ffprobe or espeak-ng", () => {
  let first: StoryObject;

  it("plans, renders a three-shot story with per-shot progress, and serves the film and sidecars", async () => {
    const planned = await post("/v1/stories/plan", {
      prompts: [
        "a red ball rolls to the right over green grass",
        "it stops under an orange sunset",
        "a blue star spins",
      ],
      seed: 5,
      narrate: "en",
    });
    expect(planned.status).toBe(200);
    const plan = planned.body.plan;
    expect(plan.shots).toHaveLength(3);
    plan.shots[2].prompt = "a blue star spins on a checkerboard"; // the client edits the plan
    const created = await post("/v1/stories", { plan });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ object: "story", status: "queued", title: plan.title });
    const seen = new Set<string>();
    first = await finished(created.body.id, seen);
    expect(first.status, JSON.stringify(first.error)).toBe("succeeded");
    expect(first.shots.map((s) => s.status)).toEqual(["rendered", "rendered", "rendered"]);
    expect(first.plan.shots[2]!.prompt).toBe("a blue star spins on a checkerboard");
    // the poll saw shots being rendered one by one
    expect([...seen].some((s) => s.endsWith(":rendering"))).toBe(true);

    const video = await fetch(`${srv.url}${first.files!.video}`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(video.headers.get("content-type")).toBe("video/mp4");
    const mp4 = join(tmp.dir, "film.mp4");
    writeFileSync(mp4, Buffer.from(await video.arrayBuffer()));
    const probe = JSON.parse(
      spawnSync("ffprobe", ["-v", "error", "-show_streams", "-of", "json", mp4], { encoding: "utf8" }).stdout,
    ) as { streams: { codec_type: string; width?: number }[] };
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(["audio", "video"]);
    const vtt = await api(`/v1/stories/${first.id}/content?variant=vtt`);
    expect(String(vtt.body)).toMatch(/^WEBVTT/);
    expect(String(vtt.body)).toContain("it stops under an orange sunset");
    const storedPlan = await api(`/v1/stories/${first.id}/content?variant=plan`);
    expect(storedPlan.body.shots).toHaveLength(3);
  }, 300_000);

  it("re-renders one shot and takes the others from the cache", async () => {
    const again = await post(`/v1/stories/${first.id}/shots/2/render`, {});
    expect(again.status).toBe(200);
    expect(again.body.only).toEqual([2]);
    const s = await finished(again.body.id);
    expect(s.status).toBe("succeeded");
    expect(s.shots.map((x) => x.status)).toEqual(["cached", "rendered", "cached"]);
    // the same plan and seed: the re-rendered shot is the same clip, so the film has the same frames
    expect(await framesOf(s.files!.video!)).toEqual(await framesOf(first.files!.video!));
  }, 300_000);

  it("refuses bad requests with a 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ prompts: [] }, "prompts"],
      [{}, "plan"],
      [{ plan: { title: "t", shots: [{ prompt: "a ball", duration: -1 }] } }, "plan"],
      [
        { plan: { title: "t", shots: [{ prompt: "a ball", duration: 1 }], soundtrack: "/etc/passwd" } },
        "plan.soundtrack",
      ],
      [{ prompts: ["a ball"], model: "no-such-model" }, "model"],
      [{ prompts: ["a ball"], only: [4] }, "only"],
      [{ prompts: ["a ball"], colour: "red" }, "body"],
    ];
    for (const [body, param] of cases) {
      const r = await post("/v1/stories", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.param, JSON.stringify(r.body)).toBe(param);
    }
    expect((await post(`/v1/stories/${first.id}/shots/9/render`, {})).status).toBe(400);
    expect((await api("/v1/stories/story_nope")).status).toBe(404);
  });

  it("keeps one key's stories from another", async () => {
    expect((await api(`/v1/stories/${first.id}`, {}, KEY_B)).status).toBe(404);
    expect((await api("/v1/stories", {}, KEY_B)).body.data).toEqual([]);
    expect((await api("/v1/stories")).body.data.length).toBeGreaterThanOrEqual(2);
  });

  it("forgets a story deleted while it renders at once, and its worker goes on to the next", async () => {
    const created = await post("/v1/stories", {
      prompts: ["a green square drifts up", "a yellow ball bounces", "a red star spins", "a blue ring grows"],
      seed: 9,
    });
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    await until(
      async () => ((await api(`/v1/stories/${id}`)).body.status === "running" ? true : undefined),
      120_000,
      50,
    );
    const del = await api(`/v1/stories/${id}`, { method: "DELETE" });
    expect(del.body).toEqual({ id, deleted: true, object: "story.deleted" });
    expect((await api(`/v1/stories/${id}`)).status).toBe(404);
    expect((await api("/v1/stories")).body.data.map((x: StoryObject) => x.id)).not.toContain(id);
    // the worker stops it and renders the next story; the deleted one stays gone
    const next = await post("/v1/stories", { prompts: ["a pink heart stays still"], seed: 2 });
    expect((await finished(next.body.id)).status).toBe("succeeded");
    expect((await api(`/v1/stories/${id}`)).status).toBe(404);
    expect((await api(`/v1/stories/${id}/content`)).status).toBe(404);
  }, 300_000);
});
