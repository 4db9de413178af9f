/**
 * Wan 2.2 TI2V image preprocessing against Pillow: the LANCZOS resizes, best_output_size and
 * the whole resize + centre-crop step, compared byte for byte (sha256 of the RGB bytes) with
 * digests written by reference/ti2v_image.py under Debian's Pillow 9.4.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RgbFrame } from "../media/frames.ts";
import { cropFrame, resizeLanczosPil } from "../media/pil-resize.ts";
import { bestOutputSize, pyFloorDiv, pyRound, ti2vImage } from "./ti2v-image.ts";

interface Ref {
  resizes: { w: number; h: number; seed: number; ow: number; oh: number; sha256: string }[];
  sizes: { w: number; h: number; area: number; out: [number, number] }[];
  pipelines: { w: number; h: number; seed: number; area: number; out: [number, number]; sha256: string }[];
}
const REF = JSON.parse(readFileSync(new URL("./ti2v-image.ref.json", import.meta.url), "utf8")) as Ref;

/** The reference script's pattern: LCG bytes with a gradient on the red channel. */
function pattern(w: number, h: number, seed: number): RgbFrame {
  const data = new Uint8Array(w * h * 3);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = Number((BigInt(x) * 1103515245n + 12345n) & 0x7fffffffn);
    data[i] = (x >> 16) & 255;
  }
  for (let y = 0; y < h; y++)
    for (let c = 0; c < w; c++) data[(y * w + c) * 3] = (Math.floor((c * 255) / Math.max(1, w - 1)) + y * 3) & 255;
  return { width: w, height: h, data };
}

const sha = (f: RgbFrame) => createHash("sha256").update(f.data).digest("hex");

describe("TI2V image preprocessing (Pillow parity)", () => {
  it("LANCZOS resizes match Pillow byte for byte (down, up, one axis, extreme ratios)", () => {
    for (const r of REF.resizes)
      expect(sha(resizeLanczosPil(pattern(r.w, r.h, r.seed), r.ow, r.oh)), JSON.stringify(r)).toBe(r.sha256);
  });

  it("best_output_size matches the official function", () => {
    for (const s of REF.sizes) expect(bestOutputSize(s.w, s.h, 32, 32, s.area), JSON.stringify(s)).toEqual(s.out);
  });

  it("resize + centre crop matches the official i2v step", () => {
    for (const p of REF.pipelines) {
      const [ow, oh] = bestOutputSize(p.w, p.h, 32, 32, p.area);
      expect([ow, oh]).toEqual(p.out);
      const img = ti2vImage(pattern(p.w, p.h, p.seed), ow, oh);
      expect([img.width, img.height]).toEqual(p.out);
      expect(sha(img), JSON.stringify(p)).toBe(p.sha256);
    }
  });

  it("keeps Python's float semantics and refuses what cannot be sized", () => {
    expect(pyRound(2.5)).toBe(2);
    expect(pyRound(3.5)).toBe(4);
    expect(pyRound(2.5000001)).toBe(3);
    expect(pyFloorDiv(7.5, 2)).toBe(3);
    expect(pyFloorDiv(1, 0.1)).toBe(9); // Python: 1 // 0.1 == 9.0, while Math.floor(1 / 0.1) is 10
    expect(() => bestOutputSize(4000, 10, 32, 32, 32 * 32)).toThrow(/too small for its aspect ratio/);
    const f = pattern(5, 4, 1);
    expect(resizeLanczosPil(f, 5, 4).data).toEqual(f.data);
    expect(() => cropFrame(f, 2, 0, 4, 4)).toThrow(/outside/);
  });
});
