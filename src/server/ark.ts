/**
 * The Seedance-compatible Ark content-generation task API (research-anchors.md §2):
 * POST/GET/DELETE /api/v3/contents/generations/tasks[/{id}]. Task objects carry Ark's field
 * names and statuses; `content.video_url` is a signed reel URL valid until the output expires.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { SEED_MAX } from "../validate.ts";
import { type Ctx, modelFor, removeJob, resolveSeed, submit } from "./context.ts";
import { ApiError, parseJson, readBody, sendJson } from "./http.ts";
import { fetchImageUrl, type InputImage } from "./images.ts";
import { arkShape, FieldError } from "./mapping.ts";
import { JOB_STATUSES, type JobRecord, type JobStatus } from "./queue/queue.ts";

const ROLES = ["first_frame", "last_frame", "reference_image"] as const;

const ContentItem = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("image_url"),
    image_url: z.object({ url: z.string().min(1).max(15_000_000) }),
    role: z.enum(ROLES).optional(),
  }),
]);

const CreateBody = z.object({
  model: z.string().min(1).max(200),
  content: z.array(z.unknown()).min(1).max(12),
  callback_url: z.string().max(2000).optional(),
  ratio: z.string().max(20).optional(),
  resolution: z.string().max(20).optional(),
  duration: z.number().int().optional(),
  frames: z.number().int().optional(),
  framespersecond: z.number().int().optional(),
  seed: z.number().int().min(-1).max(SEED_MAX).optional(),
  camera_fixed: z.boolean().optional(),
  watermark: z.boolean().optional(),
  generate_audio: z.boolean().optional(),
  return_last_frame: z.boolean().optional(),
  service_tier: z.enum(["default"]).optional(),
  execution_expires_after: z.number().int().min(3600).max(259200).optional(),
  draft: z.literal(false).optional(),
});

/** Inline text commands (`--rt 16:9 --dur 5 ...`), long and short forms, to body field names. */
const FLAGS: Record<string, string> = {
  resolution: "resolution",
  rs: "resolution",
  ratio: "ratio",
  rt: "ratio",
  duration: "duration",
  dur: "duration",
  frames: "frames",
  framespersecond: "framespersecond",
  fps: "framespersecond",
  seed: "seed",
  camerafixed: "camera_fixed",
  cf: "camera_fixed",
  watermark: "watermark",
  wm: "watermark",
};
const NUMERIC = new Set(["duration", "frames", "framespersecond", "seed"]);
const BOOLEAN = new Set(["camera_fixed", "watermark"]);

/** Splits `prompt --key value ...` into the prompt and the flags (as body fields). */
export function parseTextFlags(text: string): { prompt: string; flags: Record<string, string | number | boolean> } {
  const flags: Record<string, string | number | boolean> = {};
  const re = /(?:^|\s)--([A-Za-z]+)(?:\s+([^\s-][^\s]*|-\d+))?/g;
  let first = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (first < 0) first = m.index;
    const key = FLAGS[m[1]!.toLowerCase()];
    if (!key)
      throw new FieldError(
        "content.text",
        `unknown text command --${m[1]}; allowed: ${Object.keys(FLAGS)
          .map((k) => `--${k}`)
          .join(" ")}`,
      );
    const v = m[2];
    if (v === undefined) throw new FieldError("content.text", `--${m[1]} needs a value`);
    if (NUMERIC.has(key)) {
      if (!/^-?\d+$/.test(v)) throw new FieldError("content.text", `--${m[1]} ${v}: a whole number`);
      flags[key] = Number(v);
    } else if (BOOLEAN.has(key)) {
      if (v !== "true" && v !== "false") throw new FieldError("content.text", `--${m[1]} ${v}: true or false`);
      flags[key] = v === "true";
    } else flags[key] = v;
  }
  return { prompt: (first < 0 ? text : text.slice(0, first)).trim(), flags };
}

function zodToField(e: z.ZodError, prefix = ""): FieldError {
  const i = e.issues[0]!;
  const path = [prefix, ...i.path.map(String)].filter(Boolean).join(".");
  return new FieldError(path || "(body)", i.message);
}

