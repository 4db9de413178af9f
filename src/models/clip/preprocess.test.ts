/**
 * Wan's CLIP preprocessing against hand-computed torch bicubic values and the official
 * clip-tiny fixture (i2v: one 45×70 image, flf2v: two 60×52 images): raw → image exactly,
 * resized and pixel_values within 2e-5 + 1e-4·|want|; A = −0.5 and clamping must fail.
 */
import { describe, expect, it } from "vitest";
import { fixturePath, missingFixtures } from "../../../test/helpers/fixtures.ts";
import { readHeader, readTensor } from "../../engine/safetensors.ts";
import type { HostTensor } from "../../engine/tensor.ts";
import { compareTensor, formatComparison } from "../../parity/compare.ts";
import {
  bicubicTaps,
  clipNormalize,
  clipPreprocess,
  imageToSigned,
  resizeBicubic,
  rgb8ToSigned,
  TORCH_CUBIC_A,
} from "./preprocess.ts";

describe("bicubic resize with torch semantics (A = −0.75, align_corners=False, no antialias)", () => {
  it("upscaling 2 → 4 overshoots at the border: the source coordinate is not clamped", () => {
    // o = 0: src = −0.25, i = −1, t = 0.75; taps clamp to [0, 0, 0, 1]; w₃ = k₂(1.25) = −0.10546875.
    // o = 1: src = 0.25, t = 0.25; taps [0, 0, 1, 1]; k₁(0.75) + k₂(1.75) = 0.26171875 − 0.03515625.
    const y = resizeBicubic([0, 1], 1, 1, 2, 1, 4);
    expect([...y]).toEqual([-0.10546875, 0.2265625, 0.7734375, 1.10546875]);
    const t = bicubicTaps(2, 4);
    expect([...t.index.slice(0, 4)]).toEqual([0, 0, 0, 1]);
    expect([...t.weight.slice(0, 4)]).toEqual([-0.03515625, 0.26171875, 0.87890625, -0.10546875]);
  });

  it("downscaling 4 → 2 uses the same 4 taps, without antialiasing", () => {
    // o = 0: src = 0.5, t = 0.5; taps [0, 0, 1, 2], weights k₂(1.5), k₁(0.5), k₁(0.5), k₂(1.5).
    const y = resizeBicubic([1, 2, 3, 4], 1, 4, 1, 2, 1);
    expect(y[0]).toBe(-0.09375 * 1 + 0.59375 * 1 + 0.59375 * 2 - 0.09375 * 3);
    expect(y[1]).toBe(-0.09375 * 2 + 0.59375 * 3 + 0.59375 * 4 - 0.09375 * 4);
  });

  it("same size is the identity, constants stay constant, weights sum to 1", () => {
    const x = Float32Array.from({ length: 2 * 5 * 7 }, (_, i) => Math.sin(i) * 0.9);
    expect([...resizeBicubic(x, 2, 5, 7, 5, 7)]).toEqual([...x]);
    const c = resizeBicubic(new Float32Array(3 * 9 * 4).fill(0.25), 3, 9, 4, 6, 11);
    for (const v of c) expect(v).toBeCloseTo(0.25, 12);
    for (const [nIn, nOut] of [
      [45, 56],
      [70, 56],
      [1080, 224],
    ] as const) {
      const t = bicubicTaps(nIn, nOut);
      for (let o = 0; o < nOut; o++) {
        const s = [0, 1, 2, 3].reduce((a, k) => a + t.weight[o * 4 + k]!, 0);
        expect(s).toBeCloseTo(1, 12);
      }
      for (const i of t.index) expect(i >= 0 && i < nIn).toBe(true);
    }
  });

  it("rejects inputs of the wrong size or type with E_INPUT_INVALID", () => {
    expect(() => resizeBicubic([1, 2, 3], 1, 2, 2, 4, 4)).toThrow(expect.objectContaining({ code: "E_INPUT_INVALID" }));
    expect(() => rgb8ToSigned(new Uint8Array(5), 1, 2)).toThrow(/\[1, 2, 3\] needs 6/);
    const bad = (t: HostTensor) => () => imageToSigned(t);
    expect(bad({ dtype: "uint8", dims: [4, 4, 4], data: new Uint8Array(64) })).toThrow(/uint8 image must be RGB/);
    expect(bad({ dtype: "float32", dims: [4, 4, 3], data: new Float32Array(48) })).toThrow(/must be \[3, H, W\]/);
    expect(bad({ dtype: "float32", dims: [3, 1, 1], data: Float32Array.of(0, Number.NaN, 0) })).toThrow(/not finite/);
    expect(bad({ dtype: "int64", dims: [1, 1, 3], data: new BigInt64Array(3) })).toThrow(/dtype int64/);
  });
});

