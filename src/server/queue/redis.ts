/**
 * The distributed queue: the JobQueue interface on Redis, so many `reel serve` and `reel worker`
 * processes on many machines share one queue (`--queue redis://host:6379/0[?prefix=reel]`,
 * `rediss://` for TLS).
 *
 * Why Redis, and why plain Lua scripts rather than BullMQ or pg-boss: Redis is one small Debian
 * package (`redis-server`) with no schema to migrate, and every state change of queue.ts can be
 * one Lua script, which Redis runs atomically — the same "one transaction per change" the SQLite
 * backend has. BullMQ (also Redis + Lua) was the first candidate, but its model is a push-style
 * processor with one lock duration per Worker, completion through its own job states, and no
 * owner index, cursor paging, lease tokens we hand out, or binary checkpoints; keeping those in a
 * second set of keys beside BullMQ's would split each change across two non-atomic writes.
 * pg-boss/Postgres would fit the conditional-update style well (it is SQL like sqlite.ts) but
 * needs a Postgres server to run and administer for what is a small, hot, mostly-transient
 * state. So this file keeps BullMQ's technique (Lua scripts over sorted sets) with the interface's
 * exact semantics.
 *
 * Keys (prefix P, default "reel"): `P:job:<id>` hash (the record, plus `checkpoint` bytes and
 * the lease), `P:q:<model>` sorted set of queued ids by sequence number — one per model, so a
 * worker claims the oldest job across only the models it has — `P:running` by lease deadline,
 * `P:owner:<owner>` every job of an owner by sequence (get/list), `P:final` final jobs by
 * expiresAt, `P:count` jobs per status, `P:seq`. Leases are judged by the Redis server's clock
 * (`TIME` inside the scripts), the one clock every machine shares, so worker clock skew cannot
 * expire or extend a lease; `reapExpired(now)` therefore ignores its argument's clock and uses
 * the server's. Expired leases are reaped by every `claim` (as sqlite.ts does) and by
 * `reapExpired`. Events go to this process's listeners at once and to other processes over the
 * pub/sub channel `P:events`.
 *
 * Durability is Redis's: run it with `appendonly yes` (and `appendfsync always` if an accepted
 * job must survive a power cut, not only a crash of reel). Keys are built inside the scripts, so
 * Redis Cluster is not supported (one primary, optionally with replicas/Sentinel). `list` reads
 * an owner's index and filters it here: linear in that owner's jobs, fine for thousands.
 */
import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { ReelError } from "../../errors.ts";
import type {
  CancelOutcome,
  Claimed,
  ClaimOptions,
  JobError,
  JobEvent,
  JobQueue,
  JobRecord,
  JobResult,
  JobStatus,
  Lease,
  LeaseAnswer,
  ListFilter,
  NewJob,
  Page,
  PageQuery,
  QueueStats,
} from "./queue.ts";

/** The record's fields as stored in the job hash (checkpoint and lease are read separately). */
const FIELDS = [
  "id",
  "api",
  "owner",
  "status",
  "spec",
  "progress",
  "error",
  "result",
  "createdAt",
  "updatedAt",
  "startedAt",
  "completedAt",
  "expiresAt",
  "attempts",
  "cancelRequested",
  "checkpointStep",
  "callbackUrl",
  "remixedFrom",
  "seq",
  "requestedModel",
] as const;
type Field = (typeof FIELDS)[number];
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<Field, number>;

type Raw = (Buffer | null)[];

function str(b: Buffer | null | undefined | boolean): string | null {
  // a missing hash field comes back nil (RESP2) or, from Lua under RESP3, possibly false
  if (b === null || b === undefined || typeof b === "boolean") return null;
  return b.toString("utf8");
}
function num(b: Buffer | null | undefined | boolean): number | null {
  const s = str(b);
  return s === null || s === "" ? null : Number(s);
}

