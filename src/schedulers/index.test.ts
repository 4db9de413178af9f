/** createSampler: the same invariants for every kind (no fixture needed). */
import { describe, expect, it } from "vitest";
import { createSampler, type SolverKind } from "./index.ts";

const KINDS: readonly SolverKind[] = ["unipc", "dpm++", "euler"];
const n = 40;
const data = Float32Array.from({ length: n }, (_, j) => Math.sin(0.37 * j) * 1.5);
const noise = Float32Array.from({ length: n }, (_, j) => Math.cos(2.1 * j + 0.4));

/** Samples dx/dσ = v(x, σ) from the schedule's σ_0 to 0; returns the final sample. */
function sample(
  kind: SolverKind,
  steps: number,
  shift: number,
  v: (x: Float32Array, sigma: number) => Float32Array,
  x0: Float32Array,
) {
  const s = createSampler(kind, { steps, shift });
  let x = x0;
  for (let k = 0; k < steps; k++) x = s.step(v(x, s.schedule.sigmas[k]!), k, x);
  return { x, sigma0: s.schedule.sigmas[0]! };
}

describe("createSampler", () => {
  for (const kind of KINDS) {
    it(`${kind}: a constant true velocity follows the straight path and reaches the data`, () => {
      const v = Float32Array.from(noise, (e, j) => e - data[j]!);
      const s = createSampler(kind, { steps: 12, shift: 5 });
      const sigma0 = s.schedule.sigmas[0]!;
      let x: Float32Array = Float32Array.from(data, (d, j) => (1 - sigma0) * d + sigma0 * noise[j]!);
      for (let k = 0; k < 12; k++) {
        x = s.step(v, k, x);
        const sg = s.schedule.sigmas[k + 1]!;
        for (let j = 0; j < n; j++) expect(Math.abs(x[j]! - ((1 - sg) * data[j]! + sg * noise[j]!))).toBeLessThan(2e-6);
      }
    });

    it(`${kind}: converges on dx/dσ = c·x (second order for the multistep solvers, first for Euler)`, () => {
      const c = 1.5;
      const err = (k: SolverKind, steps: number) => {
        const { x, sigma0 } = sample(k, steps, 1, (y) => y.map((e) => c * e), noise);
        let worst = 0;
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(x[j]! - noise[j]! * Math.exp(-c * sigma0)));
        return worst;
      };
      // 8 → 64 steps: first order gains ≈ 8×, second order ≈ 64× (irregular per N, so bounds are loose).
      const gain = err(kind, 8) / err(kind, 64);
      if (kind === "euler") {
        expect(gain).toBeGreaterThan(6);
        expect(gain).toBeLessThan(10);
      } else {
        expect(gain).toBeGreaterThan(20);
        expect(err(kind, 64)).toBeLessThan(err("euler", 64) / 10);
      }
    });

    it(`${kind}: reset() makes a second pass identical; steps must run in order`, () => {
      const s = createSampler(kind, { steps: 5, shift: 3 });
      const run = () => {
        let x: Float32Array = noise;
        for (let k = 0; k < 5; k++)
          x = s.step(
            x.map((e, j) => 0.3 * e + Math.cos(k + j)),
            k,
            x,
          );
        return x;
      };
      const a = run();
      expect(() => s.step(noise, 5, noise)).toThrow(/past the last step 4; call reset\(\)/);
      s.reset();
      expect(s.state.stepIndex).toBe(0);
      expect([...run()]).toEqual([...a]);
      s.reset();
      expect(() => s.step(noise, 1, noise)).toThrow(/step 1 called, but the next step is 0/);
      expect(() => s.step(noise.subarray(1), 0, noise)).toThrow(/model output has 39 values but the sample has 40/);
    });

    it(`${kind}: leaves its inputs unchanged`, () => {
      const s = createSampler(kind, { steps: 3, shift: 5 });
      const x = noise.slice();
      const v = data.slice();
      for (let k = 0; k < 3; k++) s.step(v, k, x);
      expect([...x]).toEqual([...noise]);
      expect([...v]).toEqual([...data]);
    });
  }

  it("refuses a sample whose size changes between steps", () => {
    const s = createSampler("unipc", { steps: 3, shift: 5 });
    s.step(noise, 0, noise);
    expect(() => s.step(data.subarray(2), 1, noise.subarray(2))).toThrow(/earlier steps had 40; call reset\(\)/);
  });

  it("rejects an unknown kind and bad options with E_CONFIG_INVALID", () => {
    expect(() => createSampler("ddim" as SolverKind, { steps: 10, shift: 5 })).toThrow(
      /unknown kind "ddim"; use one of unipc, dpm\+\+, euler/,
    );
    try {
      createSampler("euler", { steps: 0, shift: 5 });
      expect.fail("no error");
    } catch (e) {
      expect((e as { code?: string }).code).toBe("E_CONFIG_INVALID");
    }
  });
});