export function taskObject(ctx: Ctx, j: JobRecord, base: string): Record<string, unknown> {
  const e = j.spec.echo;
  const s = (t: number) => Math.floor(t / 1000);
  const content: Record<string, string> = {};
  if (j.status === "succeeded" && j.result) {
    const exp = j.expiresAt ?? Date.now() + ctx.config.outputTtlMs;
    content.video_url = base + ctx.signer.sign(j.result.video, exp);
    if (j.result.lastFrame && e.return_last_frame)
      content.last_frame_url = base + ctx.signer.sign(j.result.lastFrame, exp);
  }
  const usage =
    j.status === "succeeded" && j.result ? Math.round((j.result.width * j.result.height * j.result.frames) / 1024) : 0;
  return {
    id: j.id,
    model: j.spec.requestedModel,
    status: j.status,
    error: j.error ? { code: j.error.code, message: j.error.message } : null,
    content,
    usage: { completion_tokens: usage, total_tokens: usage },
    created_at: s(j.createdAt),
    updated_at: s(j.updatedAt),
    seed: j.spec.seed,
    resolution: e.resolution,
    ratio: e.ratio,
    duration: e.duration,
    frames: j.spec.frames,
    framespersecond: j.spec.fps,
    camera_fixed: e.camera_fixed ?? false,
    watermark: false,
    generate_audio: false,
    draft: false,
    service_tier: "default",
    execution_expires_after: e.execution_expires_after ?? 172800,
    ...(j.callbackUrl ? { callback_url: j.callbackUrl } : {}),
  };
}

async function create(ctx: Ctx, req: IncomingMessage, owner: string): Promise<Record<string, unknown>> {
  const raw = parseJson(await readBody(req, ctx.config.limits.maxBodyBytes));
  const p = CreateBody.safeParse(raw);
  if (!p.success) throw zodToField(p.error);
  const b = p.data;
  const texts: string[] = [];
  const images: { url: string; role: (typeof ROLES)[number]; field: string }[] = [];
  b.content.forEach((item, i) => {
    const r = ContentItem.safeParse(item);
    if (!r.success) {
      const t = (item as { type?: unknown } | null)?.type;
      if (typeof t === "string" && t !== "text" && t !== "image_url")
        throw new FieldError(`content[${i}].type`, `"${t}" is not supported; allowed: text, image_url`);
      throw zodToField(r.error, `content[${i}]`);
    }
    if (r.data.type === "text") texts.push(r.data.text);
    else
      images.push({
        url: r.data.image_url.url,
        role: r.data.role ?? (images.length === 0 ? "first_frame" : "last_frame"),
        field: `content[${i}].image_url.url`,
      });
  });
  if (texts.length !== 1) throw new FieldError("content", `give exactly one text item (got ${texts.length})`);
  const { prompt, flags } = parseTextFlags(texts[0]!);
  if (!prompt) throw new FieldError("content.text", "the prompt is empty");
  if (prompt.length > ctx.config.limits.maxPromptChars)
    throw new FieldError(
      "content.text",
      `prompt of ${prompt.length} characters; at most ${ctx.config.limits.maxPromptChars}`,
    );
  // Body fields win over inline text commands.
  const merged = { ...flags, ...Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) } as Record<
    string,
    unknown
  >;
  const num = (k: string) => (merged[k] === undefined ? undefined : Number(merged[k]));
  if (merged.generate_audio === true)
    throw new FieldError("generate_audio", "reel's video models make no audio; omit it or set false");
  if (merged.watermark === true) throw new FieldError("watermark", "reel adds no watermark; omit it or set false");
  const { name, shape } = modelFor(ctx, b.model);
  if (images.length > ctx.config.limits.maxImages)
    throw new FieldError("content", `${images.length} images; at most ${ctx.config.limits.maxImages}`);
  const byRole = new Map<string, (typeof images)[number]>();
  for (const im of images) {
    if (im.role === "reference_image")
      throw new FieldError(
        `${im.field.replace(".image_url.url", "")}.role`,
        `model ${name} does not take reference images; allowed roles: first_frame, last_frame`,
      );
    if (byRole.has(im.role)) throw new FieldError(im.field, `more than one ${im.role}`);
    byRole.set(im.role, im);
  }
  if (byRole.has("last_frame") && !byRole.has("first_frame"))
    throw new FieldError("content", "a last_frame needs a first_frame");
  if (b.callback_url !== undefined && !/^https?:\/\//i.test(b.callback_url))
    throw new FieldError("callback_url", "an http(s):// URL");
  let first: InputImage | undefined;
  let last: InputImage | undefined;
  const fi = byRole.get("first_frame");
  const la = byRole.get("last_frame");
  if (fi) first = await fetchImageUrl(fi.url, fi.field, ctx.config.limits);
  if (la) last = await fetchImageUrl(la.url, la.field, ctx.config.limits);
  // URLs are judged (and fetched under the guard) before the model's abilities, so a refusal
  // never depends on which model was named.
  if (byRole.has("first_frame") && !shape.supportsImage)
    throw new FieldError("content", `model ${name} is text-to-video only: it takes no first_frame`);
  if (!byRole.has("first_frame") && shape.requiresImage)
    throw new FieldError("content", `model ${name} is image-to-video: give an image_url with role first_frame`);
  if (byRole.has("last_frame") && !shape.supportsLastImage)
    throw new FieldError("content", `model ${name} takes no last_frame`);
  const sh = arkShape(
    {
      ...(merged.ratio !== undefined ? { ratio: String(merged.ratio) } : {}),
      ...(merged.resolution !== undefined ? { resolution: String(merged.resolution) } : {}),
      ...(num("duration") !== undefined ? { duration: num("duration")! } : {}),
      ...(num("frames") !== undefined ? { frames: num("frames")! } : {}),
      ...(num("framespersecond") !== undefined ? { fps: num("framespersecond")! } : {}),
      ...(first ? { imageAspect: first.width / first.height } : {}),
    },
    shape,
  );
  const seed = num("seed");
  if (seed !== undefined && (seed < -1 || seed > SEED_MAX))
    throw new FieldError("seed", `${seed}: -1 (random) or 0 to ${SEED_MAX}`);
  const job = await submit(ctx, {
    api: "ark",
    owner,
    spec: {
      model: name,
      requestedModel: b.model,
      prompt,
      width: sh.width,
      height: sh.height,
      frames: sh.frames,
      fps: sh.fps,
      seed: resolveSeed(seed),
      echo: {
        ratio: sh.ratio,
        resolution: sh.resolution,
        duration: sh.duration,
        camera_fixed: merged.camera_fixed === true,
        return_last_frame: b.return_last_frame === true,
        ...(b.execution_expires_after ? { execution_expires_after: b.execution_expires_after } : {}),
      },
    },
    ...(first ? { firstFrame: first } : {}),
    ...(last ? { lastFrame: last } : {}),
    ...(b.callback_url ? { callbackUrl: b.callback_url } : {}),
  });
  return { id: job.id };
}

