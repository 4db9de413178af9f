/**
 * `reel serve` end to end: the real server process with the embedded model. The official
 * `openai` client and plain fetch (Ark) run jobs to completion; every error class answers in
 * its API's format; keys see only their own tasks; image_url and callback fetches refuse
 * loopback/private targets (a local server that must never be reached), also via redirects;
 * cancellation stops a running job.
 */
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI, { toFile } from "openai";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Served, startServe, until } from "../helpers/serve.ts";
import { tempDir } from "../helpers/tmp.ts";

const KEY_A = "reel-test-key-aaaaaaaaaaaa";
const KEY_B = "reel-test-key-bbbbbbbbbbbb";
const PROMPT = "a red ball moves to the right over green grass";
const tmp = tempDir();

/** A local target that must never be fetched, and a receiver for callbacks that may be. */
let forbidden: Server;
let forbiddenHits = 0;
let receiver: Server;
const callbacks: { status: string; id: string }[] = [];
let srv: Served;
let png: Buffer;

const port = (s: Server) => (s.address() as AddressInfo).port;
const listen = (s: Server) => new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));

beforeAll(async () => {
  png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#ff0000" } })
    .png()
    .toBuffer();
  forbidden = createServer((_req, res) => {
    forbiddenHits++;
    res.writeHead(200, { "content-type": "image/png" });
    res.end(png);
  });
  await listen(forbidden);
  receiver = createServer((req, res) => {
    if (req.url === "/redirect") {
      res.writeHead(302, { location: `http://127.0.0.1:${port(forbidden)}/img.png` });
      res.end();
      return;
    }
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      callbacks.push(JSON.parse(body) as { status: string; id: string });
      res.end("ok");
    });
  });
  await listen(receiver);
  srv = await startServe(["--data", tmp.dir, "--workers", "1"], {
    REEL_API_KEYS: `${KEY_A},${KEY_B}`,
    REEL_URL_ALLOW: `127.0.0.1:${port(receiver)}`,
    REEL_MODEL_ALIASES: "sora-2=reel-toy",
  });
});

afterAll(async () => {
  expect(await srv?.stop()).toBe(0);
  forbidden?.close();
  receiver?.close();
  tmp.cleanup();
});

