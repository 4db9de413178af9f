import { describe, expect, it } from "vitest";
import type { RgbFrame } from "../media/frames.ts";
import { analyzeVideo } from "./analyze.ts";
import { backgroundTexture, luma, TEXTURE_MIN } from "./camera-motion.ts";
import { sampleScene } from "./sample.ts";

/**
 * A red disc that stays put over grey with a faint pattern (amplitude `amp` levels) of rings
 * that widen by `rate` per frame: what a VAE's soft, drifting artefacts on a plain background
 * look like, and at a larger amplitude a real zoom over real texture.
 */
function clip(amp: number, rate = 1.02, frames = 17, size = 128): RgbFrame[] {
  return Array.from({ length: frames }, (_, t) => {
    const data = new Uint8Array(size * size * 3);
    const s = rate ** t;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const r = Math.hypot(x - 64, y - 64) / s;
        const inDisc = Math.hypot(x - 40, y - 40) <= 10;
        const v = 128 + amp * Math.sin(r / 2.5);
        data.set(inDisc ? [200, 30, 30] : [v, v, v], (y * size + x) * 3);
      }
    return { width: size, height: size, data };
  });
}

describe("camera motion", () => {
  it("measures rendered backgrounds' texture: plain ones none, gradients and patterns enough", () => {
    const texture = (seed: number) => {
      const s = sampleScene(seed);
      return { bg: s.scene.background, t: analyzeVideo(s.frames).cameraDetail.texture };
    };
    const seen = new Set<string>();
    for (let seed = 0; seed < 80; seed++) {
      const { bg, t } = texture(seed);
      if (["white", "grey", "dark"].includes(bg)) expect(t, bg).toBeLessThan(TEXTURE_MIN);
      else expect(t, bg).toBeGreaterThan(TEXTURE_MIN);
      seen.add(bg);
    }
    expect(seen.size).toBeGreaterThanOrEqual(8);
  });

  it("finds no texture in a flat frame", () => {
    const flat = clip(0, 1, 3);
    const L = flat.map(luma);
    // the disc's edge is masked out as an object would be
    const mask = new Uint8Array(128 * 128);
    for (let y = 0; y < 128; y++)
      for (let x = 0; x < 128; x++) if (Math.hypot(x - 40, y - 40) <= 14) mask[y * 128 + x] = 1;
    expect(backgroundTexture(L, [mask, mask, mask], 128, 128)).toBe(0);
  });

  it("reads no camera move into faint drifting artefacts on a plain background", () => {
    const a = analyzeVideo(clip(0.4));
    expect(a.cameraDetail.texture).toBeLessThan(TEXTURE_MIN);
    expect(a.camera).toBe("static");
    expect(a.objects[0]?.motion).toBe("stay");
  });

  it("still finds the zoom when the same pattern is strong enough to see", () => {
    const a = analyzeVideo(clip(30));
    expect(a.cameraDetail.texture).toBeGreaterThan(TEXTURE_MIN);
    expect(a.camera).toBe("zoom-in");
  });
});
