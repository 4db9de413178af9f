import { describe, expect, it } from "vitest";
import type { CameraMotion } from "./camera-motion.ts";
import { classifyMotion } from "./classify-motion.ts";
import type { ShapeFeatures } from "./shape-features.ts";
import type { Observation } from "./track.ts";

const W = 64;
const H = 64;
const T = 17;

const still: CameraMotion = {
  zoom: new Float64Array(T).fill(1),
  shift: new Float64Array(T),
  residual: new Float64Array(T - 1),
  texture: 0,
  logZoom: 0,
  pan: 0,
  move: "static",
};

/** A disc-like object (no relief, so no spin) at centre (cx, cy) with the given pixel areas. */
function track(areas: readonly number[], cx: (t: number) => number = () => 32): [Observation[], ShapeFeatures[]] {
  const obs = areas.map(
    (area, t): Observation => ({
      t,
      colour: "red",
      comp: { id: 0, area, cx: cx(t), cy: 32, x0: 0, y0: 0, x1: 0, y1: 0, rgb: [255, 0, 0], pixels: new Int32Array() },
    }),
  );
  const feats = areas.map(
    (): ShapeFeatures => ({
      profile: new Float64Array(32).fill(1),
      harmonics: new Float64Array(8),
      solidity: 1,
      hole: 0,
      elongation: 1,
      relief: 0,
    }),
  );
  return [obs, feats];
}

describe("classifyMotion sizeWobble", () => {
  it("is ~0 for a steady size and for a steady (exponential) growth", () => {
    const [o1, f1] = track(
      Array.from({ length: T }, () => 100),
      (t) => 10 + 2 * t,
    );
    const steady = classifyMotion(o1, f1, still, W, H);
    expect(steady.motion).toBe("move-right");
    expect(steady.sizeWobble).toBeLessThan(1e-9);
    const [o2, f2] = track(Array.from({ length: T }, (_, t) => 100 * 1.05 ** t));
    const grow = classifyMotion(o2, f2, still, W, H);
    expect(grow.motion).toBe("grow");
    expect(grow.sizeWobble).toBeLessThan(1e-9);
  });

  it("measures an object redrawn at another size every frame", () => {
    // ln(area) alternates by ±0.3 around a steady size: the residual is 0.3 in every frame.
    const [o, f] = track(
      Array.from({ length: T }, (_, t) => 100 * Math.exp(t % 2 ? 0.3 : -0.3)),
      (t) => 10 + 2 * t,
    );
    const r = classifyMotion(o, f, still, W, H);
    expect(r.sizeWobble).toBeGreaterThan(0.25);
    expect(r.sizeWobble).toBeLessThan(0.35);
  });
});
