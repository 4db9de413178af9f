/**
 * A worker running a story task: pipelines/story/render.ts with the owner's shot cache (under
 * the worker's story folder, keyed by content), per-shot status written beside the outputs in
 * storage (`{id}/shots.json`, read by GET /v1/stories/{id}), overall progress through the
 * queue. Durable at shot granularity: a story claimed again after its worker died re-renders
 * only the shots that were not finished (the others are in the cache).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { renderStory } from "../pipelines/story/render.ts";
import type { Story } from "../pipelines/story/schema.ts";
import type { Progress } from "../pipelines/progress.ts";
import type { WanBundle } from "../pipelines/wan-model.ts";
import type { Claimed, JobResult } from "./queue/queue.ts";
import type { FileStorage } from "./storage/storage.ts";
import { percentOf } from "./worker.ts";

export const STORY_VARIANTS = ["video", "storyboard", "plan", "vtt", "srt"] as const;
export type StoryVariant = (typeof STORY_VARIANTS)[number];

export interface ShotStatus {
  readonly status: "queued" | "cached" | "rendering" | "rendered";
  readonly progress: number;
}

const statusKey = (jobId: string) => `${jobId}/shots.json`;

/** Storage key of one output of a finished story, from the result's video key. */
export function variantKey(videoKey: string, v: StoryVariant): string {
  const ext = v === "video" ? ".mp4" : v === "storyboard" ? ".png" : v === "plan" ? ".json" : `.${v}`;
  return `${videoKey.replace(/-video\.mp4$/, "")}-${v}${ext}`;
}

export function readShotStatus(storage: FileStorage, jobId: string, n: number): (ShotStatus | undefined)[] {
  try {
    const s = JSON.parse(readFileSync(storage.path(statusKey(jobId)), "utf8")) as ShotStatus[];
    return Array.from({ length: n }, (_, i) => s[i]);
  } catch {
    return [];
  }
}

export interface StoryRun {
  readonly claimed: Claimed;
  readonly bundle: WanBundle;
  readonly storage: FileStorage;
  /** The worker's folder for shot caches and work files. */
  readonly dir: string;
  readonly signal: AbortSignal;
  /** Overall 0-100 to the queue. */
  readonly progress: (pct: number) => void;
}

/** Renders the story; returns the result to `complete` with (outputs already in storage). */
export async function runStoryJob(r: StoryRun): Promise<JobResult> {
  const { job } = r.claimed;
  const story = job.spec.story as Story;
  const n = story.shots.length;
  const owner = createHash("sha256").update(job.owner).digest("hex").slice(0, 16);
  const cacheDir = join(r.dir, "cache", owner);
  const work = join(r.dir, "work", `${job.id}-a${job.attempts}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const shots: ShotStatus[] = Array.from({ length: n }, () => ({ status: "queued", progress: 0 }));
  let lastWrite = 0;
  const publish = (force = false) => {
    const now = Date.now();
    if (!force && now - lastWrite < 250) return;
    lastWrite = now;
    r.storage.put(statusKey(job.id), Buffer.from(JSON.stringify(shots)));
    const done = shots.reduce((s, x) => s + (x.status === "queued" ? 0 : x.progress / 100), 0);
    r.progress(Math.min(97, Math.floor((done / n) * 97)));
  };
  publish(true);
  try {
    const res = await renderStory(story, {
      bundle: r.bundle,
      out: join(work, "film.mp4"),
      baseDir: work,
      cacheDir,
      ...(job.spec.only ? { only: job.spec.only } : {}),
      signal: r.signal,
      onShot: (e) => {
        shots[e.shot - 1] = {
          status: e.status,
          progress: e.status === "rendering" ? 0 : 100,
        };
        publish(true);
      },
      onProgress: (shot, p: Progress) => {
        const s = shots[shot - 1];
        if (s?.status !== "rendering") return;
        shots[shot - 1] = { status: "rendering", progress: Math.floor(percentOf(p)) };
        publish();
      },
    });
    const prefix = `${job.id}/a${job.attempts}`;
    const files: Record<StoryVariant, string> = {
      video: res.out,
      storyboard: res.storyboard,
      plan: res.plan,
      vtt: res.vtt,
      srt: res.srt,
    };
    for (const v of STORY_VARIANTS) r.storage.put(variantKey(`${prefix}-video.mp4`, v), readFileSync(files[v]));
    publish(true);
    const frames = Math.round(res.seconds * job.spec.fps);
    return {
      video: `${prefix}-video.mp4`,
      frames,
      width: job.spec.width,
      height: job.spec.height,
      fps: job.spec.fps,
      seed: job.spec.seed,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
