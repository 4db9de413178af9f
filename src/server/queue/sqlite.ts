/**
 * The embedded queue: one SQLite database file (WAL) under the data folder, via better-sqlite3.
 * Every state change is one transaction, so accepted jobs survive a crash, and the lease
 * conditions of queue.ts are single `UPDATE ... WHERE lease_token = ? AND lease_until > ?`
 * statements: a worker whose lease was taken over changes nothing. Several processes may open
 * the same file (SQLite serialises writers; busy_timeout waits), though one server per data
 * folder is the intended use.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
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

interface Row {
  seq: number;
  id: string;
  api: string;
  owner: string;
  status: string;
  model: string;
  spec: string;
  progress: number;
  error: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  expires_at: number | null;
  attempts: number;
  cancel_requested: number;
  checkpoint_step: number;
  checkpoint: Buffer | null;
  lease_token: string | null;
  lease_until: number | null;
  callback_url: string | null;
  remixed_from: string | null;
}

const COLUMNS =
  "seq, id, api, owner, status, model, spec, progress, error, result, created_at, updated_at, started_at, completed_at, expires_at, attempts, cancel_requested, checkpoint_step, lease_token, lease_until, callback_url, remixed_from";

function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    api: r.api as JobRecord["api"],
    owner: r.owner,
    status: r.status as JobStatus,
    spec: JSON.parse(r.spec) as JobRecord["spec"],
    progress: r.progress,
    error: r.error ? (JSON.parse(r.error) as JobError) : null,
    result: r.result ? (JSON.parse(r.result) as JobResult) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    expiresAt: r.expires_at,
    attempts: r.attempts,
    cancelRequested: r.cancel_requested === 1,
    checkpointStep: r.checkpoint_step,
    callbackUrl: r.callback_url,
    remixedFrom: r.remixed_from,
  };
}

export interface SqliteQueueOptions {
  /** Claims after which a job whose lease keeps expiring fails (default 3). */
  readonly maxAttempts?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

export class SqliteQueue implements JobQueue {
  private readonly db: Database.Database;
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly maxAttempts: number;
  private readonly now: () => number;
  private steps = 0;