const PAGE = /^[1-9]\d{0,2}$/;

export async function handleArk(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  owner: string,
  base: string,
): Promise<void> {
  const root = "/api/v3/contents/generations/tasks";
  const rest = url.pathname.slice(root.length);
  if (rest === "" || rest === "/") {
    if (req.method === "POST") return sendJson(res, 200, await create(ctx, req, owner));
    if (req.method === "GET") {
      const q = url.searchParams;
      const pn = q.get("page_num") ?? "1";
      const ps = q.get("page_size") ?? "10";
      if (!PAGE.test(pn) || Number(pn) > 500) throw new FieldError("page_num", `${pn}: 1 to 500`);
      if (!PAGE.test(ps) || Number(ps) > 500) throw new FieldError("page_size", `${ps}: 1 to 500`);
      const status = q.get("filter.status");
      if (status !== null && !(JOB_STATUSES as readonly string[]).includes(status))
        throw new FieldError("filter.status", `${status}: one of ${JOB_STATUSES.join(", ")}`);
      const ids = q
        .getAll("filter.task_ids")
        .flatMap((s) => s.split(","))
        .filter(Boolean);
      const model = q.get("filter.model");
      const page = await ctx.queue.list(
        {
          owner,
          api: "ark",
          ...(status ? { status: [status as JobStatus] } : {}),
          ...(ids.length ? { ids } : {}),
          ...(model ? { model } : {}),
        },
        { order: "desc", limit: Number(ps), offset: (Number(pn) - 1) * Number(ps) },
      );
      return sendJson(res, 200, { total: page.total, items: page.items.map((j) => taskObject(ctx, j, base)) });
    }
    throw new ApiError(405, "MethodNotAllowed", `${req.method} ${root}: use GET or POST`);
  }
  const id = decodeURIComponent(rest.slice(1));
  if (id.includes("/")) throw new ApiError(404, "NotFound", `no route ${url.pathname}`);
  const notFound = () =>
    new ApiError(404, "ResourceNotFound", `the task ${id.slice(0, 100)} does not exist`, "task_id");
  const j = await ctx.queue.get(owner, id);
  if (j?.api !== "ark") throw notFound();
  if (req.method === "GET") return sendJson(res, 200, taskObject(ctx, j, base));
  if (req.method === "DELETE") {
    // queued: cancelled now; running: the worker stops within a step; final: the record is deleted.
    const out = await ctx.queue.cancel(owner, id, Date.now() + ctx.config.outputTtlMs);
    if (out === "not_found") throw notFound();
    if (out === "final") await removeJob(ctx, owner, id);
    return sendJson(res, 200, {});
  }
  throw new ApiError(405, "MethodNotAllowed", `${req.method} ${url.pathname}: use GET or DELETE`);
}
