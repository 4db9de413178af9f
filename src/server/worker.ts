/**
 * In-process workers: each claims jobs for the models it has, runs the real pipeline
 * (pipelines/generate.ts) with a heartbeat renewing its lease, reports progress 0-100, saves a
 * sampling checkpoint after every step, and resumes from the last one when a job was claimed
 * before. Outputs are written under temporary names and renamed into place before `complete`;
 * if the lease was lost meanwhile, the worker deletes its own files and the job's current
 * holder finishes it. Cancellation (the owner's DELETE) and shutdown abort the pipeline
 * through its AbortSignal, which it honours between model calls.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { isReelError, ReelError } from "../errors.ts";
import { encodeMp4 } from "../media/encode-video.ts";
import { FrameQueue } from "../media/frame-queue.ts";
import type { RgbFrame } from "../media/frames.ts";
import { pngBytes, readImage } from "../media/image-io.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../pipelines/checkpoint.ts";
import { generate } from "../pipelines/generate.ts";
import type { Progress } from "../pipelines/progress.ts";
import type { WanBundle } from "../pipelines/wan-model.ts";
import type { ModelCatalog } from "./models.ts";
import type { Claimed, JobQueue, JobResult } from "./queue/queue.ts";
import type { FileStorage } from "./storage/storage.ts";
import { runStoryJob } from "./story-job.ts";

export interface WorkerOptions {
  readonly id: string;
  readonly queue: JobQueue;
  readonly catalog: ModelCatalog;
  readonly storage: FileStorage;
  readonly leaseMs: number;
  readonly outputTtlMs: number;
  readonly log: (msg: string) => void;
  readonly pollMs?: number;
  /** Where a job's latent previews go while it samples (removed when it stops); none if absent. */
  readonly previewDir?: (jobId: string) => string;
  /** Story tasks: shot caches and work files (server/story-job.ts); stories fail without it. */
  readonly storyDir?: string;
}

/** Progress 0-100 over the pipeline's phases: text 0-5, image 5-8, sampling 8-90, decode 90-99. */
export function percentOf(p: Progress): number {
  const f = p.total > 0 ? p.step / p.total : 0;
  switch (p.phase) {
    case "load":
      return 0;
    case "encode_text":
      return 5 * f;
    case "encode_image":
      return 5 + 3 * f;
    case "sample":
      return 8 + 82 * f;
    case "decode":
      return 90 + 9 * f;
    default:
      return 99;
  }
}

class Stop extends Error {
  constructor(readonly why: "cancel" | "lease" | "shutdown") {
    super(why === "cancel" ? "cancelled by its owner" : why === "lease" ? "lease lost" : "server shutting down");
  }
}

export class Worker {
  private stopping = false;
  private current: AbortController | null = null;
  private readonly bundles = new Map<string, WanBundle>();
  private wake: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(private readonly o: WorkerOptions) {
    this.done = this.loop();
  }

  /** Wakes an idle worker (a job was queued). */
  poke(): void {
    this.wake?.();
  }

