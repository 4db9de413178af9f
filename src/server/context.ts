/** What the route handlers share: config, queue, storage, models, and job submission. */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerConfig } from "./config.ts";
import { ApiError } from "./http.ts";
import type { InputImage } from "./images.ts";
import { FieldError, type ModelShape } from "./mapping.ts";
import type { ModelCatalog } from "./models.ts";
import type { JobApi, JobQueue, JobRecord, JobSpec } from "./queue/queue.ts";
import type { FileStorage } from "./storage/storage.ts";

export interface Ctx {
  readonly config: ServerConfig;
  readonly queue: JobQueue;
  readonly storage: FileStorage;
  readonly catalog: ModelCatalog;
  /** Signs file URLs (Ark's content.video_url works without the API key, like Ark's). */
  readonly signer: UrlSigner;
  /** Wakes idle workers. */
  readonly poke: () => void;
  /** Deletes (OpenAI videos, stories) of running jobs: hidden now, removed once their worker stops. */
  readonly deleteWhenFinal: Set<string>;
}

export class UrlSigner {
  private readonly secret: Buffer;
  constructor(dataDir: string) {
    const f = join(dataDir, "url-secret");
    if (!existsSync(f)) writeFileSync(f, randomBytes(32).toString("hex"), { mode: 0o600 });
    this.secret = Buffer.from(readFileSync(f, "utf8").trim(), "hex");
  }
  private mac(key: string, expires: number): string {
    return createHmac("sha256", this.secret).update(`${key}\n${expires}`).digest("base64url");
  }
  /** Path and query of a signed URL for a storage key, valid until `expires` (ms). */
  sign(key: string, expires: number): string {
    const e = Math.floor(expires / 1000);
    return `/files/${key}?expires=${e}&sig=${this.mac(key, e)}`;
  }
  verify(key: string, expires: string | null, sig: string | null): boolean {
    if (!expires || !sig || !/^\d+$/.test(expires)) return false;
    if (Number(expires) * 1000 < Date.now()) return false;
    const a = Buffer.from(this.mac(key, Number(expires)));
    const b = Buffer.from(sig);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** The configured model a requested name means, with its shape; a 400 naming `field` if none. */
export function modelFor(ctx: Ctx, requested: string, field = "model"): { name: string; shape: ModelShape } {
  const name = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(requested) ? ctx.catalog.resolve(requested) : null;
  if (!name)
    throw new FieldError(
      field,
      `model "${requested.slice(0, 100)}" is not served here; available: ${ctx.catalog.names().join(", ")}`,
    );
  return { name, shape: ctx.catalog.shape(name) };
}

export function newId(api: JobApi): string {
  if (api === "openai") return `video_${randomBytes(16).toString("hex")}`;
  if (api === "story") return `story_${randomBytes(12).toString("hex")}`;
  const d = new Date();
  const stamp = d.toISOString().replace(/\D/g, "").slice(0, 14);
  return `cgt-${stamp}-${randomBytes(4).toString("hex")}`;
}

export function resolveSeed(seed: number | undefined): number {
  return seed === undefined || seed < 0 ? randomInt(0, 2 ** 31) : seed;
}

export interface Submission {
  readonly api: JobApi;
  readonly owner: string;
  readonly spec: Omit<JobSpec, "firstFrame" | "lastFrame">;
  readonly firstFrame?: InputImage;
  readonly lastFrame?: InputImage;
  readonly callbackUrl?: string;
  readonly remixedFrom?: string;
}

export async function submit(ctx: Ctx, s: Submission): Promise<JobRecord> {
  const queued = await ctx.queue.list({ owner: s.owner, status: ["queued"] }, { order: "asc", limit: 1 });
  if (queued.total >= ctx.config.limits.maxQueuedPerKey)
    throw new ApiError(
      429,
      "too_many_queued",
      `this key has ${queued.total} queued tasks; at most ${ctx.config.limits.maxQueuedPerKey} may wait at once`,
    );
  const id = newId(s.api);
  const spec: JobSpec = { ...s.spec };
  const put = (img: InputImage | undefined, name: string) => {
    if (!img) return undefined;
    const key = `${id}/${name}.${img.format === "jpeg" ? "jpg" : img.format}`;
    ctx.storage.put(key, img.bytes);
    return key;
  };
  const first = put(s.firstFrame, "first-frame");
  const last = put(s.lastFrame, "last-frame-input");
  const job = await ctx.queue.enqueue({
    id,
    api: s.api,
    owner: s.owner,
    spec: { ...spec, ...(first ? { firstFrame: first } : {}), ...(last ? { lastFrame: last } : {}) },
    callbackUrl: s.callbackUrl ?? null,
    remixedFrom: s.remixedFrom ?? null,
  });
  ctx.poke();
  return job;
}

/**
 * A client's delete (OpenAI videos, stories): a queued or final job goes at once; a running one
 * is cancelled, hidden from then on (see isDeleted) and removed when its worker has stopped.
 */
export async function deleteForClient(ctx: Ctx, owner: string, id: string): Promise<void> {
  const out = await ctx.queue.cancel(owner, id, Date.now() + ctx.config.outputTtlMs);
  if (out === "requested") ctx.deleteWhenFinal.add(id);
  else await removeJob(ctx, owner, id);
}

/** Deleted by its client while running: gone for the client, though its worker is still stopping. */
export function isDeleted(ctx: Ctx, id: string): boolean {
  return ctx.deleteWhenFinal.has(id);
}

/** Deletes a final job's record and files. */
export async function removeJob(ctx: Ctx, owner: string, id: string): Promise<boolean> {
  const r = await ctx.queue.remove(owner, id);
  if (r) ctx.storage.removeJob(id);
  return r !== null;
}
