/**
 * `reel eval` end to end: it generates with the shipped model and scores the clips, writes one
 * JSON line of checks per video with --details (also for a folder of existing clips), and refuses bad options before loading a model.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], { encoding: "utf8", timeout: 300_000 });
}

describe("reel eval", () => {
  const prompts = join(tmp.dir, "prompts.txt");
  writeFileSync(
    prompts,
    "a red ball moves right over green grass\n\na blue square stays still on a checkerboard\nunused\n",
  );

  it("generates and scores each prompt, and --details writes every check per video", () => {
    const details = join(tmp.dir, "details.jsonl");
    const r = reel(
      "eval",
      "--prompts",
      prompts,
      "--limit",
      "2",
      "--steps",
      "3",
      "--sampler",
      "euler",
      "--details",
      details,
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ model: "reel-toy", prompts: 2, count: 2 });
    const lines = readFileSync(details, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.prompt)).toEqual([
      "a red ball moves right over green grass",
      "a blue square stays still on a checkerboard",
    ]);
    const expected = (i: number, attribute: string) =>
      lines[i].checks.find((c: { attribute: string }) => c.attribute === attribute)?.expected;
    expect([expected(0, "colour"), expected(0, "shape"), expected(0, "motion"), expected(0, "background")]).toEqual([
      "red",
      "ball",
      "move-right",
      "grass",
    ]);
    expect(expected(1, "background")).toBe("checkerboard");
    // The per-video checks add up to the report's per-attribute totals.
    const total = (a: string) =>
      lines.flatMap((l) => l.checks).filter((c: { attribute: string }) => c.attribute === a).length;
    for (const a of ["colour", "shape", "background"]) expect(report.attributes[a].total).toBe(total(a));
    // Report-only direction: the first prompt names one (right), the second none.
    expect(lines[0].directions).toHaveLength(1);
    expect(lines[0].directions[0]).toMatchObject({ object: 0, expected: "right" });
    expect(lines[1].directions).toEqual([]);
    expect(report.direction).toMatchObject({ total: 1, correct: lines[0].directions[0].correct ? 1 : 0 });
  });

  it.each([
    [["--limit", "0"], /--limit 0: a whole number of prompts, at least 1/],
    [["--precision", "fp8"], /--precision fp8: allowed are f32, int8/],
    [["--sampler", "ddim"], /sampler: .*"unipc"\|"dpm\+\+"\|"euler"/],
    [["--steps", "0"], /steps: Too small/],
    [["--guidance", "lots"], /--guidance lots: not a number/],
  ])("refuses %j with a message that says what is allowed", (extra, message) => {
    const r = reel("eval", "--prompts", prompts, ...extra);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/E_INPUT_INVALID/);
    expect(r.stderr).toMatch(message);
  });

  it("scores a folder of rendered clips, with --details per clip", () => {
    const dir = join(tmp.dir, "truth");
    expect(reel("toyworld", "sample", "--seed", "4", "--count", "3", "--out", dir, "--format", "npy").status).toBe(0);
    const details = join(tmp.dir, "truth.jsonl");
    const r = reel("eval", "--videos", dir, "--details", details);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(3);
    const lines = readFileSync(details, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const captions = readFileSync(join(dir, "captions.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.prompt)).toEqual(captions.map((c) => c.caption));
    expect(lines.map((l) => l.score)).toEqual(report.items.map((it: { score: number | null }) => it.score));
    // rendered ground truth: the evaluator finds what the caption says
    expect(report.overall).toBeGreaterThan(0.9);
  });
});
