import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { int8WeightMax } from "./cpu.ts";
import { quantizeInt8ColumnWise } from "./quantize.ts";

describe("int8 weight range", () => {
  afterEach(() => {
    delete process.env.REEL_INT8_WEIGHT_MAX;
  });

  it("is 127 only where the x86 int8 kernels accumulate without int16 saturation (VNNI)", () => {
    let vnni = process.arch !== "x64";
    try {
      vnni ||= /^flags\s*:.*\b(avx512_vnni|avx_vnni)\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
    } catch {
      // no /proc: not Linux
    }
    expect(int8WeightMax()).toBe(vnni ? 127 : 63);
    process.env.REEL_INT8_WEIGHT_MAX = "127";
    expect(int8WeightMax()).toBe(127);
  });

  it("quantizes within ±qmax with scale = max|row| / qmax", () => {
    const w = new Float32Array([0.5, -1, 0.25, 2, -2, 1]); // [2 out, 3 in]
    for (const qmax of [127, 63]) {
      const { q, scale } = quantizeInt8ColumnWise(w, 2, 3, qmax);
      expect([...scale]).toEqual([1 / qmax, 2 / qmax].map(Math.fround));
      expect(Math.max(...[...q].map(Math.abs))).toBe(qmax);
      // q is [in, out]: W[o, i] ≈ q[i·out + o]·scale[o]
      for (let o = 0; o < 2; o++)
        for (let i = 0; i < 3; i++)
          expect(Math.abs(q[i * 2 + o]! * scale[o]! - w[o * 3 + i]!)).toBeLessThanOrEqual(scale[o]! / 2 + 1e-7);
    }
  });
});
