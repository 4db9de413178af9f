// Tests compile sessions into a per-file temp cache, never into the user's ~/.cache/reel,
// and remove it when the file's tests are done.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

if (process.env.REEL_CACHE_DIR === undefined) {
  const dir = mkdtempSync(join(tmpdir(), "reel-cache-"));
  process.env.REEL_CACHE_DIR = dir;
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.REEL_CACHE_DIR === dir) delete process.env.REEL_CACHE_DIR;
  });
}
