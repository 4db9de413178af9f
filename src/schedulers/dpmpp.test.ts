/** DPM-Solver++ 2M: the official runs step by step and the σ_0 = 1 special cases. */
import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/helpers/close.ts";
import { missingFixtures, WAN21_FIXTURES } from "../../test/helpers/fixtures.ts";
import { readHeader, readTensor } from "../engine/safetensors.ts";
import { FIXTURE_ATOL, FIXTURE_RTOL } from "../parity/compare.ts";
import { DpmppSolver } from "./dpmpp.ts";
import { createSampler } from "./index.ts";
import { dpmppSchedule } from "./schedule.ts";

const n = 16;
const x = Float32Array.from({ length: n }, (_, j) => Math.sin(j + 1));
const v = Float32Array.from({ length: n }, (_, j) => Math.cos(3 * j));
const v2 = Float32Array.from({ length: n }, (_, j) => Math.cos(5 * j) - 0.2);

describe("DpmppSolver", () => {
  it("step 0 from σ = 1 is x_1 = σ_1·x_0 + α_1·(x_0 − v)", () => {
    const s = new DpmppSolver(dpmppSchedule({ steps: 6, shift: 5 }));
    const s1 = s.schedule.sigmas[1]!;
    const out = s.step(v, 0, x);
    for (let j = 0; j < n; j++) expect(out[j]).toBeCloseTo(s1 * x[j]! + (1 - s1) * (x[j]! - v[j]!), 6);
  });

  it("step 1 after σ_0 = 1 has D1 = 0: it equals the first-order update", () => {
    const sigmas = dpmppSchedule({ steps: 6, shift: 5 }).sigmas;
    const s = new DpmppSolver({ sigmas, timesteps: new Int32Array(6) });
    const x1 = s.step(v, 0, x);
    const second = s.step(v2, 1, x1);
    // A fresh solver on the table [σ_1, σ_2, …] does step 1 as its first-order warm-up.
    const fresh = new DpmppSolver({ sigmas: sigmas.subarray(1), timesteps: new Int32Array(5) });
    expect([...second]).toEqual([...fresh.step(v2, 0, x1)]);
  });

  it("the last step returns x − σ·v exactly, and the state warms up to order 2", () => {
    const s = new DpmppSolver(dpmppSchedule({ steps: 3, shift: 3 }));
    const y1 = s.step(v, 0, x);
    expect(s.state.lowerOrderNums).toBe(1);
    const y2 = s.step(v2, 1, y1);
    expect(s.state.lowerOrderNums).toBe(2);
    expect(s.state.modelOutputs[0]).not.toBeNull();
    const sigma = s.schedule.sigmas[2]!;
    const out = s.step(v2, 2, y2);
    for (let j = 0; j < n; j++) expect(out[j]).toBe(Math.fround(y2[j]! - Math.fround(sigma * v2[j]!)));
  });
});

const skip = missingFixtures("scheduler.io.safetensors");

describe.skipIf(skip !== null)(skip ?? "DPM++ matches the official FlowDPMSolverMultistepScheduler", () => {
  const h = readHeader(`${WAN21_FIXTURES}/scheduler.io.safetensors`);
  for (const run of ["dpmpp_10_s5", "dpmpp_50_s5"]) {
    it(`${run}: every step's prev_sample, fed and chained, within 2e-5 + 1e-4·|want|`, () => {
      const sampleIn = readTensor(h, `${run}_sample_in`).data as Float32Array;
      const modelOut = readTensor(h, `${run}_model_output`).data as Float32Array;
      const prev = readTensor(h, `${run}_prev_sample`).data as Float32Array;
      const steps = readTensor(h, `${run}_timesteps`).data.length;
      const m = sampleIn.length / steps;
      const at = (a: Float32Array, k: number) => a.subarray(k * m, (k + 1) * m);
      const sampler = createSampler("dpm++", { steps, shift: 5 });
      for (let k = 0; k < steps; k++)
        expectClose(sampler.step(at(modelOut, k), k, at(sampleIn, k)), at(prev, k), FIXTURE_ATOL, FIXTURE_RTOL);
      sampler.reset();
      let y = at(sampleIn, 0);
      for (let k = 0; k < steps; k++) {
        y = sampler.step(at(modelOut, k), k, y);
        expectClose(y, at(prev, k), FIXTURE_ATOL, FIXTURE_RTOL);
      }
    });
  }
});
