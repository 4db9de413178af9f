/** Schedules: the sigma shift, numpy linspace, the spec's examples and the official tables (exact). */
import { describe, expect, it } from "vitest";
import { missingFixtures, WAN21_FIXTURES } from "../../test/helpers/fixtures.ts";
import { readHeader, readTensor } from "../engine/safetensors.ts";
import { dpmppSchedule, linspace, scheduleFor, UNIPC_SIGMA_MAX, unipcSchedule } from "./schedule.ts";
import { shiftSigma, shiftSigmas } from "./shift.ts";

describe("shiftSigma", () => {
  it("fixes 0 and 1, is the identity for shift 1 and moves σ up for shift > 1", () => {
    for (const s of [1, 3, 5, 12, 16]) {
      expect(shiftSigma(0, s)).toBe(0);
      expect(shiftSigma(1, s)).toBe(1);
    }
    for (const x of [0.1, 0.25, 0.5, 0.999]) {
      expect(shiftSigma(x, 1)).toBe(x);
      expect(shiftSigma(x, 5)).toBeGreaterThan(x);
      expect(shiftSigma(x, 0.5)).toBeLessThan(x);
      expect(shiftSigma(x, 5)).toBeCloseTo((5 * x) / (1 + 4 * x), 15);
    }
    expect(shiftSigma(0.5, 3)).toBe(0.75);
  });

  it("rejects a shift that is not a finite number > 0", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => shiftSigmas(new Float64Array([0.5]), bad)).toThrow(/shift must be a finite number > 0/);
  });
});

describe("linspace", () => {
  it("is numpy's: k·step + start, the endpoint exact", () => {
    expect([...linspace(1, 0, 5)]).toEqual([1, 0.75, 0.5, 0.25, 0]);
    const y = linspace(UNIPC_SIGMA_MAX, 0, 11);
    expect(y[0]).toBe(UNIPC_SIGMA_MAX);
    expect(y[10]).toBe(0);
    expect(y[3]).toBe(3 * (-UNIPC_SIGMA_MAX / 10) + UNIPC_SIGMA_MAX);
  });
});

describe("schedules", () => {
  it("UniPC σ_max is float32(0.999) and the first timestep 999", () => {
    expect(UNIPC_SIGMA_MAX).toBe(0.9990000128746033);
    expect(unipcSchedule({ steps: 7, shift: 3 }).timesteps[0]).toBe(999);
  });

  it("reproduces the spec's UniPC examples (shift 5, 10 and 50 steps)", () => {
    expect([...unipcSchedule({ steps: 10, shift: 5 }).timesteps]).toEqual([
      999, 978, 952, 920, 882, 833, 768, 681, 555, 356,
    ]);
    const t50 = [...unipcSchedule({ steps: 50, shift: 5 }).timesteps];
    expect(t50.slice(0, 6)).toEqual([999, 995, 991, 987, 982, 978]);
    expect(t50.slice(-4)).toEqual([302, 241, 172, 92]);
  });

  it("DPM++ starts at σ = 1 (t = 1000); every table is float32, decreasing and ends with 0", () => {
    const d = dpmppSchedule({ steps: 12, shift: 3 });
    expect(d.timesteps[0]).toBe(1000);
    expect(d.sigmas[0]).toBe(1);
    for (const kind of ["unipc", "dpm++", "euler"] as const) {
      const s = scheduleFor(kind, { steps: 20, shift: 5 });
      expect(s.sigmas.length).toBe(21);
      expect(s.timesteps.length).toBe(20);
      expect(s.sigmas[20]).toBe(0);
      for (let k = 0; k < 20; k++) {
        expect(Math.fround(s.sigmas[k]!)).toBe(s.sigmas[k]);
        expect(s.sigmas[k + 1]!).toBeLessThan(s.sigmas[k]!);
        expect(Math.abs(s.timesteps[k]! - 1000 * s.sigmas[k]!)).toBeLessThan(1 + 1e-4);
      }
    }
  });

  it("truncates 1000·σ (in float64, before the float32 rounding of the table)", () => {
    const s = dpmppSchedule({ steps: 10, shift: 1 });
    // numpy's σ_7 = 7·(−0.1) + 1 = 0.29999999999999993, so t_7 = 299, not 300
    const want = [...linspace(1, 0, 11).subarray(0, 10)].map((x) => Math.trunc(x * 1000));
    expect([...s.timesteps]).toEqual(want);
    expect(want[7]).toBe(299);
  });

  it("rejects steps that are not an integer from 1 to 1000", () => {
    for (const steps of [0, -3, 2.5, 1001, Number.NaN])
      expect(() => unipcSchedule({ steps, shift: 5 })).toThrow(/steps must be an integer from 1 to 1000/);
    expect(() => dpmppSchedule({ steps: 10, shift: 0 })).toThrow(/shift/);
    expect(unipcSchedule({ steps: 1, shift: 5 }).sigmas.length).toBe(2);
  });
});

const skip = missingFixtures("scheduler.io.safetensors");

describe.skipIf(skip !== null)(skip ?? "schedules match the official tables exactly", () => {
  const h = readHeader(`${WAN21_FIXTURES}/scheduler.io.safetensors`);
  const tables = [...h.tensors.keys()].filter((k) => /^sched_.*_timesteps$/.test(k));

  it("has the eight documented tables", () => {
    expect(tables.length).toBe(8);
  });

  for (const key of tables) {
    it(key.replace(/_timesteps$/, ""), () => {
      const m = /^sched_(unipc|dpm\+\+)_(\d+)_(\d+)p(\d+)_timesteps$/.exec(key)!;
      const o = { steps: Number(m[2]), shift: Number(`${m[3]}.${m[4]}`) };
      const s = m[1] === "unipc" ? unipcSchedule(o) : dpmppSchedule(o);
      const t = readTensor(h, key).data as BigInt64Array;
      expect([...s.timesteps]).toEqual([...t].map(Number));
      const sigmas = readTensor(h, key.replace(/_timesteps$/, "_sigmas")).data as Float32Array;
      expect([...s.sigmas]).toEqual([...sigmas]); // bit-exact
    });
  }

  for (const [run, kind] of [
    ["unipc_10_s5", "unipc"],
    ["unipc_50_s5", "unipc"],
    ["dpmpp_10_s5", "dpm++"],
    ["dpmpp_50_s5", "dpm++"],
  ] as const) {
    it(`${run}: timesteps and sigmas of the run`, () => {
      const t = readTensor(h, `${run}_timesteps`).data as BigInt64Array;
      const s = scheduleFor(kind, { steps: t.length, shift: 5 });
      expect([...s.timesteps]).toEqual([...t].map(Number));
      expect([...s.sigmas]).toEqual([...(readTensor(h, `${run}_sigmas`).data as Float32Array)]);
    });
  }
});