const ark = (path: string, init: RequestInit & { key?: string } = {}) =>
  fetch(`${srv.url}/api/v3/contents/generations/tasks${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(init.key !== "" ? { authorization: `Bearer ${init.key ?? KEY_A}` } : {}),
    },
  });
const arkCreate = (body: unknown, key?: string) =>
  ark("", { method: "POST", body: JSON.stringify(body), ...(key ? { key } : {}) });

async function arkError(r: Response, status: number, param: RegExp | string) {
  expect(r.status).toBe(status);
  const b = (await r.json()) as { error: { code: string; message: string; param: string; type: string } };
  expect(b.error.param).toMatch(param);
  expect(b.error.message.length).toBeGreaterThan(5);
  return b.error;
}

describe("reel serve (Ark API)", () => {
  it("runs a task with inline flags and a callback; the video URL serves an MP4", async () => {
    const r = await arkCreate({
      model: "reel-toy",
      content: [{ type: "text", text: `${PROMPT} --rt 1:1 --seed 5 --dur 1` }],
      seed: 9, // the body wins over --seed
      callback_url: `http://127.0.0.1:${port(receiver)}/cb`,
    });
    expect(r.status).toBe(200);
    const { id } = (await r.json()) as { id: string };
    expect(id).toMatch(/^cgt-/);
    const task = await until(async () => {
      const t = (await (await ark(`/${id}`)).json()) as Record<string, unknown>;
      return t.status === "succeeded" || t.status === "failed" ? t : undefined;
    });
    expect(task).toMatchObject({
      id,
      model: "reel-toy",
      status: "succeeded",
      error: null,
      seed: 9,
      ratio: "1:1",
      resolution: "128p",
      duration: 1,
      frames: 17,
      framespersecond: 16,
      usage: { completion_tokens: 272, total_tokens: 272 },
    });
    expect(typeof task.created_at).toBe("number");
    const video = await fetch((task.content as { video_url: string }).video_url);
    expect(video.status).toBe(200);
    expect(video.headers.get("content-type")).toBe("video/mp4");
    expect(
      Buffer.from(await video.arrayBuffer())
        .subarray(4, 8)
        .toString(),
    ).toBe("ftyp");
    // a tampered signature is refused (the first character changed to one it cannot already be)
    const tampered = (task.content as { video_url: string }).video_url.replace(/sig=(.)/, (_, c: string) =>
      c === "x" ? "sig=y" : "sig=x",
    );
    expect(tampered).not.toBe((task.content as { video_url: string }).video_url);
    expect((await fetch(tampered)).status).toBe(403);
    await until(async () => (callbacks.filter((c) => c.id === id).length >= 3 ? true : undefined), 20_000);
    expect(callbacks.filter((c) => c.id === id).map((c) => c.status)).toEqual(["queued", "running", "succeeded"]);
  });

  it("lists with paging and filters, per key; deletes finished tasks", async () => {
    const list = (await (await ark("?page_num=1&page_size=1&filter.status=succeeded")).json()) as {
      total: number;
      items: { id: string }[];
    };
    expect(list.total).toBe(1);
    expect(list.items).toHaveLength(1);
    const id = list.items[0]!.id;
    const byIds = (await (await ark(`?filter.task_ids=${id}&filter.model=reel-toy`)).json()) as { total: number };
    expect(byIds.total).toBe(1);
    // another key sees nothing of it
    expect(((await (await ark("", { key: KEY_B })).json()) as { total: number }).total).toBe(0);
    await arkError(await ark(`/${id}`, { key: KEY_B }), 404, "task_id");
    await arkError(await ark(`/${id}`, { key: KEY_B, method: "DELETE" }), 404, "task_id");
    expect((await ark(`/${id}`, { method: "DELETE" })).status).toBe(200);
    await arkError(await ark(`/${id}`), 404, "task_id");
  });

  it("answers 401 without or with a wrong key, in Ark's format", async () => {
    const e = await arkError(await ark("", { key: "" }), 401, "");
    expect(e).toMatchObject({ code: "AuthenticationError", type: "Unauthorized" });
    await arkError(await ark("", { key: "nope-nope-nope-nope" }), 401, "");
  });

  it("rejects every bad input with a 400 naming the field", async () => {
    const base = { model: "reel-toy", content: [{ type: "text", text: PROMPT }] };
    const bad = await ark("", { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    await arkError(await arkCreate({ ...base, model: "../../etc/passwd" }), 400, "model");
    await arkError(await arkCreate({ ...base, model: "seedance-1-0-pro" }), 400, "model");
    await arkError(await arkCreate({ ...base, ratio: "5:7" }), 400, "ratio");
    await arkError(await arkCreate({ ...base, resolution: "1080p" }), 400, "resolution");
    await arkError(await arkCreate({ ...base, duration: 60 }), 400, "duration");
    await arkError(await arkCreate({ ...base, frames: 18 }), 400, "frames");
    await arkError(await arkCreate({ ...base, frames: 17, duration: 1 }), 400, "frames");
    await arkError(await arkCreate({ ...base, generate_audio: true }), 400, "generate_audio");
    await arkError(
      await arkCreate({ ...base, content: [{ type: "text", text: `${PROMPT} --bogus 3` }] }),
      400,
      "content.text",
    );
    await arkError(
      await arkCreate({ ...base, content: [{ type: "text", text: "x".repeat(4001) }] }),
      400,
      "content.text",
    );
    await arkError(
      await arkCreate({ ...base, content: [...base.content, { type: "video_url", video_url: { url: "https://x" } }] }),
      400,
      "content[1].type",
    );
    const img = (url: string, role = "first_frame") => ({ type: "image_url", image_url: { url }, role });
    await arkError(
      await arkCreate({ ...base, content: [...base.content, img("a"), img("b"), img("c"), img("d")] }),
      400,
      "content",
    );
    await arkError(
      await arkCreate({ ...base, content: [...base.content, img("data:x", "reference_image")] }),
      400,
      /role/,
    );
    const big = await arkCreate({ ...base, content: [{ type: "text", text: "y".repeat(9 << 20) }] });
    expect(big.status).toBe(413);
    expect((await ark("?page_size=501")).status).toBe(400);
    // nothing was queued by any of these
    expect(((await (await ark("?filter.status=queued")).json()) as { total: number }).total).toBe(0);
  });

  it("cancels a queued task, and a running one within a step", async () => {
    const mk = async () =>
      (
        (await (
          await arkCreate({ model: "reel-toy", content: [{ type: "text", text: PROMPT }], duration: 4 })
        ).json()) as {
          id: string;
        }
      ).id;
    const running = await mk();
    const queued = await mk();
    await until(async () => {
      const t = (await (await ark(`/${running}`)).json()) as { status: string };
      return t.status === "running" ? true : undefined;
    });
    expect((await ark(`/${queued}`, { method: "DELETE" })).status).toBe(200);
    expect(((await (await ark(`/${queued}`)).json()) as { status: string }).status).toBe("cancelled");
    const t0 = Date.now();
    expect((await ark(`/${running}`, { method: "DELETE" })).status).toBe(200);
    const done = await until(async () => {
      const t = (await (await ark(`/${running}`)).json()) as { status: string };
      return t.status === "cancelled" || t.status === "succeeded" ? t.status : undefined;
    }, 60_000);
    expect(done).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(srv.log()).toContain(`job ${running}: cancelled`);
  });
});

