/**
 * Stories over HTTP (reel's own API, not a clone of another's): a story is a queued task like a
 * video, run by the same workers (server/story-job.ts) with per-shot progress.
 *
 *   POST   /v1/stories/plan                 {prompts[], title?, style?, seed?, narrate?, duration?, model?}
 *                                           → {object: "story.plan", plan}: the offline planner's shot list,
 *                                             to edit and send back
 *   POST   /v1/stories                      {plan} or {prompts[], ...as above}, plus model?, only?[]
 *                                           → the story object (status queued)
 *   GET    /v1/stories                      the caller's stories, newest first (?limit=)
 *   GET    /v1/stories/{id}                 the story object: status, progress, shots[] (each
 *                                           queued | rendering | rendered | cached, with progress),
 *                                           the plan, files when done
 *   GET    /v1/stories/{id}/content         ?variant=video (default) | storyboard | plan | vtt | srt
 *   POST   /v1/stories/{id}/shots/{n}/render  re-render shot n of that story's plan (optionally an
 *                                           edited {plan}) as a new story; other shots come from
 *                                           the caller's shot cache
 *   DELETE /v1/stories/{id}                 delete a story (a running one: gone now, its worker stops within a step)
 *
 * Plans from clients may not name files on the server: `soundtrack` and characters' `image` are
 * refused (400).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { planStory } from "../pipelines/story/planner.ts";
import { parseStory, type Story } from "../pipelines/story/schema.ts";
import { ReelError } from "../errors.ts";
import { seedSchema } from "../validate.ts";
import { type Ctx, deleteForClient, isDeleted, modelFor, newId, resolveSeed } from "./context.ts";
import { ApiError, parseJson, readBody, sendJson } from "./http.ts";
import { FieldError } from "./mapping.ts";
import type { JobRecord } from "./queue/queue.ts";
import { readShotStatus, STORY_VARIANTS, type StoryVariant, variantKey } from "./story-job.ts";

const PlanRequest = z
  .object({
    prompts: z.array(z.string().trim().min(1).max(2000)).min(1).max(24),
    title: z.string().trim().min(1).max(200).optional(),
    style: z.string().trim().max(500).optional(),
    seed: seedSchema().optional(),
    narrate: z
      .string()
      .regex(/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i)
      .optional(),
    duration: z.number().positive().max(60).optional(),
    model: z.string().min(1).max(128).optional(),
  })
  .strict();

const CreateRequest = z
  .object({
    plan: z.unknown().optional(),
    prompts: PlanRequest.shape.prompts.optional(),
    title: PlanRequest.shape.title,
    style: PlanRequest.shape.style,
    seed: PlanRequest.shape.seed,
    narrate: PlanRequest.shape.narrate,
    duration: PlanRequest.shape.duration,
    model: PlanRequest.shape.model,
    only: z.array(z.number().int().min(1)).max(200).optional(),
  })
  .strict();

/** The first zod issue as a field error: "shots.2.prompt: ...". */
function fieldError(e: z.ZodError, prefix = ""): FieldError {
  const i = e.issues[0]!;
  const field = [prefix, ...i.path.map(String)].filter(Boolean).join(".") || "body";
  return new FieldError(field, i.message);
}

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw fieldError(r.error);
  return r.data;
}

function planFrom(ctx: Ctx, r: z.infer<typeof PlanRequest>): Story {
  const { shape } = modelFor(ctx, r.model ?? ctx.config.defaultModel);
  return planStory(r.prompts, {
    duration: r.duration ?? shape.frames / shape.fps,
    seed: r.seed ?? resolveSeed(undefined),
    ...(r.title ? { title: r.title } : {}),
    ...(r.style !== undefined ? { style: r.style } : {}),
    ...(r.narrate ? { narrate: r.narrate } : {}),
    ...(r.model ? { model: r.model } : {}),
  });
}

/** A client's plan, validated, with nothing that points at the server's files. */
function clientPlan(raw: unknown): Story {
  let story: Story;
  try {
    story = parseStory(raw, "plan");
  } catch (e) {
    if (e instanceof ReelError) throw new FieldError("plan", e.message.replace(/^plan:?\s*/, ""));
    throw e;
  }
  if (story.soundtrack) throw new FieldError("plan.soundtrack", "not accepted over HTTP (it names a server file)");
  story.characters.forEach((c, i) => {
    if (c.image) throw new FieldError(`plan.characters.${i}.image`, "not accepted over HTTP (it names a server file)");
  });
  return story;
}

