/**
 * Output and input files of jobs under `<data>/files/<job id>/`. Keys are `<job id>/<name>`
 * with names made by reel (never by a client). Writers write to a temporary name and rename
 * into place, so a reader never sees a half-written file.
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { ReelError } from "../../errors.ts";

const KEY = /^[A-Za-z0-9_-]{1,80}\/[A-Za-z0-9_.-]{1,80}$/;

export class FileStorage {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Absolute path of a key (checked: no traversal). */
  path(key: string): string {
    if (!KEY.test(key) || key.includes(".."))
      throw new ReelError("E_INPUT_INVALID", `storage key "${key}" is not a reel file name`);
    return join(this.root, key);
  }

  /** A temporary path beside the key's final path, and a commit that renames it into place. */
  staging(key: string): { tmp: string; commit: () => void; discard: () => void } {
    const final = this.path(key);
    mkdirSync(join(final, ".."), { recursive: true });
    // keeps the extension last: ffmpeg picks the container from it
    const tmp = join(final, "..", `partial-${process.pid}-${Math.random().toString(36).slice(2)}-${basename(final)}`);
    return {
      tmp,
      commit: () => renameSync(tmp, final),
      discard: () => rmSync(tmp, { force: true }),
    };
  }

  put(key: string, bytes: Uint8Array): void {
    const s = this.staging(key);
    writeFileSync(s.tmp, bytes);
    s.commit();
  }

  exists(key: string): boolean {
    return existsSync(this.path(key));
  }

  open(key: string): { size: number; stream: Readable } | null {
    const p = this.path(key);
    if (!existsSync(p)) return null;
    return { size: statSync(p).size, stream: createReadStream(p) };
  }

  remove(key: string): void {
    rmSync(this.path(key), { force: true });
  }

  /** Removes temporary files a stopped writer left in a job's folder (the caller holds the job's lease). */
  removePartials(jobId: string): void {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(jobId)) return;
    const dir = join(this.root, jobId);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) if (f.startsWith("partial-")) rmSync(join(dir, f), { force: true });
  }

  /** Removes every file of a job. */
  removeJob(jobId: string): void {
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(jobId)) return;
    rmSync(join(this.root, jobId), { recursive: true, force: true });
  }
}