function toRecord(v: Raw): JobRecord {
  const s = (f: Field) => str(v[F[f]]);
  const n = (f: Field) => num(v[F[f]]);
  const json = <T>(f: Field): T | null => {
    const x = s(f);
    return x ? (JSON.parse(x) as T) : null;
  };
  return {
    id: s("id")!,
    api: s("api") as JobRecord["api"],
    owner: s("owner")!,
    status: s("status") as JobStatus,
    spec: json<JobRecord["spec"]>("spec")!,
    progress: n("progress") ?? 0,
    error: json<JobError>("error"),
    result: json<JobResult>("result"),
    createdAt: n("createdAt")!,
    updatedAt: n("updatedAt")!,
    startedAt: n("startedAt"),
    completedAt: n("completedAt"),
    expiresAt: n("expiresAt"),
    attempts: n("attempts") ?? 0,
    cancelRequested: s("cancelRequested") === "1",
    checkpointStep: n("checkpointStep") ?? 0,
    callbackUrl: s("callbackUrl") || null,
    remixedFrom: s("remixedFrom") || null,
  };
}

// Shared by every script: ARGV[1] is the key prefix.
const LUA_PRE = `
local P = ARGV[1]
local FIELDS = {${FIELDS.map((f) => `'${f}'`).join(",")}}
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function jk(id) return P .. ':job:' .. id end
local function fields(id) return redis.call('HMGET', jk(id), unpack(FIELDS)) end
local function move(id, from, to)
  redis.call('HINCRBY', P .. ':count', from, -1)
  redis.call('HINCRBY', P .. ':count', to, 1)
  redis.call('HSET', jk(id), 'status', to)
end
local function held(id, token, now)
  local v = redis.call('HMGET', jk(id), 'status', 'leaseToken', 'leaseUntil')
  return v[1] == 'running' and v[2] == token and tonumber(v[3]) > now
end
local function answer(id)
  if redis.call('HGET', jk(id), 'cancelRequested') == '1' then return {1, 1} end
  return {1, 0}
end
local function finalise(id, to, now, expiresAt)
  local k = jk(id)
  redis.call('HDEL', k, 'leaseToken', 'leaseWorker', 'leaseUntil', 'checkpoint')
  redis.call('HSET', k, 'updatedAt', now, 'completedAt', now)
  redis.call('ZREM', P .. ':running', id)
  if expiresAt then
    redis.call('HSET', k, 'expiresAt', expiresAt)
    redis.call('ZADD', P .. ':final', expiresAt, id)
  end
end
-- Re-queues (or fails, or cancels) running jobs whose lease deadline is <= now; returns them as they are then.
local function reap(now, maxAttempts)
  local ids = redis.call('ZRANGEBYSCORE', P .. ':running', '-inf', now)
  local out = {}
  for _, id in ipairs(ids) do
    local k = jk(id)
    local v = redis.call('HMGET', k, 'status', 'attempts', 'cancelRequested', 'model', 'seq', 'leaseUntil')
    redis.call('ZREM', P .. ':running', id)
    if v[1] == 'running' and tonumber(v[6]) <= now then
      if v[3] == '1' then
        move(id, 'running', 'cancelled')
        finalise(id, 'cancelled', now, false)
      elseif tonumber(v[2]) >= maxAttempts then
        move(id, 'running', 'failed')
        redis.call('HSET', k, 'error', cjson.encode({code = 'E_JOB_ATTEMPTS',
          message = "the job's worker stopped answering " .. v[2] .. " times; giving up"}))
        finalise(id, 'failed', now, false)
      else
        move(id, 'running', 'queued')
        redis.call('HDEL', k, 'leaseToken', 'leaseWorker', 'leaseUntil')
        redis.call('HSET', k, 'updatedAt', now)
        redis.call('ZADD', P .. ':q:' .. v[4], tonumber(v[5]), id)
      end
      out[#out + 1] = fields(id)
    end
  end
  return out
end
`;