async function body(ctx: Ctx, req: IncomingMessage): Promise<unknown> {
  return parseJson(await readBody(req, ctx.config.limits.maxBodyBytes));
}

async function createStory(ctx: Ctx, owner: string, story: Story, model: string, only?: number[]): Promise<JobRecord> {
  const { name, shape } = modelFor(ctx, model);
  for (const k of only ?? [])
    if (k > story.shots.length) throw new FieldError("only", `${k}: the story has shots 1 to ${story.shots.length}`);
  const prompts = story.shots.reduce((n, s) => n + s.prompt.length, 0);
  if (prompts > ctx.config.limits.maxPromptChars * 12)
    throw new FieldError(
      "plan.shots",
      `${prompts} characters of prompts; at most ${ctx.config.limits.maxPromptChars * 12}`,
    );
  // A fixed seed keeps a re-render of one shot consistent with the others (and resumes exact).
  const seeded: Story = story.seed === undefined ? { ...story, seed: resolveSeed(undefined) } : story;
  const queued = await ctx.queue.list({ owner, status: ["queued"] }, { order: "asc", limit: 1 });
  if (queued.total >= ctx.config.limits.maxQueuedPerKey)
    throw new ApiError(
      429,
      "too_many_queued",
      `this key has ${queued.total} queued tasks; at most ${ctx.config.limits.maxQueuedPerKey} may wait at once`,
    );
  const job = await ctx.queue.enqueue({
    id: newId("story"),
    api: "story",
    owner,
    spec: {
      model: name,
      requestedModel: model,
      prompt: seeded.title,
      width: seeded.width ?? shape.sizes[0]![0],
      height: seeded.height ?? shape.sizes[0]![1],
      frames: 0,
      fps: seeded.fps ?? shape.fps,
      seed: seeded.seed!,
      echo: {},
      story: seeded,
      ...(only?.length ? { only } : {}),
    },
  });
  ctx.poke();
  return job;
}

/** What clients see of a story task. */
export function storyObject(ctx: Ctx, j: JobRecord): Record<string, unknown> {
  const story = j.spec.story as Story;
  const shots = readShotStatus(ctx.storage, j.id, story.shots.length);
  const done = j.status === "succeeded" && j.result;
  const base = `/v1/stories/${j.id}/content`;
  const exp = j.expiresAt ?? Date.now() + ctx.config.outputTtlMs;
  return {
    id: j.id,
    object: "story",
    status: j.status,
    progress: j.status === "succeeded" ? 100 : j.progress,
    model: j.spec.requestedModel,
    title: story.title,
    seed: j.spec.seed,
    only: j.spec.only ?? null,
    shots: story.shots.map((s, i) => ({
      index: i + 1,
      prompt: s.prompt,
      duration: s.duration,
      camera: s.camera,
      transition: s.transition,
      status: shots[i]?.status ?? (j.status === "succeeded" ? "cached" : "queued"),
      progress: shots[i]?.progress ?? 0,
    })),
    plan: story,
    created_at: Math.floor(j.createdAt / 1000),
    completed_at: j.completedAt ? Math.floor(j.completedAt / 1000) : null,
    expires_at: j.expiresAt ? Math.floor(j.expiresAt / 1000) : null,
    error: j.error,
    files: done
      ? {
          video: `${base}?variant=video`,
          storyboard: `${base}?variant=storyboard`,
          plan: `${base}?variant=plan`,
          vtt: `${base}?variant=vtt`,
          srt: `${base}?variant=srt`,
        }
      : null,
    seconds: done ? Number((j.result!.frames / j.result!.fps).toFixed(3)) : null,
    // signed, like Ark's video_url: usable without the key (a <video> element cannot send one)
    video_url: done ? ctx.signer.sign(j.result!.video, exp) : null,
    storyboard_url: done ? ctx.signer.sign(variantKey(j.result!.video, "storyboard"), exp) : null,
  };
}

const CONTENT_TYPES: Record<StoryVariant, string> = {
  video: "video/mp4",
  storyboard: "image/png",
  plan: "application/json",
  vtt: "text/vtt; charset=utf-8",
  srt: "application/x-subrip; charset=utf-8",
};

