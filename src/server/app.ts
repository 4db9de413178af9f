/**
 * `reel serve`: the HTTP server (Ark task API, OpenAI video API, signed file URLs, health
 * and metrics), the queue, in-process workers, callbacks and output expiry, wired together.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { ReelError } from "../errors.ts";
import { handleArk, taskObject } from "./ark.ts";
import { Callbacks } from "./callbacks.ts";
import { checkBind, type ServerConfig } from "./config.ts";
import { type Ctx, removeJob, UrlSigner } from "./context.ts";
import { ApiError, bearer, sendJson } from "./http.ts";
import { FieldError } from "./mapping.ts";
import { ModelCatalog } from "./models.ts";
import { handleOpenAI } from "./openai.ts";
import { openQueue } from "./queue/index.ts";
import { FINAL_STATUSES, JOB_STATUSES } from "./queue/queue.ts";
import { FileStorage } from "./storage/storage.ts";
import { RateLimiter } from "./rate-limit.ts";
import { handleStories } from "./stories.ts";
import { sendPreview, serveStudio, streamEvents, studioModels } from "./studio.ts";
import { Worker } from "./worker.ts";
import { join } from "node:path";

type Api = "ark" | "openai" | "other";

function renderError(api: Api, res: ServerResponse, e: unknown, log: (m: string) => void): void {
  let status = 500;
  let code = "internal_error";
  let message = "internal error";
  let param: string | null = null;
  if (e instanceof FieldError) {
    status = 400;
    code = "invalid_parameter";
    message = `${e.field}: ${e.message}`;
    param = e.field;
  } else if (e instanceof ApiError) {
    ({ status, code, message, param } = e);
  } else if (e instanceof ReelError && (e.code === "E_INPUT_INVALID" || e.code === "E_MEDIA_INVALID")) {
    status = 400;
    code = "invalid_parameter";
    message = e.message;
  } else log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (api === "ark") {
    const arkCode =
      status === 400 ? "InvalidParameter" : status === 401 ? "AuthenticationError" : status === 404 ? code : code;
    const type =
      status === 400
        ? "BadRequest"
        : status === 401
          ? "Unauthorized"
          : status === 404
            ? "NotFound"
            : status === 413
              ? "RequestEntityTooLarge"
              : status === 429
                ? "TooManyRequests"
                : "InternalServiceError";
    sendJson(res, status, { error: { code: arkCode, message, param: param ?? "", type } });
  } else {
    const type = status === 401 ? "invalid_request_error" : status >= 500 ? "server_error" : "invalid_request_error";
    sendJson(res, status, { error: { message, type, param, code } });
  }
}

export interface ReelServer {
  readonly server: Server;
  readonly ctx: Ctx;
  /** The port it listens on. */
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

