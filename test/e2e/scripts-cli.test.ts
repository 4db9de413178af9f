/** The maintenance scripts' command lines: --help prints the usage, a bad flag says so. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "../..");

function script(path: string, ...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/run-ts.js"), join(ROOT, path), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("scripts' flags", () => {
  it("--help prints the usage and exits 0", () => {
    const r = script("scripts/toy/model-card.ts", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: node bin\/run-ts\.js scripts\/toy\/model-card\.ts .*--finish DIR/s);
  });

  it("an unknown flag names it, prints the usage and exits 2", () => {
    const r = script("scripts/toy/stream.ts", "--sead", "3");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--sead'");
    expect(r.stderr).toContain("usage: node bin/run-ts.js scripts/toy/stream.ts --seed S --count N");
    expect(r.stdout).toBe("");
  });

  it("a bench's flags go through the same checks", () => {
    const r = script("scripts/bench.ts", "toy", "--rep", "2");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Unknown option '--rep'");
    expect(r.stderr).toContain("usage: npm run bench -- toy");
  });
});
