/**
 * The OpenAI-compatible video API (research-anchors.md §3): /v1/videos create (JSON or
 * multipart), retrieve, list (after, limit, order), delete, content (video | thumbnail) and
 * remix. Statuses map queued → queued, running → in_progress, succeeded → completed,
 * failed and cancelled → failed (cancelled with error code "cancelled").
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type Ctx, deleteForClient, isDeleted, modelFor, submit } from "./context.ts";
import { ApiError, parseJson, readBody, sendJson } from "./http.ts";
import { checkImage, fetchImageUrl, type InputImage } from "./images.ts";
import { FieldError, openaiShape } from "./mapping.ts";
import type { JobRecord } from "./queue/queue.ts";
import { resolveSeed } from "./context.ts";

const STATUS = {
  queued: "queued",
  running: "in_progress",
  succeeded: "completed",
  failed: "failed",
  cancelled: "failed",
};

export function videoObject(j: JobRecord): Record<string, unknown> {
  const s = (t: number | null) => (t === null ? null : Math.floor(t / 1000));
  return {
    id: j.id,
    object: "video",
    created_at: s(j.createdAt),
    completed_at: j.status === "succeeded" ? s(j.completedAt) : null,
    expires_at: s(j.expiresAt),
    error:
      j.status === "cancelled"
        ? { code: "cancelled", message: "the video was cancelled" }
        : j.error
          ? { code: j.error.code, message: j.error.message }
          : null,
    model: j.spec.requestedModel,
    progress: j.status === "succeeded" ? 100 : j.progress,
    prompt: j.spec.prompt,
    remixed_from_video_id: j.remixedFrom,
    seconds: String(j.spec.echo.seconds),
    size: `${j.spec.width}x${j.spec.height}`,
    status: STATUS[j.status],
  };
}

const CreateFields = z.object({
  prompt: z.string().min(1, "prompt must not be empty"),
  model: z.string().min(1).max(200).optional(),
  seconds: z.string().max(10).optional(),
  size: z.string().max(20).optional(),
  input_reference: z.unknown().optional(),
});

function fieldError(e: z.ZodError): FieldError {
  const i = e.issues[0]!;
  return new FieldError(i.path.map(String).join(".") || "(body)", i.message);
}

async function readCreate(
  ctx: Ctx,
  req: IncomingMessage,
): Promise<{ fields: z.infer<typeof CreateFields>; image?: InputImage }> {
  const type = req.headers["content-type"] ?? "";
  const L = ctx.config.limits;
  if (type.startsWith("multipart/form-data")) {
    const body = await readBody(req, L.maxUploadBytes);
    let form: FormData;
    try {
      form = await new Request("http://reel.local/", {
        method: "POST",
        headers: { "content-type": type },
        body,
      }).formData();
    } catch (e) {
      throw new ApiError(400, "invalid_multipart", `the multipart body cannot be read (${(e as Error).message})`);
    }
    const obj: Record<string, unknown> = {};
    let image: InputImage | undefined;
    let files = 0;
    for (const [k, v] of form.entries()) {
      if (typeof v === "string") obj[k] = v;
      else if (k === "input_reference") {
        if (++files > 1) throw new FieldError("input_reference", "one image only");
        image = await checkImage(new Uint8Array(await v.arrayBuffer()), "input_reference", L);
      } else throw new FieldError(k, "unexpected file; only input_reference takes a file");
    }
    const p = CreateFields.safeParse(obj);
    if (!p.success) throw fieldError(p.error);
    if (typeof p.data.input_reference === "string")
      image = await fetchImageUrl(p.data.input_reference, "input_reference", L);
    return { fields: p.data, ...(image ? { image } : {}) };
  }
  if (!type.startsWith("application/json") && type !== "")
    throw new ApiError(
      415,
      "unsupported_media_type",
      `content-type ${type}: use application/json or multipart/form-data`,
    );
  const p = CreateFields.safeParse(parseJson(await readBody(req, L.maxBodyBytes)));
  if (!p.success) throw fieldError(p.error);
  const ref = p.data.input_reference;
  let image: InputImage | undefined;
  if (ref !== undefined) {
    const url = typeof ref === "string" ? ref : (ref as { image_url?: unknown })?.image_url;
    if (typeof url !== "string")
      throw new FieldError(
        "input_reference",
        "an image_url (http(s) or data:) or a multipart file; file_id is not supported",
      );
    image = await fetchImageUrl(url, "input_reference", L);
  }
  return { fields: p.data, ...(image ? { image } : {}) };
}

async function createVideo(
  ctx: Ctx,
  owner: string,
  f: { prompt: string; model?: string; seconds?: string; size?: string },
  image: InputImage | undefined,
  remixedFrom?: JobRecord,
): Promise<JobRecord> {
  const prompt = f.prompt.trim();
  if (!prompt) throw new FieldError("prompt", "must not be empty");
  if (prompt.length > ctx.config.limits.maxPromptChars)
    throw new FieldError("prompt", `${prompt.length} characters; at most ${ctx.config.limits.maxPromptChars}`);
  const requested = f.model ?? ctx.config.defaultModel;
  const { name, shape } = modelFor(ctx, requested);
  if (!image && shape.requiresImage)
    throw new FieldError("input_reference", `model ${name} is image-to-video: give the first frame as input_reference`);
  if (image && !shape.supportsImage)
    throw new FieldError("input_reference", `model ${name} is text-to-video only: it takes no input_reference`);
  const sh = openaiShape(
    { ...(f.seconds !== undefined ? { seconds: f.seconds } : {}), ...(f.size !== undefined ? { size: f.size } : {}) },
    shape,
  );
  return submit(ctx, {
    api: "openai",
    owner,
    spec: {
      model: name,
      requestedModel: requested,
      prompt,
      width: sh.width,
      height: sh.height,
      frames: sh.frames,
      fps: sh.fps,
      seed: remixedFrom ? remixedFrom.spec.seed : resolveSeed(undefined),
      echo: { seconds: sh.seconds, size: sh.size },
    },
    ...(image ? { firstFrame: image } : {}),
    ...(remixedFrom ? { remixedFrom: remixedFrom.id } : {}),
  });
}

export async function handleOpenAI(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  owner: string,
): Promise<void> {
  const parts = url.pathname.split("/").filter(Boolean).slice(2).map(decodeURIComponent); // after v1/videos
  if (parts.length === 0) {
    if (req.method === "POST") {
      const { fields, image } = await readCreate(ctx, req);
      return sendJson(res, 200, videoObject(await createVideo(ctx, owner, fields, image)));
    }
    if (req.method === "GET") {
      const q = url.searchParams;
      const limit = q.get("limit") ?? "20";
      if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100)
        throw new FieldError("limit", `${limit}: 1 to 100`);
      const order = q.get("order") ?? "desc";
      if (order !== "asc" && order !== "desc") throw new FieldError("order", `${order}: asc or desc`);
      const after = q.get("after");
      const page = await ctx.queue.list(
        { owner, api: "openai" },
        { order, limit: Number(limit), ...(after ? { after } : {}) },
      );
      const data = page.items.filter((j) => !isDeleted(ctx, j.id)).map(videoObject);
      return sendJson(res, 200, {
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data[data.length - 1]?.id ?? null,
        has_more: page.hasMore,
      });
    }
    throw new ApiError(405, "method_not_allowed", `${req.method} /v1/videos: use GET or POST`);
  }
  const id = parts[0]!;
  const notFound = () => new ApiError(404, "not_found", `no video with id '${id.slice(0, 100)}'`, "video_id");
  const j = await ctx.queue.get(owner, id);
  // deleted while running: gone for the client at once, removed when its worker has stopped
  if (j?.api !== "openai" || isDeleted(ctx, id)) throw notFound();
  if (parts.length === 1) {
    if (req.method === "GET") return sendJson(res, 200, videoObject(j));
    if (req.method === "DELETE") {
      await deleteForClient(ctx, owner, id);
      return sendJson(res, 200, { id, deleted: true, object: "video.deleted" });
    }
    throw new ApiError(405, "method_not_allowed", `${req.method} /v1/videos/{id}: use GET or DELETE`);
  }
  if (parts.length === 2 && parts[1] === "content" && req.method === "GET") {
    const variant = url.searchParams.get("variant") ?? "video";
    if (variant !== "video" && variant !== "thumbnail")
      throw new FieldError("variant", `${variant}: reel serves video and thumbnail`);
    if (j.status !== "succeeded" || !j.result)
      throw new ApiError(400, "video_not_ready", `video ${id} is ${videoObject(j).status}, not completed`, "video_id");
    const key = variant === "video" ? j.result.video : j.result.thumbnail;
    const f = key ? ctx.storage.open(key) : null;
    if (!f) throw new ApiError(404, "not_found", `the ${variant} of ${id} has expired or is missing`);
    res.writeHead(200, {
      "content-type": variant === "video" ? "video/mp4" : "image/png",
      "content-length": f.size,
    });
    f.stream.pipe(res);
    return;
  }
  if (parts.length === 2 && parts[1] === "remix" && req.method === "POST") {
    const p = z
      .object({ prompt: z.string() })
      .safeParse(parseJson(await readBody(req, ctx.config.limits.maxBodyBytes)));
    if (!p.success) throw fieldError(p.error);
    const image = j.spec.firstFrame
      ? await checkImage(await readAll(ctx, j.spec.firstFrame), "input_reference", ctx.config.limits)
      : undefined;
    const next = await createVideo(
      ctx,
      owner,
      {
        prompt: p.data.prompt,
        model: j.spec.requestedModel,
        seconds: String(j.spec.echo.seconds),
        size: `${j.spec.width}x${j.spec.height}`,
      },
      image,
      j,
    );
    return sendJson(res, 200, videoObject(next));
  }
  throw new ApiError(404, "not_found", `no route ${req.method} ${url.pathname}`);
}

async function readAll(ctx: Ctx, key: string): Promise<Uint8Array> {
  const { readFile } = await import("node:fs/promises");
  return new Uint8Array(await readFile(ctx.storage.path(key)));
}
