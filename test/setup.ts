// Tests compile sessions into a per-run temp cache, never into the user's ~/.cache/reel.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (process.env.REEL_CACHE_DIR === undefined) process.env.REEL_CACHE_DIR = mkdtempSync(join(tmpdir(), "reel-cache-"));