const SCRIPTS = {
  // ARGV: P, id, api, owner, model, requestedModel, spec, callbackUrl, remixedFrom
  enqueue: `
local id = ARGV[2]
if redis.call('EXISTS', jk(id)) == 1 then return redis.error_reply('a job with this id exists') end
local now = nowms()
local seq = redis.call('INCR', P .. ':seq')
redis.call('HSET', jk(id), 'id', id, 'api', ARGV[3], 'owner', ARGV[4], 'status', 'queued', 'model', ARGV[5],
  'requestedModel', ARGV[6], 'spec', ARGV[7], 'progress', 0, 'createdAt', now, 'updatedAt', now, 'attempts', 0,
  'cancelRequested', 0, 'checkpointStep', 0, 'seq', seq, 'callbackUrl', ARGV[8], 'remixedFrom', ARGV[9])
redis.call('ZADD', P .. ':q:' .. ARGV[5], seq, id)
redis.call('ZADD', P .. ':owner:' .. ARGV[4], seq, id)
redis.call('HINCRBY', P .. ':count', 'queued', 1)
return fields(id)`,
  // ARGV: P, maxAttempts, token, workerId, leaseMs, model...
  claim: `
local now = nowms()
local reaped = reap(now, tonumber(ARGV[2]))
local best, bestSeq = nil, nil
for i = 6, #ARGV do
  local q = P .. ':q:' .. ARGV[i]
  while true do
    local r = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
    if not r[1] then break end
    if redis.call('HGET', jk(r[1]), 'status') == 'queued' then
      if best == nil or tonumber(r[2]) < bestSeq then best, bestSeq = r[1], tonumber(r[2]) end
      break
    end
    redis.call('ZREM', q, r[1])
  end
end
if best == nil then return {reaped, false, false, false} end
local k = jk(best)
redis.call('ZREM', P .. ':q:' .. redis.call('HGET', k, 'model'), best)
move(best, 'queued', 'running')
local until_ = now + tonumber(ARGV[5])
redis.call('HSET', k, 'leaseToken', ARGV[3], 'leaseWorker', ARGV[4], 'leaseUntil', until_, 'updatedAt', now)
redis.call('HSETNX', k, 'startedAt', now)
redis.call('HINCRBY', k, 'attempts', 1)
redis.call('ZADD', P .. ':running', until_, best)
return {reaped, best, fields(best), redis.call('HGET', k, 'checkpoint')}`,
  // ARGV: P, maxAttempts
  reap: `return reap(nowms(), tonumber(ARGV[2]))`,
  // ARGV: P, id, token, leaseMs
  heartbeat: `
local now = nowms()
local id = ARGV[2]
if not held(id, ARGV[3], now) then return {0, 0} end
redis.call('HSET', jk(id), 'leaseUntil', now + tonumber(ARGV[4]))
redis.call('ZADD', P .. ':running', now + tonumber(ARGV[4]), id)
return answer(id)`,
  // ARGV: P, id, token, percent
  progress: `
local now = nowms()
local id = ARGV[2]
if not held(id, ARGV[3], now) then return {0, 0} end
redis.call('HSET', jk(id), 'progress', ARGV[4], 'updatedAt', now)
return answer(id)`,
  // ARGV: P, id, token, step, bytes
  checkpoint: `
local now = nowms()
local id = ARGV[2]
if not held(id, ARGV[3], now) then return {0, 0} end
redis.call('HSET', jk(id), 'checkpoint', ARGV[5], 'checkpointStep', ARGV[4])
return answer(id)`,
  // ARGV: P, id, token, status, result, error, expiresAt
  finish: `
local now = nowms()
local id = ARGV[2]
if not held(id, ARGV[3], now) then return 0 end
move(id, 'running', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', jk(id), 'result', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', jk(id), 'error', ARGV[6]) end
if ARGV[4] == 'succeeded' then redis.call('HSET', jk(id), 'progress', 100) end
finalise(id, ARGV[4], now, tonumber(ARGV[7]))
return 1`,
  // ARGV: P, id, token
  release: `
local id = ARGV[2]
local k = jk(id)
local v = redis.call('HMGET', k, 'status', 'leaseToken', 'attempts', 'model', 'seq')
if v[1] ~= 'running' or v[2] ~= ARGV[3] then return 0 end
move(id, 'running', 'queued')
redis.call('HDEL', k, 'leaseToken', 'leaseWorker', 'leaseUntil')
redis.call('HSET', k, 'attempts', math.max(tonumber(v[3]) - 1, 0), 'updatedAt', nowms())
redis.call('ZREM', P .. ':running', id)
redis.call('ZADD', P .. ':q:' .. v[4], tonumber(v[5]), id)
return 1`,
  // ARGV: P, owner, id, expiresAt
  cancel: `
local id = ARGV[3]
local k = jk(id)
local v = redis.call('HMGET', k, 'owner', 'status', 'model')
if v[1] ~= ARGV[2] then return 'not_found' end
local now = nowms()
if v[2] == 'queued' then
  redis.call('ZREM', P .. ':q:' .. v[3], id)
  move(id, 'queued', 'cancelled')
  finalise(id, 'cancelled', now, tonumber(ARGV[4]))
  return 'cancelled'
end
if v[2] == 'running' then
  redis.call('HSET', k, 'cancelRequested', 1, 'updatedAt', now)
  return 'requested'
end
return 'final'`,
  // ARGV: P, owner, id
  remove: `
local id = ARGV[3]
local v = redis.call('HMGET', jk(id), 'owner', 'status')
if v[1] ~= ARGV[2] or (v[2] ~= 'succeeded' and v[2] ~= 'failed' and v[2] ~= 'cancelled') then return false end
local f = fields(id)
redis.call('DEL', jk(id))
redis.call('ZREM', P .. ':owner:' .. ARGV[2], id)
redis.call('ZREM', P .. ':final', id)
redis.call('HINCRBY', P .. ':count', v[2], -1)
return f`,
  // ARGV: P, now
  expire: `
local ids = redis.call('ZRANGEBYSCORE', P .. ':final', '-inf', ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', jk(id), 'owner', 'status')
  redis.call('ZREM', P .. ':final', id)
  if v[2] == 'succeeded' or v[2] == 'failed' or v[2] == 'cancelled' then
    out[#out + 1] = fields(id)
    redis.call('DEL', jk(id))
    redis.call('ZREM', P .. ':owner:' .. v[1], id)
    redis.call('HINCRBY', P .. ':count', v[2], -1)
  end
end
return out`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number | Buffer;

export interface RedisQueueOptions {
  /** Key prefix (several independent queues can share one Redis). Default "reel". */
  readonly prefix?: string;
  /** Claims after which a job whose lease keeps expiring fails (default 3). */
  readonly maxAttempts?: number;
}

/** The Redis URL without reel's own `prefix` query parameter, and that prefix. */
export function parseRedisUrl(url: URL): { url: string; prefix: string } {
  const u = new URL(url.href);
  const prefix = u.searchParams.get("prefix") ?? "reel";
  // no ":" (the key separator), so that one prefix's keys can never be another prefix's
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix))
    throw new ReelError("E_CONFIG_INVALID", `--queue ...?prefix=${prefix}: letters, digits and _.- only (1-64)`);
  u.searchParams.delete("prefix");
  return { url: u.href, prefix };
}

