/** UniPC (bh2, order 2, predict_x0): the official runs step by step, the 2×2 solve, the state. */
import { describe, expect, it } from "vitest";
import { expectClose } from "../../test/helpers/close.ts";
import { missingFixtures, WAN21_FIXTURES } from "../../test/helpers/fixtures.ts";
import { readHeader, readTensor } from "../engine/safetensors.ts";
import { FIXTURE_ATOL, FIXTURE_RTOL } from "../parity/compare.ts";
import { createSampler } from "./index.ts";
import { unipcSchedule } from "./schedule.ts";
import { solve2x2F32, UniPCSolver } from "./unipc.ts";

function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe("solve2x2F32", () => {
  it("solves [[1, 1], [r, 1]]·ρ = b with and without pivoting", () => {
    for (const r of [-0.3, -1, -2.5, 0.7]) {
      const [x0, x1] = solve2x2F32([1, 1, r, 1], [0.4, -0.2]);
      expect(x0 + x1).toBeCloseTo(0.4, 6);
      expect(r * x0 + x1).toBeCloseTo(-0.2, 6);
    }
  });
});

describe("UniPCSolver", () => {
  const n = 24;
  const v = randn(n, 1);
  const x = randn(n, 2);

  it("warms up with order 1, uses order 2, and ends with order 1 (lower_order_final)", () => {
    const s = new UniPCSolver(unipcSchedule({ steps: 4, shift: 5 }));
    const orders: number[] = [];
    let y = x;
    for (let k = 0; k < 4; k++) {
      y = s.step(v, k, y);
      orders.push(s.state.thisOrder);
      expect(s.state.stepIndex).toBe(k + 1);
      expect(s.state.modelOutputs[1]).not.toBeNull();
      expect(s.state.lastSample).not.toBeNull();
    }
    expect(orders).toEqual([1, 2, 2, 1]);
    expect(s.state.lowerOrderNums).toBe(2);
  });

  it("the last step returns the x0 prediction of its input sample, x − σ·v in float32", () => {
    const sampler = createSampler("unipc", { steps: 3, shift: 5 });
    let y = x;
    for (let k = 0; k < 2; k++) y = sampler.step(v, k, y);
    const sigma = sampler.schedule.sigmas[2]!;
    const out = sampler.step(v, 2, y);
    for (let j = 0; j < n; j++) expect(out[j]).toBe(Math.fround(y[j]! - Math.fround(sigma * v[j]!)));
  });

  it("the corrector changes the predictor's input from step 1 on", () => {
    const s = new UniPCSolver(unipcSchedule({ steps: 5, shift: 5 }));
    const y1 = s.step(v, 0, x);
    expect([...s.state.lastSample!]).toEqual([...x]);
    s.step(randn(n, 3), 1, y1);
    expect(s.state.lastSample).not.toEqual(y1);
  });
});

const skip = missingFixtures("scheduler.io.safetensors");

describe.skipIf(skip !== null)(skip ?? "UniPC matches the official FlowUniPCMultistepScheduler", () => {
  const h = readHeader(`${WAN21_FIXTURES}/scheduler.io.safetensors`);
  for (const run of ["unipc_10_s5", "unipc_50_s5"]) {
    it(`${run}: every step's prev_sample, fed and chained, within 2e-5 + 1e-4·|want|`, () => {
      const sampleIn = readTensor(h, `${run}_sample_in`).data as Float32Array;
      const modelOut = readTensor(h, `${run}_model_output`).data as Float32Array;
      const prev = readTensor(h, `${run}_prev_sample`).data as Float32Array;
      const steps = readTensor(h, `${run}_timesteps`).data.length;
      const n = sampleIn.length / steps;
      const at = (a: Float32Array, k: number) => a.subarray(k * n, (k + 1) * n);
      const sampler = createSampler("unipc", { steps, shift: 5 });
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