export async function startServer(config: ServerConfig, log: (m: string) => void): Promise<ReelServer> {
  checkBind(config.host, config.keys);
  const queue = await openQueue({ dataDir: config.dataDir, ...(config.queueUrl ? { url: config.queueUrl } : {}) });
  const storage = new FileStorage(join(config.dataDir, "files"));
  const catalog = new ModelCatalog({
    device: "cpu",
    aliases: config.aliases,
    maxFrames: config.limits.maxFrames,
    defaultModel: config.defaultModel,
    ...(config.threads ? { threads: config.threads } : {}),
  });
  const workers: Worker[] = [];
  const ctx: Ctx = {
    config,
    queue,
    storage,
    catalog,
    signer: new UrlSigner(config.dataDir),
    poke: () => {
      for (const w of workers) w.poke();
    },
    deleteWhenFinal: new Set(),
  };
  const callbacks = new Callbacks(config.limits, log);
  const http = new Map<string, number>();
  let baseForCallbacks = `http://${config.host}:${config.port}`;
  const unsubscribe = queue.subscribe(({ job, previous }) => {
    if (job.status !== previous && job.api === "ark" && job.callbackUrl)
      callbacks.send(job, taskObject(ctx, job, baseForCallbacks));
    if (ctx.deleteWhenFinal.has(job.id) && FINAL_STATUSES.includes(job.status)) {
      ctx.deleteWhenFinal.delete(job.id);
      void removeJob(ctx, job.owner, job.id);
    }
  });
  const owners = new Map(config.keys.map((k) => [k.key, k.owner]));
  const limiter = config.limits.postsPerMinute > 0 ? new RateLimiter(config.limits.postsPerMinute) : null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://reel.local");
    const path = url.pathname;
    const api: Api = path.startsWith("/api/v3/") ? "ark" : path.startsWith("/v1/") ? "openai" : "other";
    const count = () => {
      const k = `${api} ${res.statusCode}`;
      http.set(k, (http.get(k) ?? 0) + 1);
    };
    res.on("finish", count);
    try {
      if (path === "/healthz" && req.method === "GET")
        return sendJson(res, 200, { status: "ok", models: catalog.names(), workers: workers.length });
      if (serveStudio(req, res, path)) return;
      if (path.startsWith("/files/") && req.method === "GET") {
        const key = decodeURIComponent(path.slice("/files/".length));
        if (!ctx.signer.verify(key, url.searchParams.get("expires"), url.searchParams.get("sig")))
          throw new ApiError(403, "forbidden", "the link is invalid or has expired");
        const f = storage.open(key);
        if (!f) throw new ApiError(404, "not_found", "the file has expired");
        res.writeHead(200, {
          "content-type": key.endsWith(".mp4") ? "video/mp4" : "image/png",
          "content-length": f.size,
        });
        f.stream.pipe(res);
        return;
      }
      // Auth: with keys configured every API call needs one; without, all calls share one owner.
      let owner = "local";
      if (owners.size > 0) {
        const k = bearer(req);
        const o = k ? owners.get(k) : undefined;
        if (!o)
          throw new ApiError(
            401,
            api === "openai" ? "invalid_api_key" : "AuthenticationError",
            k ? "the API key is not valid" : "missing API key: send Authorization: Bearer <key>",
          );
        owner = o;
      }
      if (path === "/metrics" && req.method === "GET") {
        const s = await queue.stats();
        const lines = [
          "# HELP reel_queue_depth Jobs waiting for a worker.",
          "# TYPE reel_queue_depth gauge",
          `reel_queue_depth ${s.byStatus.queued}`,
          "# HELP reel_jobs Jobs by state (records kept until they expire).",
          "# TYPE reel_jobs gauge",
          ...JOB_STATUSES.map((st) => `reel_jobs{state="${st}"} ${s.byStatus[st]}`),
          "# HELP reel_sampling_steps_total Sampling steps completed by this server's workers.",
          "# TYPE reel_sampling_steps_total counter",
          `reel_sampling_steps_total ${s.stepsTotal}`,
          "# HELP reel_workers In-process workers.",
          "# TYPE reel_workers gauge",
          `reel_workers ${workers.length}`,
          "# HELP reel_callbacks_total Callback deliveries by outcome.",
          "# TYPE reel_callbacks_total counter",
          `reel_callbacks_total{outcome="delivered"} ${callbacks.delivered}`,
          `reel_callbacks_total{outcome="failed"} ${callbacks.failed}`,
          "# HELP reel_http_requests_total HTTP requests by API and status.",
          "# TYPE reel_http_requests_total counter",
          ...[...http].map(([k, n]) => {
            const [a, st] = k.split(" ");
            return `reel_http_requests_total{api="${a}",status="${st}"} ${n}`;
          }),
        ];
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        res.end(`${lines.join("\n")}\n`);
        return;
      }
      if (limiter && req.method === "POST" && api !== "other") {
        const wait = limiter.take(owner);
        if (wait !== null) {
          res.setHeader("retry-after", String(wait));
          throw new ApiError(
            429,
            "rate_limit_exceeded",
            `more than ${config.limits.postsPerMinute} POST requests a minute for this key; retry in ${wait} s`,
          );
        }
      }
      const base = `http://${req.headers.host ?? `${config.host}:${config.port}`}`;
      baseForCallbacks = base;
      if (path === "/api/v3/contents/generations/tasks" || path.startsWith("/api/v3/contents/generations/tasks/"))
        return await handleArk(ctx, req, res, url, owner, base);
      if (path === "/v1/videos" || path.startsWith("/v1/videos/")) return await handleOpenAI(ctx, req, res, url, owner);
      if (path === "/v1/stories" || path.startsWith("/v1/stories/"))
        return await handleStories(ctx, req, res, url, owner);
      if (path === "/studio/events" && req.method === "GET") return streamEvents(ctx, req, res, owner);
      if (path === "/studio/models" && req.method === "GET") return sendJson(res, 200, studioModels(ctx));
      const pv = /^\/studio\/tasks\/([^/]+)\/preview$/.exec(path);
      if (pv && req.method === "GET") return await sendPreview(ctx, res, owner, pv[1]!);
      throw new ApiError(404, "not_found", `no route ${req.method} ${path}`);
    } catch (e) {
      renderError(api, res, e, log);
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  baseForCallbacks = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;

  for (let i = 0; i < config.workers; i++)
    workers.push(
      new Worker({
        id: `${process.pid}-${i}`,
        queue,
        catalog,
        storage,
        leaseMs: config.leaseMs,
        outputTtlMs: config.outputTtlMs,
        previewDir: (id) => join(config.dataDir, "previews", id),
        storyDir: join(config.dataDir, "stories"),
        log,
      }),
    );

  const expire = async () => {
    try {
      for (const j of await queue.expire(Date.now())) storage.removeJob(j.id);
    } catch (e) {
      log(`expiry: ${(e as Error).message}`);
    }
  };
  void expire();
  const expiry = setInterval(() => void expire(), Math.min(60_000, Math.max(500, config.outputTtlMs / 2)));
  expiry.unref();

  return {
    server,
    ctx,
    port,
    async close(graceMs = config.graceMs) {
      clearInterval(expiry);
      server.close();
      await Promise.all(workers.map((w) => w.stop(graceMs)));
      server.closeAllConnections();
      await callbacks.drain();
      unsubscribe();
      await queue.close();
    },
  };
}
