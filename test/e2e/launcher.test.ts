/**
 * bin/launch.js re-executes node with GLIBC_TUNABLES set. When the launcher itself is killed
 * with SIGKILL (nothing forwarded), the re-executed child must stop too, not run on as an orphan.
 */
import { spawn, spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe("bin/launch.js", () => {
  it("the re-executed child stops when the launcher is SIGKILLed", async () => {
    const env = { ...process.env };
    delete env.GLIBC_TUNABLES;
    delete env.REEL_NO_REEXEC;
    const launcher = spawn(
      process.execPath,
      [join(ROOT, "bin/reel.js"), "serve", "--port", "0", "--data", join(tmp.dir, "data")],
      { env, stdio: "ignore" },
    );
    const pid = launcher.pid!;
    let child = 0;
    expect(
      await until(() => {
        const r = spawnSync("pgrep", ["-P", String(pid)], { encoding: "utf8" });
        child = Number(r.stdout.trim().split("\n")[0]);
        return child > 0;
      }, 20_000),
      "the launcher re-executed node",
    ).toBe(true);
    launcher.kill("SIGKILL");
    const stopped = await until(() => !alive(child), 10_000);
    if (!stopped) process.kill(child, "SIGKILL");
    expect(stopped, `child ${child} outlived its launcher`).toBe(true);
  }, 40_000);
});