  /** Stops claiming; a running job finishes within graceMs, else it is aborted and re-queued. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.poke();
    const t = setTimeout(() => this.current?.abort(new Stop("shutdown")), graceMs);
    await this.done;
    clearTimeout(t);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let c: Claimed | null = null;
      try {
        c = await this.o.queue.claim({
          workerId: this.o.id,
          models: this.o.catalog.names().filter((n) => this.o.catalog.resolve(n) === n),
          leaseMs: this.o.leaseMs,
        });
      } catch (e) {
        this.o.log(`worker ${this.o.id}: claim failed: ${(e as Error).message}`);
      }
      if (!c) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.o.pollMs ?? 500);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
        continue;
      }
      await this.run(c);
    }
  }

  private bundle(model: string): WanBundle {
    let b = this.bundles.get(model);
    if (!b) {
      b = this.o.catalog.open(model);
      this.bundles.set(model, b);
    }
    return b;
  }

  private async run(c: Claimed): Promise<void> {
    if (c.job.api === "story") return this.runStory(c);
    const { queue, storage, log } = this.o;
    const { lease, job } = c;
    const spec = job.spec;
    const ac = new AbortController();
    this.current = ac;
    const stopFor = (why: Stop["why"]) => {
      if (!ac.signal.aborted) ac.abort(new Stop(why));
    };
    const react = (a: { ok: boolean; cancel: boolean }) => {
      if (!a.ok) stopFor("lease");
      else if (a.cancel) stopFor("cancel");
    };
    const hb = setInterval(
      () => {
        queue.heartbeat(lease, this.o.leaseMs).then(react, (e: Error) => log(`heartbeat ${job.id}: ${e.message}`));
      },
      Math.max(100, Math.floor(this.o.leaseMs / 3)),
    );
    const resume = c.checkpoint ? decodeCheckpoint(c.checkpoint.data) : undefined;
    log(
      `job ${job.id}: attempt ${job.attempts} on worker ${this.o.id}${resume ? `, resuming from step ${resume.step}` : ""}`,
    );
    storage.removePartials(job.id); // a killed earlier attempt's half-written files
    let lastPct = -1;
    const prefix = `${job.id}/a${job.attempts}`;
    const video = storage.staging(`${prefix}-video.mp4`);
    const thumbKey = `${prefix}-thumbnail.png`;
    const lastKey = `${prefix}-last-frame.png`;
    let encoding: Promise<void> | null = null;
    const previewDir = this.o.previewDir?.(job.id);
    if (previewDir) mkdirSync(previewDir, { recursive: true });
    const frames = new FrameQueue();
    let firstFrame: RgbFrame | undefined;
    let lastFrame: RgbFrame | undefined;
    try {
      const b = this.bundle(spec.model);
      const img = async (key: string | undefined, what: string) =>
        key ? await readImage(readFileSync(storage.path(key)), what) : undefined;
      const image = await img(spec.firstFrame, "first frame");
      const lastImage = await img(spec.lastFrame, "last frame");
      const r = await generate(
        b,
        {
          prompt: spec.prompt,
          width: spec.width,
          height: spec.height,
          frames: spec.frames,
          fps: spec.fps,
          seed: spec.seed,
          ...(spec.steps ? { steps: spec.steps } : {}),
          ...(image ? { image } : {}),
          ...(lastImage ? { lastImage } : {}),
        },
        {
          signal: ac.signal,
          ...(previewDir ? { previewDir } : {}),
          ...(resume ? { resume } : {}),
          onProgress: (p) => {
            const pct = Math.floor(percentOf(p));
            if (pct === lastPct) return;
            lastPct = pct;
            queue.progress(lease, pct).then(react, () => {});
          },
          onStep: async (cp) => react(await queue.saveCheckpoint(lease, cp.step, encodeCheckpoint(cp))),
          onFrames: async (fs) => {
            const f0 = fs[0];
            if (!f0) return;
            firstFrame ??= f0;
            lastFrame = fs[fs.length - 1];
            if (encoding === null) {
              encoding = encodeMp4(frames, {
                out: video.tmp,
                width: f0.width,
                height: f0.height,
                fps: spec.fps,
                signal: ac.signal,
              });
              encoding.catch((e: unknown) => frames.close(e));
            }
            await frames.push(fs);
          },
        },
      );
      frames.close();
      await encoding;
      if (ac.signal.aborted) throw ac.signal.reason;
      video.commit();
      if (firstFrame) storage.put(thumbKey, await pngBytes(firstFrame));
      if (lastFrame) storage.put(lastKey, await pngBytes(lastFrame));
      const result: JobResult = {
        video: `${prefix}-video.mp4`,
        ...(firstFrame ? { thumbnail: thumbKey } : {}),
        ...(lastFrame ? { lastFrame: lastKey } : {}),
        frames: r.frames,
        width: r.width,
        height: r.height,
        fps: r.fps,
        seed: r.seed,
      };
      if (await queue.complete(lease, result, Date.now() + this.o.outputTtlMs)) log(`job ${job.id}: succeeded`);
      else {
        log(`job ${job.id}: lease lost before completion; discarding this attempt's files`);
        for (const k of [result.video, thumbKey, lastKey]) storage.remove(k);
      }
    } catch (e) {
      frames.close(e);
      await (encoding as Promise<void> | null)?.catch(() => {});
      video.discard();
      const why = ac.signal.reason instanceof Stop ? ac.signal.reason.why : null;
      const expires = Date.now() + this.o.outputTtlMs;
      if (why === "cancel") {
        await queue.markCancelled(lease, expires);
        log(`job ${job.id}: cancelled`);
      } else if (why === "shutdown") {
        await queue.release(lease);
        log(`job ${job.id}: re-queued at shutdown`);
      } else if (why === "lease") log(`job ${job.id}: lease lost; stopped`);
      else {
        const err = isReelError(e)
          ? { code: e.code, message: e.message }
          : { code: "E_INTERNAL", message: (e as Error)?.message ?? String(e) };
        await queue.fail(lease, err, expires);
        log(`job ${job.id}: failed: ${err.code}: ${err.message}`);
      }
    } finally {
      clearInterval(hb);
      if (previewDir) rmSync(previewDir, { recursive: true, force: true });
      this.current = null;
    }
  }

  /** A story task: the same lease, heartbeat, cancel and shutdown handling as a video. */
  private async runStory(c: Claimed): Promise<void> {
    const { queue, storage, log } = this.o;
    const { lease, job } = c;
    const ac = new AbortController();
    this.current = ac;
    const react = (a: { ok: boolean; cancel: boolean }) => {
      if (ac.signal.aborted) return;
      if (!a.ok) ac.abort(new Stop("lease"));
      else if (a.cancel) ac.abort(new Stop("cancel"));
    };
    const hb = setInterval(
      () => {
        queue.heartbeat(lease, this.o.leaseMs).then(react, (e: Error) => log(`heartbeat ${job.id}: ${e.message}`));
      },
      Math.max(100, Math.floor(this.o.leaseMs / 3)),
    );
    log(`story ${job.id}: attempt ${job.attempts} on worker ${this.o.id}`);
    let lastPct = -1;
    try {
      if (!this.o.storyDir) throw new ReelError("E_CONFIG_INVALID", "this worker has no story folder configured");
      const result = await runStoryJob({
        claimed: c,
        bundle: this.bundle(job.spec.model),
        storage,
        dir: this.o.storyDir,
        signal: ac.signal,
        progress: (pct) => {
          if (pct === lastPct) return;
          lastPct = pct;
          queue.progress(lease, pct).then(react, () => {});
        },
      });
      if (ac.signal.aborted) throw ac.signal.reason;
      if (await queue.complete(lease, result, Date.now() + this.o.outputTtlMs)) log(`story ${job.id}: succeeded`);
      else log(`story ${job.id}: lease lost before completion; its holder finishes it`);
    } catch (e) {
      const why = ac.signal.reason instanceof Stop ? ac.signal.reason.why : null;
      const expires = Date.now() + this.o.outputTtlMs;
      if (why === "cancel") {
        await queue.markCancelled(lease, expires);
        log(`story ${job.id}: cancelled`);
      } else if (why === "shutdown") {
        await queue.release(lease);
        log(`story ${job.id}: re-queued at shutdown (finished shots stay in the cache)`);
      } else if (why === "lease") log(`story ${job.id}: lease lost; stopped`);
      else {
        const err = isReelError(e)
          ? { code: e.code, message: e.message }
          : { code: "E_INTERNAL", message: (e as Error)?.message ?? String(e) };
        await queue.fail(lease, err, expires);
        log(`story ${job.id}: failed: ${err.code}: ${err.message}`);
      }
    } finally {
      clearInterval(hb);
      this.current = null;
    }
  }
}