export class RedisQueue implements JobQueue {
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly origin = randomUUID();
  private readonly prefix: string;
  private readonly maxAttempts: number;
  private readonly shas = new Map<ScriptName, { sha: string; src: string }>();
  private sub: Redis | null = null;
  private steps = 0;

  private constructor(
    private readonly redis: Redis,
    o: RedisQueueOptions,
  ) {
    this.prefix = o.prefix ?? "reel";
    this.maxAttempts = o.maxAttempts ?? 3;
    for (const [name, body] of Object.entries(SCRIPTS)) {
      const src = LUA_PRE + body;
      this.shas.set(name as ScriptName, { sha: createHash("sha1").update(src).digest("hex"), src });
    }
  }

  /** Connects (failing fast with a clear error if Redis cannot be reached). */
  static async connect(url: string, o: RedisQueueOptions = {}): Promise<RedisQueue> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 20 });
    let last: Error | null = null;
    redis.on("error", (e: Error) => {
      last = e; // reconnects on its own; commands fail with the reason meanwhile
    });
    try {
      await redis.connect();
      await redis.ping();
    } catch (e) {
      redis.disconnect();
      const shown = url.replace(/\/\/[^@/]*@/, "//…@");
      const why = (last as Error | null)?.message ?? (e as Error).message;
      throw new ReelError("E_CONFIG_INVALID", `--queue ${shown}: cannot reach Redis: ${why}`, {
        cause: e,
      });
    }
    return new RedisQueue(redis, o);
  }

  private async script(name: ScriptName, args: readonly Arg[]): Promise<unknown> {
    const s = this.shas.get(name)!;
    const argv = [this.prefix, ...args];
    try {
      return await this.redis.callBuffer("EVALSHA", [s.sha, 0, ...argv]);
    } catch (e) {
      if (!String((e as Error).message).startsWith("NOSCRIPT")) throw e;
      return await this.redis.callBuffer("EVAL", [s.src, 0, ...argv]);
    }
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(":");
  }

  private async fetch(ids: readonly string[]): Promise<(JobRecord | null)[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hmgetBuffer(this.key("job", id), ...FIELDS);
    const out = (await p.exec()) ?? [];
    return out.map(([err, v]) => {
      if (err) throw err;
      const raw = v as Raw;
      return raw[F.id] ? toRecord(raw) : null;
    });
  }

  private async changed(id: string, previous: JobStatus | null, known?: JobRecord): Promise<void> {
    const job = known ?? (await this.fetch([id]))[0];
    if (!job) return;
    this.deliver({ job, previous });
    await this.redis.publish(this.key("events"), JSON.stringify({ origin: this.origin, job, previous }));
  }

  private deliver(e: JobEvent): void {
    for (const fn of this.listeners) fn(e);
  }

  async enqueue(j: NewJob): Promise<JobRecord> {
    const raw = (await this.script("enqueue", [
      j.id,
      j.api,
      j.owner,
      j.spec.model,
      j.spec.requestedModel,
      JSON.stringify(j.spec),
      j.callbackUrl ?? "",
      j.remixedFrom ?? "",
    ])) as Raw;
    const job = toRecord(raw);
    await this.changed(j.id, null, job);
    return job;
  }

  async claim(o: ClaimOptions): Promise<Claimed | null> {
    if (o.models.length === 0) return null;
    const token = randomUUID();
    const [reaped, id, raw, cp] = (await this.script("claim", [
      this.maxAttempts,
      token,
      o.workerId,
      o.leaseMs,
      ...o.models,
    ])) as [Raw[], Buffer | null, Raw | null, Buffer | null];
    for (const r of reaped) await this.changed("", "running", toRecord(r));
    if (!id || !raw) return null;
    const job = toRecord(raw);
    await this.changed(job.id, "queued", job);
    return {
      lease: { jobId: job.id, token, workerId: o.workerId },
      job,
      checkpoint: cp && job.checkpointStep > 0 ? { step: job.checkpointStep, data: new Uint8Array(cp) } : null,
    };
  }

  async reapExpired(_now: number): Promise<number> {
    const reaped = (await this.script("reap", [this.maxAttempts])) as Raw[];
    for (const r of reaped) await this.changed("", "running", toRecord(r));
    return reaped.length;
  }

  private static answer(v: unknown): LeaseAnswer {
    const [ok, cancel] = v as [number, number];
    return { ok: ok === 1, cancel: ok === 1 && cancel === 1 };
  }

  async heartbeat(lease: Lease, leaseMs: number): Promise<LeaseAnswer> {
    return RedisQueue.answer(await this.script("heartbeat", [lease.jobId, lease.token, leaseMs]));
  }

  async progress(lease: Lease, percent: number): Promise<LeaseAnswer> {
    const pct = Math.max(0, Math.min(100, Math.round(percent)));
    return RedisQueue.answer(await this.script("progress", [lease.jobId, lease.token, pct]));
  }

  async saveCheckpoint(lease: Lease, step: number, data: Uint8Array): Promise<LeaseAnswer> {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const a = RedisQueue.answer(await this.script("checkpoint", [lease.jobId, lease.token, step, bytes]));
    if (a.ok) this.steps++;
    return a;
  }

  private async finish(
    lease: Lease,
    status: JobStatus,
    f: { result?: JobResult; error?: JobError },
    expiresAt: number,
  ): Promise<boolean> {
    const done = (await this.script("finish", [
      lease.jobId,
      lease.token,
      status,
      f.result ? JSON.stringify(f.result) : "",
      f.error ? JSON.stringify(f.error) : "",
      expiresAt,
    ])) as number;
    if (done === 1) await this.changed(lease.jobId, "running");
    return done === 1;
  }

  complete(lease: Lease, result: JobResult, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "succeeded", { result }, expiresAt);
  }

  fail(lease: Lease, error: JobError, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "failed", { error }, expiresAt);
  }

  markCancelled(lease: Lease, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "cancelled", {}, expiresAt);
  }

  async release(lease: Lease): Promise<boolean> {
    const done = (await this.script("release", [lease.jobId, lease.token])) as number;
    if (done === 1) await this.changed(lease.jobId, "running");
    return done === 1;
  }

  async cancel(owner: string, id: string, expiresAt: number): Promise<CancelOutcome> {
    const out = String(await this.script("cancel", [owner, id, expiresAt])) as CancelOutcome;
    if (out === "cancelled") await this.changed(id, "queued");
    return out;
  }

  async remove(owner: string, id: string): Promise<JobRecord | null> {
    const raw = (await this.script("remove", [owner, id])) as Raw | null;
    return raw ? toRecord(raw) : null;
  }

  async get(owner: string, id: string): Promise<JobRecord | null> {
    const [job] = await this.fetch([id]);
    return job && job.owner === owner ? job : null;
  }

  async list(f: ListFilter, p: PageQuery): Promise<Page> {
    const idx = this.key("owner", f.owner);
    // RESP3 (ioredis 6's default) answers [member, score] pairs; RESP2 a flat list
    const got = (await this.redis.call("ZRANGE", idx, 0, -1, "WITHSCORES")) as (string | [string, string])[];
    let rows: { id: string; seq: number }[] = [];
    for (let i = 0; i < got.length; i++) {
      const g = got[i]!;
      if (Array.isArray(g)) rows.push({ id: g[0], seq: Number(g[1]) });
      else rows.push({ id: g, seq: Number(got[++i]) });
    }
    if (f.ids?.length) {
      const want = new Set(f.ids);
      rows = rows.filter((r) => want.has(r.id));
    }
    if (f.api || f.status?.length || f.model) {
      const pl = this.redis.pipeline();
      for (const r of rows) pl.hmget(this.key("job", r.id), "api", "status", "requestedModel");
      const got = (await pl.exec()) ?? [];
      const status = f.status?.length ? new Set<string>(f.status) : null;
      rows = rows.filter((_, i) => {
        const [err, v] = got[i] ?? [null, null];
        if (err) throw err;
        const [api, st, model] = v as (string | null)[];
        if (st === null || st === undefined) return false;
        return (!f.api || api === f.api) && (!status || status.has(st)) && (!f.model || model === f.model);
      });
    }
    const total = rows.length;
    if (p.order === "desc") rows.reverse();
    if (p.after !== undefined) {
      const a = await this.redis.zscore(idx, p.after);
      if (a === null) return { items: [], total, hasMore: false };
      const s = Number(a);
      rows = rows.filter((r) => (p.order === "asc" ? r.seq > s : r.seq < s));
    }
    const off = p.offset ?? 0;
    const slice = rows.slice(off, off + p.limit + 1);
    const items = (await this.fetch(slice.slice(0, p.limit).map((r) => r.id))).filter(
      (j): j is JobRecord => j !== null,
    );
    return { items, total, hasMore: slice.length > p.limit };
  }

  async expire(now: number): Promise<JobRecord[]> {
    const rows = (await this.script("expire", [now])) as Raw[];
    return rows.map(toRecord);
  }

  async stats(): Promise<QueueStats> {
    const h = await this.redis.hgetall(this.key("count"));
    const byStatus: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    for (const k of Object.keys(byStatus) as JobStatus[]) byStatus[k] = Number(h[k] ?? 0);
    return { byStatus, stepsTotal: this.steps };
  }

  subscribe(fn: (e: JobEvent) => void): () => void {
    this.listeners.add(fn);
    if (!this.sub) {
      const sub = this.redis.duplicate();
      sub.on("error", () => {});
      const channel = this.key("events");
      sub.on("message", (ch: string, msg: string) => {
        if (ch !== channel) return;
        let e: { origin: string; job: JobRecord; previous: JobStatus | null };
        try {
          e = JSON.parse(msg) as typeof e;
        } catch {
          return; // not ours
        }
        if (e.origin !== this.origin && e.job?.id) this.deliver({ job: e.job, previous: e.previous });
      });
      void sub.subscribe(channel).catch(() => {});
      this.sub = sub;
    }
    return () => this.listeners.delete(fn);
  }

  /** Resolves once the event subscription is live (tests; events before it are not relayed). */
  async ready(): Promise<void> {
    if (!this.sub) return;
    if (this.sub.status !== "ready") await new Promise<void>((r) => this.sub!.once("ready", () => r()));
    await this.sub.subscribe(this.key("events"));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (this.sub) {
      this.sub.disconnect();
      this.sub = null;
    }
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