  constructor(file: string, o: SqliteQueueOptions = {}) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.maxAttempts = o.maxAttempts ?? 3;
    this.now = o.now ?? Date.now;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        api TEXT NOT NULL,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        model TEXT NOT NULL,
        spec TEXT NOT NULL,
        progress INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        result TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        completed_at INTEGER,
        expires_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        checkpoint_step INTEGER NOT NULL DEFAULT 0,
        checkpoint BLOB,
        lease_token TEXT,
        lease_worker TEXT,
        lease_until INTEGER,
        callback_url TEXT,
        remixed_from TEXT
      );
      CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, model, seq);
      CREATE INDEX IF NOT EXISTS jobs_owner ON jobs(owner, seq);
    `);
  }

  private row(id: string): Row | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = ?`).get(id) as Row | undefined;
  }

  private emit(id: string, previous: JobStatus | null): void {
    const r = this.row(id);
    if (r) this.emitRecord(toRecord(r), previous);
  }

  private emitRecord(job: JobRecord, previous: JobStatus | null): void {
    for (const fn of this.listeners) fn({ job, previous });
  }

  async enqueue(j: NewJob): Promise<JobRecord> {
    const t = this.now();
    this.db
      .prepare(
        "INSERT INTO jobs (id, api, owner, status, model, spec, created_at, updated_at, callback_url, remixed_from) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
      )
      .run(
        j.id,
        j.api,
        j.owner,
        j.spec.model,
        JSON.stringify(j.spec),
        t,
        t,
        j.callbackUrl ?? null,
        j.remixedFrom ?? null,
      );
    this.emit(j.id, null);
    return toRecord(this.row(j.id)!);
  }

  /** Re-queues (or fails) expired leases; returns the changed jobs as they are now. */
  private reap(now: number): JobRecord[] {
    const expired = this.db
      .prepare("SELECT id, attempts, cancel_requested FROM jobs WHERE status = 'running' AND lease_until <= ?")
      .all(now) as { id: string; attempts: number; cancel_requested: number }[];
    const changed: JobRecord[] = [];
    for (const e of expired) {
      if (e.cancel_requested) {
        this.db
          .prepare(
            "UPDATE jobs SET status = 'cancelled', lease_token = NULL, lease_until = NULL, checkpoint = NULL, updated_at = ?, completed_at = ? WHERE id = ?",
          )
          .run(now, now, e.id);
      } else if (e.attempts >= this.maxAttempts) {
        const err: JobError = {
          code: "E_JOB_ATTEMPTS",
          message: `the job's worker stopped answering ${e.attempts} times; giving up`,
        };
        this.db
          .prepare(
            "UPDATE jobs SET status = 'failed', error = ?, lease_token = NULL, lease_until = NULL, checkpoint = NULL, updated_at = ?, completed_at = ? WHERE id = ?",
          )
          .run(JSON.stringify(err), now, now, e.id);
      } else {
        this.db
          .prepare(
            "UPDATE jobs SET status = 'queued', lease_token = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
          )
          .run(now, e.id);
      }
      changed.push(toRecord(this.row(e.id)!));
    }
    return changed;
  }

  async reapExpired(now: number): Promise<number> {
    const changed = this.db.transaction(() => this.reap(now)).immediate();
    for (const j of changed) this.emitRecord(j, "running");
    return changed.length;
  }

  async claim(o: ClaimOptions): Promise<Claimed | null> {
    if (o.models.length === 0) return null;
    const now = this.now();
    const token = randomUUID();
    const tx = this.db.transaction(() => {
      const reaped = this.reap(now);
      const r = this.db
        .prepare(
          `SELECT id FROM jobs WHERE status = 'queued' AND model IN (${o.models.map(() => "?").join(",")}) ORDER BY seq LIMIT 1`,
        )
        .get(...o.models) as { id: string } | undefined;
      if (r)
        this.db
          .prepare(
            "UPDATE jobs SET status = 'running', lease_token = ?, lease_worker = ?, lease_until = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ?",
          )
          .run(token, o.workerId, now + o.leaseMs, now, now, r.id);
      return { reaped, id: r?.id };
    });
    const { reaped, id } = tx.immediate();
    for (const j of reaped) this.emitRecord(j, "running");
    if (!id) return null;
    this.emit(id, "queued");
    const full = this.db.prepare(`SELECT ${COLUMNS}, checkpoint FROM jobs WHERE id = ?`).get(id) as Row;
    return {
      lease: { jobId: id, token, workerId: o.workerId },
      job: toRecord(full),
      checkpoint:
        full.checkpoint && full.checkpoint_step > 0
          ? { step: full.checkpoint_step, data: new Uint8Array(full.checkpoint) }
          : null,
    };
  }

  private answer(lease: Lease, changes: number): LeaseAnswer {
    if (changes === 0) return { ok: false, cancel: false };
    const r = this.db.prepare("SELECT cancel_requested FROM jobs WHERE id = ?").get(lease.jobId) as
      | { cancel_requested: number }
      | undefined;
    return { ok: true, cancel: r?.cancel_requested === 1 };
  }

  async heartbeat(lease: Lease, leaseMs: number): Promise<LeaseAnswer> {
    const now = this.now();
    const r = this.db
      .prepare(
        "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_until > ?",
      )
      .run(now + leaseMs, lease.jobId, lease.token, now);
    return this.answer(lease, r.changes);
  }

  async progress(lease: Lease, percent: number): Promise<LeaseAnswer> {
    const now = this.now();
    const r = this.db
      .prepare(
        "UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_until > ?",
      )
      .run(Math.max(0, Math.min(100, Math.round(percent))), now, lease.jobId, lease.token, now);
    return this.answer(lease, r.changes);
  }

  async saveCheckpoint(lease: Lease, step: number, data: Uint8Array): Promise<LeaseAnswer> {
    const now = this.now();
    const r = this.db
      .prepare(
        "UPDATE jobs SET checkpoint = ?, checkpoint_step = ? WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_until > ?",
      )
      .run(Buffer.from(data.buffer, data.byteOffset, data.byteLength), step, lease.jobId, lease.token, now);
    if (r.changes) this.steps++;
    return this.answer(lease, r.changes);
  }

  private finish(lease: Lease, status: JobStatus, fields: { result?: JobResult; error?: JobError }, expiresAt: number) {
    const now = this.now();
    const r = this.db
      .prepare(
        `UPDATE jobs SET status = ?, result = ?, error = ?, progress = CASE WHEN ? = 'succeeded' THEN 100 ELSE progress END,
         lease_token = NULL, lease_until = NULL, checkpoint = NULL, completed_at = ?, updated_at = ?, expires_at = ?
         WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_until > ?`,
      )
      .run(
        status,
        fields.result ? JSON.stringify(fields.result) : null,
        fields.error ? JSON.stringify(fields.error) : null,
        status,
        now,
        now,
        expiresAt,
        lease.jobId,
        lease.token,
        now,
      );
    if (r.changes) this.emit(lease.jobId, "running");
    return r.changes === 1;
  }

  async complete(lease: Lease, result: JobResult, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "succeeded", { result }, expiresAt);
  }

  async fail(lease: Lease, error: JobError, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "failed", { error }, expiresAt);
  }

  async markCancelled(lease: Lease, expiresAt: number): Promise<boolean> {
    return this.finish(lease, "cancelled", {}, expiresAt);
  }

  async release(lease: Lease): Promise<boolean> {
    const now = this.now();
    const r = this.db
      .prepare(
        "UPDATE jobs SET status = 'queued', lease_token = NULL, lease_until = NULL, attempts = MAX(attempts - 1, 0), updated_at = ? WHERE id = ? AND status = 'running' AND lease_token = ?",
      )
      .run(now, lease.jobId, lease.token);
    if (r.changes) this.emit(lease.jobId, "running");
    return r.changes === 1;
  }

  async cancel(owner: string, id: string, expiresAt: number): Promise<CancelOutcome> {
    const now = this.now();
    const out = this.db
      .transaction((): CancelOutcome => {
        const r = this.db.prepare("SELECT status FROM jobs WHERE id = ? AND owner = ?").get(id, owner) as
          | { status: JobStatus }
          | undefined;
        if (!r) return "not_found";
        if (r.status === "queued") {
          this.db
            .prepare(
              "UPDATE jobs SET status = 'cancelled', checkpoint = NULL, updated_at = ?, completed_at = ?, expires_at = ? WHERE id = ?",
            )
            .run(now, now, expiresAt, id);
          return "cancelled";
        }
        if (r.status === "running") {
          this.db.prepare("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?").run(now, id);
          return "requested";
        }
        return "final";
      })
      .immediate();
    if (out === "cancelled") this.emit(id, "queued");
    return out;
  }

  async remove(owner: string, id: string): Promise<JobRecord | null> {
    const r = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM jobs WHERE id = ? AND owner = ? AND status IN ('succeeded','failed','cancelled')`,
      )
      .get(id, owner) as Row | undefined;
    if (!r) return null;
    this.db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
    return toRecord(r);
  }

  async get(owner: string, id: string): Promise<JobRecord | null> {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = ? AND owner = ?`).get(id, owner) as
      | Row
      | undefined;
    return r ? toRecord(r) : null;
  }

  async list(f: ListFilter, p: PageQuery): Promise<Page> {
    const where = ["owner = ?"];
    const args: unknown[] = [f.owner];
    if (f.api) {
      where.push("api = ?");
      args.push(f.api);
    }
    if (f.status?.length) {
      where.push(`status IN (${f.status.map(() => "?").join(",")})`);
      args.push(...f.status);
    }
    if (f.ids?.length) {
      where.push(`id IN (${f.ids.map(() => "?").join(",")})`);
      args.push(...f.ids);
    }
    if (f.model) {
      where.push("json_extract(spec, '$.requestedModel') = ?");
      args.push(f.model);
    }
    const base = where.join(" AND ");
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE ${base}`).get(...args) as { n: number }).n;
    const dir = p.order === "asc" ? "ASC" : "DESC";
    let cond = base;
    const condArgs = [...args];
    if (p.after !== undefined) {
      const a = this.db.prepare("SELECT seq FROM jobs WHERE id = ? AND owner = ?").get(p.after, f.owner) as
        | { seq: number }
        | undefined;
      if (!a) return { items: [], total, hasMore: false };
      cond += p.order === "asc" ? " AND seq > ?" : " AND seq < ?";
      condArgs.push(a.seq);
    }
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM jobs WHERE ${cond} ORDER BY seq ${dir} LIMIT ? OFFSET ?`)
      .all(...condArgs, p.limit + 1, p.offset ?? 0) as Row[];
    return { items: rows.slice(0, p.limit).map(toRecord), total, hasMore: rows.length > p.limit };
  }

  async expire(now: number): Promise<JobRecord[]> {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare(
            `SELECT ${COLUMNS} FROM jobs WHERE status IN ('succeeded','failed','cancelled') AND expires_at IS NOT NULL AND expires_at <= ?`,
          )
          .all(now) as Row[];
        const del = this.db.prepare("DELETE FROM jobs WHERE id = ?");
        for (const r of rows) del.run(r.id);
        return rows.map(toRecord);
      })
      .immediate();
  }

  async stats(): Promise<QueueStats> {
    const rows = this.db.prepare("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").all() as {
      status: JobStatus;
      n: number;
    }[];
    const byStatus: Record<JobStatus, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    for (const r of rows) byStatus[r.status] = r.n;
    return { byStatus, stepsTotal: this.steps };
  }

  subscribe(fn: (e: JobEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.db.close();
  }
}
