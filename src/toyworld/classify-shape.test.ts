import { describe, expect, it } from "vitest";
import type { RgbFrame } from "../media/frames.ts";
import { analyzeVideo } from "./analyze.ts";

/** Frames on a plain light background with a red region made of discs [cx, cy, r] (pixels). */
function discs(parts: readonly (readonly [number, number, number])[], frames = 9, size = 128): RgbFrame[] {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = parts.some(([cx, cy, r]) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r);
      data.set(inside ? [200, 30, 30] : [235, 235, 230], (y * size + x) * 3);
    }
  return Array.from({ length: frames }, () => ({ width: size, height: size, data: data.slice() }));
}

describe("shape classifier", () => {
  it("names a disc a ball", () => {
    const [o] = analyzeVideo(discs([[64, 64, 14]])).objects;
    expect(o?.shape).toBe("ball");
  });

  it("calls an irregular blob no shape rather than its nearest one", () => {
    const blob = discs([
      [58, 60, 11],
      [72, 56, 7],
      [66, 74, 9],
      [50, 70, 5],
      [78, 68, 4],
    ]);
    const [o] = analyzeVideo(blob).objects;
    expect(o).toBeDefined();
    expect(o?.colour).toBe("red");
    expect(o?.shape).toBeNull();
  });
});