export async function handleStories(
  ctx: Ctx,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  owner: string,
): Promise<void> {
  const parts = url.pathname.split("/").filter(Boolean).slice(2).map(decodeURIComponent); // after v1/stories
  if (parts.length === 1 && parts[0] === "plan") {
    if (req.method !== "POST") throw new ApiError(405, "method_not_allowed", "POST /v1/stories/plan");
    const r = parse(PlanRequest, await body(ctx, req));
    return sendJson(res, 200, { object: "story.plan", plan: planFrom(ctx, r) });
  }
  if (parts.length === 0) {
    if (req.method === "POST") {
      const r = parse(CreateRequest, await body(ctx, req));
      if ((r.plan === undefined) === (r.prompts === undefined))
        throw new FieldError("plan", "send either a plan (from POST /v1/stories/plan, maybe edited) or prompts");
      const story = r.plan !== undefined ? clientPlan(r.plan) : planFrom(ctx, { ...r, prompts: r.prompts! });
      const model = r.model ?? story.model ?? ctx.config.defaultModel;
      return sendJson(res, 200, storyObject(ctx, await createStory(ctx, owner, story, model, r.only)));
    }
    if (req.method === "GET") {
      const limit = url.searchParams.get("limit") ?? "20";
      if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100)
        throw new FieldError("limit", `${limit}: 1 to 100`);
      const page = await ctx.queue.list({ owner, api: "story" }, { order: "desc", limit: Number(limit) });
      const data = page.items.filter((j) => !isDeleted(ctx, j.id)).map((j) => storyObject(ctx, j));
      return sendJson(res, 200, { object: "list", data });
    }
    throw new ApiError(405, "method_not_allowed", `${req.method} /v1/stories: use GET or POST`);
  }
  const id = parts[0]!;
  const j = await ctx.queue.get(owner, id);
  // deleted while running: gone for the client at once, removed when its worker has stopped
  if (j?.api !== "story" || isDeleted(ctx, id))
    throw new ApiError(404, "not_found", `no story with id '${id.slice(0, 100)}'`, "story_id");
  if (parts.length === 1) {
    if (req.method === "GET") return sendJson(res, 200, storyObject(ctx, j));
    if (req.method === "DELETE") {
      await deleteForClient(ctx, owner, id);
      return sendJson(res, 200, { id, deleted: true, object: "story.deleted" });
    }
    throw new ApiError(405, "method_not_allowed", `${req.method} /v1/stories/{id}: use GET or DELETE`);
  }
  if (parts.length === 2 && parts[1] === "content" && req.method === "GET") {
    const variant = (url.searchParams.get("variant") ?? "video") as StoryVariant;
    if (!STORY_VARIANTS.includes(variant))
      throw new FieldError("variant", `${variant}: one of ${STORY_VARIANTS.join(", ")}`);
    if (j.status !== "succeeded" || !j.result)
      throw new ApiError(400, "story_not_ready", `story ${id} is ${j.status}, not succeeded`, "story_id");
    const f = ctx.storage.open(variantKey(j.result.video, variant));
    if (!f) throw new ApiError(404, "not_found", "the file has expired");
    res.writeHead(200, { "content-type": CONTENT_TYPES[variant], "content-length": f.size });
    f.stream.pipe(res);
    return;
  }
  const shot = parts.length === 4 && parts[1] === "shots" && parts[3] === "render" ? Number(parts[2]) : Number.NaN;
  if (req.method === "POST" && Number.isInteger(shot)) {
    const raw = await readBody(req, ctx.config.limits.maxBodyBytes);
    const r = parse(z.object({ plan: z.unknown().optional() }).strict(), raw.length ? parseJson(raw) : {});
    const story = r.plan !== undefined ? clientPlan(r.plan) : (j.spec.story as Story);
    if (shot < 1 || shot > story.shots.length)
      throw new FieldError("shot", `${shot}: the story has shots 1 to ${story.shots.length}`);
    const seeded = story.seed === undefined ? { ...story, seed: j.spec.seed } : story;
    return sendJson(res, 200, storyObject(ctx, await createStory(ctx, owner, seeded, j.spec.requestedModel, [shot])));
  }
  throw new ApiError(404, "not_found", `no route ${req.method} ${url.pathname}`);
}
