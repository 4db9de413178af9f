/**
 * The web studio (web/, built by Vite into web/dist and committed): `GET /` and its assets,
 * served from disk with no network access, plus `GET /studio/events`, a server-sent event
 * stream of the caller's Ark tasks with their prompt and progress (the Ark task object has
 * neither), authenticated like the API. Browsers' EventSource cannot send a Bearer header, so
 * the studio reads the stream with fetch().
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Ctx } from "./context.ts";
import { RATIOS, resolutions } from "./mapping.ts";
import type { JobRecord } from "./queue/queue.ts";

export const STUDIO_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** Serves `/` and `/assets/*` from web/dist; returns false when the path is not the studio's. */
export function serveStudio(req: IncomingMessage, res: ServerResponse, path: string, dir = STUDIO_DIR): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const rel =
    path === "/" || path === "/index.html" ? "index.html" : path.startsWith("/assets/") ? path.slice(1) : null;
  if (rel === null) return false;
  let name: string;
  try {
    name = normalize(decodeURIComponent(rel));
  } catch {
    return false;
  }
  const file = join(dir, name);
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
    if (rel !== "index.html") return false;
    const msg = "the web studio is not built: run `npm run build:web`\n";
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(msg) });
    res.end(msg);
    return true;
  }
  const st = statSync(file);
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": st.size,
    // Hashed asset names never change content; index.html must be re-read.
    "cache-control": rel.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
    "content-security-policy":
      "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; connect-src 'self'",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
  return true;
}

/** What the studio shows of a task: the Ark fields plus prompt and progress. */
export function studioJob(ctx: Ctx, j: JobRecord): Record<string, unknown> {
  const exp = j.expiresAt ?? Date.now() + ctx.config.outputTtlMs;
  const r = j.status === "succeeded" ? j.result : null;
  return {
    id: j.id,
    status: j.status,
    progress: j.status === "succeeded" ? 100 : j.progress,
    prompt: j.spec.prompt,
    model: j.spec.requestedModel,
    seed: j.spec.seed,
    width: j.spec.width,
    height: j.spec.height,
    frames: j.spec.frames,
    fps: j.spec.fps,
    created_at: Math.floor(j.createdAt / 1000),
    error: j.error ? { code: j.error.code, message: j.error.message } : null,
    preview_step: j.status === "running" ? (latestPreview(ctx, j.id)?.step ?? 0) : 0,
    video_url: r ? ctx.signer.sign(r.video, exp) : null,
    thumbnail_url: r?.thumbnail ? ctx.signer.sign(r.thumbnail, exp) : null,
  };
}

/**
 * `GET /studio/events`: an SSE stream. Sends `event: job` for each of the owner's latest 50
 * Ark tasks when it first appears or changes (status, progress, error), `event: gone` when one
 * leaves the list, and a comment every 15 s to keep proxies from closing it. Progress is read
 * from the queue every `pollMs` (queue events only report state changes, and a distributed
 * queue's progress lives in Redis).
 */
export function streamEvents(ctx: Ctx, req: IncomingMessage, res: ServerResponse, owner: string, pollMs = 400): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write("retry: 2000\n\n");
  const sent = new Map<string, string>();
  let closed = false;
  let busy = false;
  let again = false;
  const tick = async (): Promise<void> => {
    if (closed) return;
    if (busy) {
      again = true; // a change arrived mid-read: read once more so none is missed
      return;
    }
    busy = true;
    try {
      const page = await ctx.queue.list({ owner, api: "ark" }, { order: "desc", limit: 50 });
      if (closed) return;
      const seen = new Set<string>();
      for (const j of page.items) {
        seen.add(j.id);
        const o = studioJob(ctx, j);
        const key = `${j.status}|${j.progress}|${j.error?.code ?? ""}|${j.result ? 1 : 0}|${o.preview_step}`;
        if (sent.get(j.id) === key) continue;
        sent.set(j.id, key);
        res.write(`event: job\ndata: ${JSON.stringify(o)}\n\n`);
      }
      for (const id of [...sent.keys()])
        if (!seen.has(id)) {
          sent.delete(id);
          res.write(`event: gone\ndata: ${JSON.stringify({ id })}\n\n`);
        }
    } catch (e) {
      if (!closed) res.write(`event: problem\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
    } finally {
      busy = false;
    }
    if (again) {
      again = false;
      return tick();
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), pollMs);
  const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
  const unsubscribe = ctx.queue.subscribe(() => void tick());
  const stop = () => {
    closed = true;
    clearInterval(timer);
    clearInterval(ping);
    unsubscribe();
  };
  req.on("close", stop);
  res.on("close", stop);
}

/** `GET /studio/models`: the models and what each offers, for the studio's form. */
export function studioModels(ctx: Ctx): Record<string, unknown> {
  const data: Record<string, unknown>[] = [];
  for (const requested of ctx.catalog.names()) {
    const name = ctx.catalog.resolve(requested);
    if (!name) continue;
    try {
      const s = ctx.catalog.shape(name);
      data.push({
        id: requested,
        default: requested === ctx.config.defaultModel,
        resolutions: resolutions(s),
        ratios: [...RATIOS, "adaptive"],
        fps: s.fps,
        default_seconds: Math.max(1, Math.round((s.frames - 1) / s.fps)),
        max_seconds: Math.max(1, Math.floor((s.maxFrames - 1) / s.fps)),
        supports_first_frame: s.supportsImage,
        supports_last_frame: s.supportsLastImage,
        requires_first_frame: s.requiresImage,
      });
    } catch {
      // a model whose files cannot be read is left out of the form; the API reports it on use
    }
  }
  return { object: "list", data };
}

/** The newest latent preview a running job's worker wrote (in-process workers only). */
export function latestPreview(ctx: Ctx, id: string): { step: number; file: string } | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(id)) return null;
  const dir = join(ctx.config.dataDir, "previews", id);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^step-\d+\.png$/.test(n));
  } catch {
    return null;
  }
  const last = names.sort().at(-1);
  return last ? { step: Number(last.slice(5, -4)), file: join(dir, last) } : null;
}

/** `GET /studio/tasks/{id}/preview`: the latest latent preview PNG of the caller's running task. */
export async function sendPreview(ctx: Ctx, res: ServerResponse, owner: string, id: string): Promise<void> {
  const j = await ctx.queue.get(owner, id);
  const p = j?.status === "running" ? latestPreview(ctx, id) : null;
  let png: Buffer | null = null;
  try {
    png = p ? readFileSync(p.file) : null;
  } catch {
    // the worker moved on and removed it
  }
  if (!p || !png) {
    const body = JSON.stringify({ error: { message: "no preview: the task is not sampling", code: "not_found" } });
    res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  res.writeHead(200, {
    "content-type": "image/png",
    "content-length": png.length,
    "cache-control": "no-store",
    "x-reel-step": String(p.step),
  });
  res.end(png);
}
