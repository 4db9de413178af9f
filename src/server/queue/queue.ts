/**
 * The job queue behind `reel serve`: one backend-neutral, async interface. The embedded
 * backend (sqlite.ts, one database file under --data) is the default; a distributed backend
 * (e.g. BullMQ on Redis) implements the same interface so that many servers and workers on
 * many machines share one queue. The HTTP layer and the workers only ever see this interface.
 *
 * Semantics every backend must keep:
 *
 * - **Durable.** `enqueue` resolves only once the job is stored; a crash after that loses nothing.
 * - **Lease + heartbeat.** `claim` hands a queued job to one worker for `leaseMs` and returns a
 *   `Lease` (job id + a fresh token). The worker calls `heartbeat` well within the lease to renew
 *   it. A job whose lease expired (its worker died or hung) goes back to `queued` on the next
 *   `claim`/`reapExpired` and is claimed again, keeping its last checkpoint, with `attempts` + 1.
 *   Jobs that reach `maxAttempts` claims fail with code E_JOB_ATTEMPTS instead.
 * - **At most once to completion.** `complete`, `fail`, `saveCheckpoint`, `progress` and
 *   `heartbeat` are conditional on holding the lease (same token, not expired): they resolve
 *   `false` and change nothing otherwise, so a worker whose lease was taken over can never
 *   finish the job a second time. A worker that gets `false` must stop and discard its output.
 * - **Outputs are atomic.** The worker writes outputs to a temporary name, renames them into
 *   place (storage/), and only then calls `complete` with the final keys; a job is never
 *   `succeeded` with a half-written file, and a crash between rename and complete leaves a
 *   stray file that the re-run overwrites.
 * - **Checkpoints.** `saveCheckpoint(lease, step, bytes)` keeps the latest sampling state
 *   (the pipeline's opaque bytes: latent + sampler state); a re-claimed job gets it back in
 *   `Claimed.checkpoint` and resumes from that step.
 * - **Cancellation.** `cancel` moves a queued job straight to `cancelled`; a running job gets
 *   `cancelRequested` and its worker sees it in the next `heartbeat`/`progress` answer
 *   (`{ok, cancel}`) and stops within a step, then calls `markCancelled`.
 * - **Ownership.** Every job has an `owner` (the API key's id); `get`/`list`/`cancel`/`remove`
 *   take the owner and never reveal another owner's jobs (they behave as if absent).
 * - **Expiry.** `expire(now)` deletes finished jobs whose `expiresAt` passed and returns them,
 *   so the caller deletes their outputs too.
 * - **Events.** `subscribe` reports each state change (queued → running → succeeded | failed |
 *   cancelled) in this process; a distributed backend relays changes made by other processes.
 *
 * Times are Unix milliseconds. All methods are async so that a networked backend fits.
 */

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export const JOB_STATUSES: readonly JobStatus[] = ["queued", "running", "succeeded", "failed", "cancelled"];
export const FINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

/** Which API created the job: it decides ids and how the task is shown. */
export type JobApi = "ark" | "openai" | "story";

/** What a worker needs to run a generation: resolved settings, no file paths from users. */
export interface JobSpec {
  /** The configured model name (never a path). */
  readonly model: string;
  /** The name the client asked for, echoed back in the task object. */
  readonly requestedModel: string;
  readonly prompt: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
  readonly seed: number;
  readonly steps?: number;
  /** Input images, already fetched and validated: keys in storage (see storage/). */
  readonly firstFrame?: string;
  readonly lastFrame?: string;
  readonly referenceImages?: readonly string[];
  /** API-specific echo fields (ratio, resolution, seconds, size, camera_fixed, ...). */
  readonly echo: Readonly<Record<string, unknown>>;
  /** Story tasks: the validated plan (pipelines/story/schema.ts) and the shots to re-render. */
  readonly story?: unknown;
  readonly only?: readonly number[];
}

export interface JobError {
  readonly code: string;
  readonly message: string;
}

export interface JobResult {
  /** Storage keys of the outputs (already renamed into place). */
  readonly video: string;
  readonly thumbnail?: string;
  readonly lastFrame?: string;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly seed: number;
}

export interface JobRecord {
  readonly id: string;
  readonly api: JobApi;
  readonly owner: string;
  readonly status: JobStatus;
  readonly spec: JobSpec;
  /** 0-100 */
  readonly progress: number;
  readonly error: JobError | null;
  readonly result: JobResult | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly expiresAt: number | null;
  /** How many times a worker claimed it (1 on the first run). */
  readonly attempts: number;
  readonly cancelRequested: boolean;
  /** Sampling step of the latest checkpoint (0 if none). */
  readonly checkpointStep: number;
  readonly callbackUrl: string | null;
  readonly remixedFrom: string | null;
}