describe("reel serve (image_url safety)", () => {
  const withImage = (url: string) => ({
    model: "reel-toy",
    content: [
      { type: "text", text: PROMPT },
      { type: "image_url", image_url: { url }, role: "first_frame" },
    ],
  });

  it("refuses loopback, private, link-local and metadata targets, also behind a redirect, and other schemes", async () => {
    for (const url of [
      `http://127.0.0.1:${port(forbidden)}/img.png`,
      `http://localhost:${port(forbidden)}/img.png`,
      `http://[::1]:${port(forbidden)}/img.png`,
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/img.png",
      "http://192.168.0.1/img.png",
      `http://127.0.0.1:${port(receiver)}/redirect`,
      "file:///etc/passwd",
      "ftp://example.com/a.png",
    ]) {
      const r = await arkCreate(withImage(url));
      const e = await arkError(r, 400, "content[1].image_url.url");
      // judged before the model (reel-toy is text-to-video) is asked whether it takes images
      expect(e.message).toMatch(/loopback, private, link-local or reserved address|must be http\(s\)/);
    }
    expect(forbiddenHits).toBe(0);
  });

  it("checks data: images by their bytes, type and size", async () => {
    const gif = `data:image/png;base64,${Buffer.from("GIF89a....").toString("base64")}`;
    const e = await arkError(await arkCreate(withImage(gif)), 400, "content[1].image_url.url");
    expect(e.message).toMatch(/not a PNG, JPEG or WebP image/);
    const huge = `data:image/png;base64,${Buffer.alloc(11 << 19).toString("base64")}`;
    const h = await arkError(await arkCreate(withImage(huge)), 400, "content[1].image_url.url");
    expect(h.message).toMatch(/larger than 5242880 bytes/);
    // a real PNG passes the checks; then the model says it takes no first frame
    const ok = `data:image/png;base64,${png.toString("base64")}`;
    const m = await arkError(await arkCreate(withImage(ok)), 400, "content");
    expect(m.message).toMatch(/text-to-video only/);
  });
});