const IO = "clip-tiny.io.safetensors";
const skip = missingFixtures(IO);

describe.skipIf(skip !== null)(skip ?? "preprocessing parity with the official clip-tiny fixture", () => {
  const io = () => readHeader(fixturePath(IO)!);
  const asUint8 = (t: HostTensor): HostTensor => ({
    dtype: "uint8",
    dims: t.dims,
    data: Uint8Array.from(t.data as BigInt64Array, Number),
  });
  const cases = { i2v: 1, flf2v: 2 } as const;

  for (const [p, n] of Object.entries(cases)) {
    it(`${p}: raw → image exact; resized and pixel_values within tolerance`, () => {
      const h = io();
      const S = 56;
      const resized: number[] = [];
      const pixels: number[] = [];
      for (let k = 0; k < n; k++) {
        const raw = readTensor(h, `${p}_raw${k}`);
        const pre = clipPreprocess(asUint8(raw), S);
        const want = readTensor(h, `${p}_image${k}`);
        expect(pre.image.dims).toEqual(want.dims);
        expect(pre.image.data).toEqual(want.data);
        resized.push(...(pre.resized.data as Float32Array));
        pixels.push(...(pre.pixelValues.data as Float32Array));
      }
      const r = compareTensor(
        "clip-tiny",
        `${p}_resized`,
        Float32Array.from(resized),
        readTensor(h, `${p}_resized`).data,
      );
      const v = compareTensor(
        "clip-tiny",
        `${p}_pixel_values`,
        Float32Array.from(pixels),
        readTensor(h, `${p}_pixel_values`).data,
      );
      expect([r, v].filter((c) => !c.ok).map(formatComparison)).toEqual([]);
      expect(r.maxAbs).toBeLessThan(5e-6);
      expect(v.maxAbs).toBeLessThan(1e-5);
    });
  }

  it("normalising the fixture's own resized tensor gives its pixel_values", () => {
    const h = io();
    for (const p of Object.keys(cases)) {
      const resized = readTensor(h, `${p}_resized`);
      const want = readTensor(h, `${p}_pixel_values`);
      const pixels = resized.dims[2]! * resized.dims[3]!;
      const got = new Float32Array(resized.data.length);
      for (let i = 0; i < resized.dims[0]!; i++) {
        const part = (resized.data as Float32Array).subarray(i * 3 * pixels, (i + 1) * 3 * pixels);
        got.set(clipNormalize(part, pixels), i * 3 * pixels);
      }
      const c = compareTensor("clip-tiny", `${p}_pixel_values`, got, want.data);
      expect(c.ok, formatComparison(c)).toBe(true);
    }
  });

  it("typical mistakes fail the tolerance: A = −0.5 (PIL's kernel), clamping to [−1, 1]", () => {
    const h = io();
    const image = readTensor(h, "i2v_image0");
    const [, H, W] = image.dims as [number, number, number];
    const want = readTensor(h, "i2v_resized").data;
    const right = resizeBicubic(image.data as Float32Array, 3, H, W, 56, 56, TORCH_CUBIC_A);
    const pil = resizeBicubic(image.data as Float32Array, 3, H, W, 56, 56, -0.5);
    const clamped = right.map((v) => Math.min(1, Math.max(-1, v)));
    expect(compareTensor("clip-tiny", "ok", right, want).ok).toBe(true);
    for (const wrong of [pil, clamped]) {
      const c = compareTensor("clip-tiny", "wrong", wrong, want);
      expect(c.ok).toBe(false);
      expect(c.maxAbs).toBeGreaterThan(0.01);
    }
  });
});