export interface NewJob {
  readonly id: string;
  readonly api: JobApi;
  readonly owner: string;
  readonly spec: JobSpec;
  readonly callbackUrl?: string | null;
  readonly remixedFrom?: string | null;
}

export interface Lease {
  readonly jobId: string;
  readonly token: string;
  readonly workerId: string;
}

export interface Claimed {
  readonly lease: Lease;
  readonly job: JobRecord;
  /** The latest saved sampling checkpoint, if the job ran before. */
  readonly checkpoint: { readonly step: number; readonly data: Uint8Array } | null;
}

export interface ClaimOptions {
  readonly workerId: string;
  /** The model names this worker can run; jobs for other models are left for other workers. */
  readonly models: readonly string[];
  readonly leaseMs: number;
}

export interface LeaseAnswer {
  /** False: the lease is lost (expired and taken over, or the job is gone): stop now. */
  readonly ok: boolean;
  /** True: the owner cancelled the job; stop within a step and call markCancelled. */
  readonly cancel: boolean;
}

export interface ListFilter {
  readonly owner: string;
  readonly api?: JobApi;
  readonly status?: readonly JobStatus[];
  readonly ids?: readonly string[];
  readonly model?: string;
}

export interface PageQuery {
  readonly order: "asc" | "desc";
  readonly limit: number;
  /** Offset paging (Ark page_num/page_size). */
  readonly offset?: number;
  /** Cursor paging (OpenAI `after`): items strictly after this id in the given order. */
  readonly after?: string;
}

export interface Page {
  readonly items: readonly JobRecord[];
  readonly total: number;
  readonly hasMore: boolean;
}

export interface JobEvent {
  readonly job: JobRecord;
  readonly previous: JobStatus | null;
}

export type CancelOutcome = "cancelled" | "requested" | "final" | "not_found";

export interface QueueStats {
  readonly byStatus: Readonly<Record<JobStatus, number>>;
  /** Sampling steps saved (checkpoints) since this process started. */
  readonly stepsTotal: number;
}

export interface JobQueue {
  /** Stores a new queued job. */
  enqueue(job: NewJob): Promise<JobRecord>;
  /** Takes the oldest queued job for one of `models` (re-queuing expired leases first), or null. */
  claim(o: ClaimOptions): Promise<Claimed | null>;
  /** Renews the lease for leaseMs more. */
  heartbeat(lease: Lease, leaseMs: number): Promise<LeaseAnswer>;
  /** Records progress (0-100) under the lease (also renews nothing: call heartbeat for that). */
  progress(lease: Lease, percent: number): Promise<LeaseAnswer>;
  /** Keeps the latest sampling checkpoint under the lease. */
  saveCheckpoint(lease: Lease, step: number, data: Uint8Array): Promise<LeaseAnswer>;
  /** Marks succeeded with the outputs (already in place), if the lease is still held. */
  complete(lease: Lease, result: JobResult, expiresAt: number): Promise<boolean>;
  /** Marks failed, if the lease is still held. */
  fail(lease: Lease, error: JobError, expiresAt: number): Promise<boolean>;
  /** Marks a running job cancelled after its worker stopped (cancel was requested). */
  markCancelled(lease: Lease, expiresAt: number): Promise<boolean>;
  /** Gives the job back to the queue (graceful shutdown), keeping its checkpoint. */
  release(lease: Lease): Promise<boolean>;
  /** Owner-side cancel: queued → cancelled now; running → cancel requested; final → "final". */
  cancel(owner: string, id: string, expiresAt: number): Promise<CancelOutcome>;
  /** Deletes a job record in a final state (returns it so the caller removes its outputs). */
  remove(owner: string, id: string): Promise<JobRecord | null>;
  /** One job of this owner, or null (also for another owner's job). */
  get(owner: string, id: string): Promise<JobRecord | null>;
  list(filter: ListFilter, page: PageQuery): Promise<Page>;
  /** Deletes final jobs whose expiresAt ≤ now; returns them. */
  expire(now: number): Promise<JobRecord[]>;
  /** Re-queues running jobs whose lease expired; returns how many. */
  reapExpired(now: number): Promise<number>;
  stats(): Promise<QueueStats>;
  /** State changes; returns the unsubscribe function. */
  subscribe(fn: (e: JobEvent) => void): () => void;
  close(): Promise<void>;
}
