/**
 * runSchedulerFixture (src/parity/scheduler.ts) on the shared scheduler fixture, and on files
 * with other key names (recognised by name, without metadata), a damaged one and an empty one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { missingFixtures, WAN21_FIXTURES } from "../../test/helpers/fixtures.ts";
import { tempDir } from "../../test/helpers/tmp.ts";
import { loadAll, writeSafetensors } from "../engine/safetensors.ts";
import type { HostTensor } from "../engine/tensor.ts";
import { formatComparison } from "../parity/compare.ts";
import { findFixtures } from "../parity/fixtures.ts";
import { runSchedulerFixture } from "../parity/scheduler.ts";

const OPTS = {} as Parameters<typeof runSchedulerFixture>[1]; // the runner uses no runtime
const skip = missingFixtures("scheduler.io.safetensors");

describe.skipIf(skip !== null)(skip ?? "runSchedulerFixture", () => {
  const tmp = tempDir("reel-sched-");
  afterAll(tmp.cleanup);
  const { tensors } = loadAll(`${WAN21_FIXTURES}/scheduler.io.safetensors`);

  /** Writes some of the shared tensors under new names into <tmp>/<name>.io.safetensors and finds it. */
  function writeFixture(
    name: string,
    rename: Record<string, string>,
    edit?: (k: string, t: HostTensor) => void,
    metadata?: Record<string, string>,
  ) {
    const out = new Map<string, HostTensor>();
    for (const [from, to] of Object.entries(rename))
      for (const [k, t] of tensors)
        if (k.startsWith(`${from}_`)) {
          const copy = { ...t, data: t.data.slice() };
          edit?.(k, copy);
          out.set(`${to}${k.slice(from.length)}`, copy);
        }
    writeSafetensors(`${tmp.dir}/${name}.io.safetensors`, out, metadata);
    return findFixtures([tmp.dir]).find((f) => f.name === name)!;
  }

  it("the shared file: every run (fed, chained, schedule) and every table, all within tolerance", async () => {
    const fx = findFixtures([WAN21_FIXTURES]).find((f) => f.name === "scheduler")!;
    expect(fx.component).toBe("scheduler");
    const results = await runSchedulerFixture(fx, OPTS);
    const names = results.map((r) => r.tensor);
    for (const run of ["unipc_10_s5", "unipc_50_s5", "dpmpp_10_s5", "dpmpp_50_s5"])
      for (const part of ["timesteps", "sigmas", "prev_sample", "chained"]) expect(names).toContain(`${run}_${part}`);
    expect(names).toContain("sched_dpm++_40_3p0_sigmas");
    expect(names).toContain("sched_unipc_50_16p0_timesteps");
    expect(results.length).toBe(4 * 4 + 8 * 2);
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
    for (const r of results) if (/_(timesteps|sigmas)$/.test(r.tensor)) expect(r.maxAbs).toBe(0); // schedules are bit-exact
  });

  it("recognises runs and tables by name alone, with other spellings of solver and shift", async () => {
    const fx = writeFixture("renamed", {
      unipc_10_s5: "unipc_10_s5p0",
      dpmpp_10_s5: "dpm++_10_s5.0",
      "sched_dpm++_40_3p0": "sched_dpmpp_40_3",
      sched_unipc_40_12p0: "sched_unipc_40_12.0",
    });
    expect(fx.component).toBe("scheduler");
    const results = await runSchedulerFixture(fx, OPTS);
    expect(results.map((r) => r.tensor).sort()).toEqual(
      [
        "dpm++_10_s5.0_chained",
        "dpm++_10_s5.0_prev_sample",
        "dpm++_10_s5.0_sigmas",
        "dpm++_10_s5.0_timesteps",
        "sched_dpmpp_40_3_sigmas",
        "sched_dpmpp_40_3_timesteps",
        "sched_unipc_40_12.0_sigmas",
        "sched_unipc_40_12.0_timesteps",
        "unipc_10_s5p0_chained",
        "unipc_10_s5p0_prev_sample",
        "unipc_10_s5p0_sigmas",
        "unipc_10_s5p0_timesteps",
      ].sort(),
    );
    expect(results.filter((r) => !r.ok).map(formatComparison)).toEqual([]);
  });

  it("takes solver and shift from __metadata__.runs when the prefix says nothing", async () => {
    const runs = JSON.stringify({ first: { solver: "dpm++", steps: 50, shift: 5.0 } });
    const fx = writeFixture("meta", { dpmpp_50_s5: "first" }, undefined, { runs });
    const results = await runSchedulerFixture(fx, OPTS);
    expect(results.length).toBe(4);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("fails where the numbers are wrong: a damaged step, a wrong shift", async () => {
    const fx = writeFixture("damaged", { unipc_10_s5: "unipc_10_s5", dpmpp_10_s5: "dpmpp_10_s3" }, (k, t) => {
      const d = t.data as Float32Array;
      if (k === "unipc_10_s5_prev_sample") d[500] = d[500]! + 1e-3;
    });
    const bad = (await runSchedulerFixture(fx, OPTS)).filter((r) => !r.ok).map((r) => r.tensor);
    expect(bad.sort()).toEqual(
      [
        "dpmpp_10_s3_chained",
        "dpmpp_10_s3_prev_sample",
        "dpmpp_10_s3_sigmas",
        "dpmpp_10_s3_timesteps",
        "unipc_10_s5_chained",
        "unipc_10_s5_prev_sample",
      ].sort(),
    );
  });

  it("refuses a file with neither runs nor tables, naming what it looks for", async () => {
    const fx = writeFixture("empty", { unipc_10_s5_x: "unipc_10_s5_x" });
    await expect(runSchedulerFixture(fx, OPTS)).rejects.toThrow(/no scheduler run .* or table/);
  });
});
