/** Euler (reel's addition, no official fixture): invariants only. */
import { describe, expect, it } from "vitest";
import { EulerSolver } from "./euler.ts";
import { dpmppSchedule } from "./schedule.ts";

const n = 32;
const data = Float32Array.from({ length: n }, (_, j) => Math.sin(0.7 * j));
const noise = Float32Array.from({ length: n }, (_, j) => Math.cos(1.3 * j + 0.2));

describe("EulerSolver", () => {
  it("with shift 1 steps on σ_k = linspace(1, 0, N + 1)[k]", () => {
    const s = new EulerSolver(dpmppSchedule({ steps: 8, shift: 1 }));
    expect([...s.schedule.sigmas]).toEqual([1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0]);
  });

  it("a constant true velocity v = noise − data carries the noise along the straight path to the data", () => {
    for (const shift of [1, 5]) {
      const s = new EulerSolver(dpmppSchedule({ steps: 10, shift }));
      const v = Float32Array.from(noise, (e, j) => e - data[j]!);
      let x: Float32Array = noise.slice();
      for (let k = 0; k < 10; k++) {
        x = s.step(v, k, x);
        const sigma = s.schedule.sigmas[k + 1]!;
        for (let j = 0; j < n; j++) expect(x[j]).toBeCloseTo((1 - sigma) * data[j]! + sigma * noise[j]!, 6);
      }
      for (let j = 0; j < n; j++) expect(Math.abs(x[j]! - data[j]!)).toBeLessThan(1e-6);
    }
  });

  it("one step is x + (σ_{k+1} − σ_k)·v, and leaves its inputs unchanged", () => {
    const s = new EulerSolver(dpmppSchedule({ steps: 4, shift: 3 }));
    const x = noise.slice();
    const v = data.slice();
    const out = s.step(v, 0, x);
    const d = s.schedule.sigmas[1]! - s.schedule.sigmas[0]!;
    for (let j = 0; j < n; j++) expect(out[j]).toBe(Math.fround(noise[j]! + d * data[j]!));
    expect([...x]).toEqual([...noise]);
    expect([...v]).toEqual([...data]);
  });
});