describe("reel serve (OpenAI API through the official client)", () => {
  const client = () => new OpenAI({ apiKey: KEY_A, baseURL: `${srv.url}/v1`, maxRetries: 0 });

  it("creates (multipart), polls progress, downloads video and thumbnail, lists, remixes and deletes", async () => {
    const c = client();
    const v = await c.videos.create({
      prompt: PROMPT,
      model: "sora-2",
      seconds: "1" as "4",
      size: "128x128" as "720x1280",
    });
    expect(v).toMatchObject({ object: "video", status: "queued", model: "sora-2", size: "128x128", seconds: "1" });
    const seen = new Set<number>();
    const done = await until(async () => {
      const x = await c.videos.retrieve(v.id);
      seen.add(x.progress);
      return x.status === "completed" || x.status === "failed" ? x : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.progress).toBe(100);
    expect(typeof done.completed_at).toBe("number");
    expect(typeof done.expires_at).toBe("number");
    const mp4 = Buffer.from(await (await c.videos.downloadContent(v.id)).arrayBuffer());
    expect(mp4.subarray(4, 8).toString()).toBe("ftyp");
    const thumb = Buffer.from(await (await c.videos.downloadContent(v.id, { variant: "thumbnail" })).arrayBuffer());
    expect((await sharp(thumb).metadata()).width).toBe(128);
    const remix = await c.videos.remix(v.id, { prompt: "a blue square moves up over the sky" });
    expect(remix.remixed_from_video_id).toBe(v.id);
    const ids: string[] = [];
    for await (const x of c.videos.list({ limit: 1, order: "asc" })) ids.push(x.id);
    expect(ids).toEqual([v.id, remix.id]);
    const del = await c.videos.delete(remix.id);
    expect(del).toMatchObject({ id: remix.id, deleted: true, object: "video.deleted" });
    await expect(c.videos.retrieve(remix.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("maps errors to the client's error classes, with the field named", async () => {
    const c = client();
    const bad = async (
      p: Promise<unknown>,
      cls: abstract new (...a: never[]) => InstanceType<typeof OpenAI.APIError>,
      param: string | null,
    ) => {
      const e = (await p.then(
        () => null,
        (x: unknown) => x,
      )) as InstanceType<typeof OpenAI.APIError>;
      expect(e).toBeInstanceOf(cls);
      expect((e.error as { param: string | null }).param).toBe(param);
    };
    await bad(c.videos.create({ prompt: PROMPT, size: "1280x720" }), OpenAI.BadRequestError, "size");
    await bad(c.videos.create({ prompt: PROMPT, seconds: "30" as "4" }), OpenAI.BadRequestError, "seconds");
    await bad(c.videos.create({ prompt: PROMPT, model: "sora-2-pro" }), OpenAI.BadRequestError, "model");
    await bad(c.videos.create({ prompt: "x".repeat(5000) }), OpenAI.BadRequestError, "prompt");
    await bad(
      c.videos.create({ prompt: PROMPT, input_reference: await toFile(Buffer.from("not an image"), "a.png") }),
      OpenAI.BadRequestError,
      "input_reference",
    );
    await bad(c.videos.retrieve("video_nope"), OpenAI.NotFoundError, "video_id");
    const other = new OpenAI({ apiKey: KEY_B, baseURL: `${srv.url}/v1`, maxRetries: 0 });
    const mine = (await c.videos.list()).data[0]!;
    await bad(other.videos.retrieve(mine.id), OpenAI.NotFoundError, "video_id");
    const anon = new OpenAI({ apiKey: "wrong-wrong-wrong-wrong", baseURL: `${srv.url}/v1`, maxRetries: 0 });
    await bad(anon.videos.list(), OpenAI.AuthenticationError, null);
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    expect(await (await fetch(`${srv.url}/healthz`)).json()).toMatchObject({
      status: "ok",
      models: ["reel-toy", "sora-2"],
    });
    const m = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${KEY_A}` } })).text();
    expect(m).toMatch(/^reel_queue_depth \d+$/m);
    expect(m).toMatch(/^reel_jobs\{state="succeeded"\} [1-9]\d*$/m);
    expect(m).toMatch(/^reel_sampling_steps_total [1-9]\d*$/m);
  });
});

describe("reel serve (binding)", () => {
  it("refuses to bind beyond loopback without API keys, saying why", () => {
    const r = spawnSync(
      process.execPath,
      ["bin/reel.js", "serve", "--host", "0.0.0.0", "--port", "0", "--data", tmp.dir],
      {
        encoding: "utf8",
        env: { ...process.env, REEL_API_KEYS: "" },
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve on 0\.0\.0\.0 without API keys/);
  });
});
