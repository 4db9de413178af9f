import { describe, expect, it } from "vitest";
import type { RgbFrame } from "../media/frames.ts";
import { analyzeVideo, type VideoAnalysis } from "./analyze.ts";
import {
  aggregate,
  ATTRIBUTES,
  type EvaluationReport,
  evaluateMany,
  evaluateVideo,
  scoreAnalysis,
} from "./evaluate.ts";
import { fullAttrs } from "./prompt.ts";
import { Rng } from "./rng.ts";
import { type Sample, sampleScene } from "./sample.ts";

const N = 240;
let samples: Sample[] = [];
let analyses: VideoAnalysis[] = [];

function table(r: EvaluationReport): string {
  return ATTRIBUTES.map((a) => `${a}=${r.attributes[a].accuracy?.toFixed(3)}(${r.attributes[a].total})`).join(" ");
}

function boxBlur(f: RgbFrame, passes: number): RgbFrame {
  const { width: W, height: H } = f;
  let d = Float32Array.from(f.data);
  for (let p = 0; p < passes; p++) {
    const o = new Float32Array(d.length);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          let s = 0;
          let n = 0;
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const xx = x + dx;
              const yy = y + dy;
              if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
              s += d[(yy * W + xx) * 3 + c]!;
              n++;
            }
          o[(y * W + x) * 3 + c] = s / n;
        }
    d = o;
  }
  return { width: W, height: H, data: Uint8Array.from(d, (v) => Math.round(v)) };
}

describe("evaluator", () => {
  it(`finds what ground-truth renders show (${N} random scenes)`, () => {
    samples = Array.from({ length: N }, (_, i) => sampleScene(200_000 + i));
    const t0 = performance.now();
    analyses = samples.map((s) => analyzeVideo(s.frames));
    const ms = (performance.now() - t0) / N;
    // Every attribute of the scene, stated or not in the caption.
    const full = aggregate(samples.map((s, i) => scoreAnalysis(analyses[i]!, fullAttrs(s.scene))));
    // What the captions state, through the parser.
    const captions = aggregate(samples.map((s, i) => scoreAnalysis(analyses[i]!, s.caption.text)));
    console.log(`ground truth, all attributes: ${table(full)} overall=${full.overall?.toFixed(3)}`);
    console.log(`ground truth, captions:       ${table(captions)} overall=${captions.overall?.toFixed(3)}`);
    console.log(
      `quality on ground truth: stability=${full.quality.stability?.toFixed(3)} sharpness=${full.quality.sharpness?.toFixed(3)}; ${ms.toFixed(1)} ms per clip`,
    );
    for (const a of ATTRIBUTES) {
      expect(full.attributes[a].total).toBeGreaterThan(100);
      expect(full.attributes[a].accuracy, a).toBeGreaterThanOrEqual(0.95);
      expect(captions.attributes[a].accuracy, a).toBeGreaterThanOrEqual(0.95);
    }
    expect(full.quality.stability).toBeGreaterThan(0.9);
    expect(full.quality.sharpness).toBeGreaterThan(0.9);
    // Report-only direction: every group told to move somewhere, and nothing else.
    const moving = samples.flatMap((s) => s.scene.objects.filter((o) => o.motion.startsWith("move-"))).length;
    console.log(`ground truth, direction: ${full.direction.correct}/${full.direction.total}`);
    expect(moving).toBeGreaterThan(50);
    expect(full.direction.accuracy!).toBeGreaterThanOrEqual(0.95);
    expect(captions.direction.accuracy!).toBeGreaterThanOrEqual(0.95);
    expect(full.direction.total).toBeLessThanOrEqual(moving);
    expect(full.direction.total).toBeGreaterThan(0.8 * moving); // groups of two alike count once
    // Report-only binding: prompts naming objects of two or more colours, every colour shown.
    const coloured = samples.filter((s) => new Set(s.scene.objects.map((o) => o.colour)).size >= 2).length;
    console.log(`ground truth, binding: ${full.binding.correct}/${full.binding.total}`);
    expect(full.binding.total).toBe(coloured);
    expect(coloured).toBeGreaterThan(20);
    expect(full.binding.accuracy!).toBeGreaterThanOrEqual(0.95);
    expect(captions.binding.accuracy!).toBeGreaterThanOrEqual(0.95);
  });

  it("scores mismatched pairs (video i, caption j) near chance", () => {
    const shifted = (k: number) =>
      aggregate(samples.map((s, i) => scoreAnalysis(analyses[(i + k) % N]!, fullAttrs(s.scene))));
    const r = shifted(1);
    const c = aggregate(samples.map((s, i) => scoreAnalysis(analyses[(i + 7) % N]!, s.caption.text)));
    console.log(`mismatched, all attributes: ${table(r)} overall=${r.overall?.toFixed(3)}`);
    console.log(`mismatched, captions:       ${table(c)} overall=${c.overall?.toFixed(3)}`);
    // Chance: colour 1/10, shape 1/8, background 1/10, motion 1/15 (a few more when several objects).
    for (const a of ["colour", "shape", "motion", "background"] as const)
      expect(r.attributes[a].accuracy!, a).toBeLessThan(0.25);
    expect(r.attributes.size.accuracy!).toBeLessThan(0.5);
    expect(r.overall!).toBeLessThan(0.35);
    expect(c.overall!).toBeLessThan(0.35);
    // Chance for direction: 1 in 8 sectors, less for clips whose objects do not move.
    expect(r.direction.total).toBeGreaterThan(50);
    expect(r.direction.accuracy!).toBeLessThan(0.25);
    expect(r.direction.misses.reduce((n, m) => n + m.count, 0)).toBe(r.direction.total - r.direction.correct);
    // Binding by chance: every one of two or three named colours on another scene's objects.
    expect(r.binding.total).toBeGreaterThan(20);
    expect(r.binding.accuracy!).toBeLessThan(0.1);
    // Misses: what was detected where a check failed. Video i was scored against scene i+1's
    // attributes, so each failed background check detected video i's own background.
    const expected = new Map<string, number>();
    samples.forEach((_, i) => {
      const b = analyses[i]!.background;
      if (b !== samples[(i + 1) % N]!.scene.background) expected.set(b, (expected.get(b) ?? 0) + 1);
    });
    expect(expected.size).toBeGreaterThan(3);
    expect(new Map(r.attributes.background.misses.map((m) => [m.detected, m.count]))).toEqual(expected);
    for (const a of ATTRIBUTES) {
      const s = r.attributes[a];
      expect(
        s.misses.reduce((n, m) => n + m.count, 0),
        a,
      ).toBe(s.total - s.correct);
      for (let i = 1; i < s.misses.length; i++)
        expect(s.misses[i - 1]!.count).toBeGreaterThanOrEqual(s.misses[i]!.count);
      // By named value: the same checks, split by what the prompt (here scene i+1) named.
      expect(
        s.byExpected.reduce((n, b) => n + b.total, 0),
        a,
      ).toBe(s.total);
      expect(
        s.byExpected.reduce((n, b) => n + b.correct, 0),
        a,
      ).toBe(s.correct);
    }
    const named = new Map<string, number>();
    samples.forEach((_, i) => {
      const b = samples[(i + 1) % N]!.scene.background;
      named.set(b, (named.get(b) ?? 0) + 1);
    });
    expect(new Map(r.attributes.background.byExpected.map((b) => [b.expected, b.total]))).toEqual(named);
  });

  it("reports lower quality for blurred and flickering videos", () => {
    const some = samples.slice(0, 6);
    const blurred = some.map((s) => analyzeVideo(s.frames.map((f) => boxBlur(f, 2))));
    const rng = new Rng(3);
    const flicker = some.map((s) =>
      analyzeVideo(
        s.frames.map((f) => {
          const o = (rng.next() - 0.5) * 30;
          return { ...f, data: Uint8Array.from(f.data, (v) => Math.max(0, Math.min(255, Math.round(v + o)))) };
        }),
      ),
    );
    const mean = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0) / xs.length;
    const clean = analyses.slice(0, 6);
    const sharpClean = mean(clean.map((a) => a.quality.sharpness));
    const sharpBlur = mean(blurred.map((a) => a.quality.sharpness));
    const stabClean = mean(clean.map((a) => a.quality.stability));
    const stabFlicker = mean(flicker.map((a) => a.quality.stability));
    console.log(
      `sharpness clean ${sharpClean.toFixed(3)} blurred ${sharpBlur.toFixed(3)}; stability clean ${stabClean.toFixed(3)} flicker ${stabFlicker.toFixed(3)}`,
    );
    expect(sharpBlur).toBeLessThan(sharpClean - 0.2);
    expect(stabFlicker).toBeLessThan(stabClean - 0.3);
    // Attributes survive mild blur.
    const r = aggregate(some.map((s, i) => scoreAnalysis(blurred[i]!, fullAttrs(s.scene))));
    expect(r.overall!).toBeGreaterThan(0.9);
  });

  it("reports what each object's motion was read from (displacement, area ratio)", () => {
    // Single static-camera objects of the rendered scenes: the numbers agree with the truth.
    let moves = 0;
    let sizes = 0;
    const wobbles: number[] = [];
    samples.forEach((s, i) => {
      const [o] = s.scene.objects;
      if (s.scene.objects.length !== 1 || s.scene.camera !== "static" || !o) return;
      const d = evaluateVideo(s.frames, s.caption.text).detected.objects[0]!;
      expect(d.radius).toBeGreaterThan(0);
      // Each object keeps its size about its trend (an edge-clipped one jitters a little).
      expect(d.sizeWobble, `${i} ${o.motion}`).toBeLessThan(0.06);
      wobbles.push(d.sizeWobble);
      if (o.motion === "move-right" || o.motion === "move-left") {
        moves++;
        expect(Math.sign(d.dx), `${i} ${o.motion}`).toBe(o.motion === "move-right" ? 1 : -1);
        expect(Math.abs(d.dx)).toBeGreaterThan(0.1);
        expect(Math.abs(Math.log(d.areaRatio))).toBeLessThan(0.2);
      }
      // Per-frame raw areas, one per frame the object was seen in (the static camera changes none).
      const seen = analyses[i]!.objects[0]!;
      expect(seen.areas).toHaveLength(seen.frames);
      for (const a of seen.areas) expect(a).toBeGreaterThan(0);
      if (o.motion === "grow" || o.motion === "shrink") {
        sizes++;
        expect(d.areaRatio > 1, `${i} ${o.motion}`).toBe(o.motion === "grow");
        expect(seen.areas.at(-1)! > seen.areas[0]!, `${i} ${o.motion}`).toBe(o.motion === "grow");
        expect(Math.hypot(d.dx, d.dy)).toBeLessThan(0.1);
      }
    });
    expect(moves).toBeGreaterThan(0);
    expect(sizes).toBeGreaterThan(0);
    wobbles.sort((a, b) => a - b);
    expect(wobbles[wobbles.length >> 1]!).toBeLessThan(0.015); // generated clips: ~0.09
  });

  it("reads direction apart from the motion label: a right-mover that grows fails motion, passes direction", () => {
    const detail = {
      motion: "grow",
      speed: "slow",
      dx: 0.3,
      dy: 0.02,
      areaRatio: 1.6,
      rotation: 0,
      bounce: 0,
      sizeWobble: 0.01,
    } as const;
    const red = {
      colour: "red",
      shape: "ball",
      size: "medium",
      motion: "grow",
      speed: "slow",
      radius: 0.1,
      frames: 3,
      areas: [0.02, 0.025, 0.032],
      detail,
    } as const;
    const still = {
      ...red,
      colour: "blue",
      motion: "stay",
      speed: null,
      detail: { ...detail, motion: "stay", speed: null, dx: 0.05, dy: 0, areaRatio: 1 },
    } as const;
    const analysis: VideoAnalysis = {
      width: 128,
      height: 128,
      frames: 17,
      objects: [red, still],
      background: "white",
      camera: "static",
      cameraDetail: { logZoom: 0, pan: 0, texture: 0 },
      quality: { stability: 1, sharpness: 1 },
    };
    const e = scoreAnalysis(analysis, "a red ball moves right and a blue square drifts up");
    expect(e.attributes["motion[1]"]).toEqual({ expected: "move-right", detected: "grow", correct: false });
    expect(e.directions).toEqual([
      { object: 0, expected: "right", detected: "right", correct: true },
      { object: 1, expected: "up", detected: "none", correct: false },
    ]);
    expect(e.checks.some((c) => (c.attribute as string) === "direction")).toBe(false); // not in the score
    const lost = scoreAnalysis({ ...analysis, objects: [] }, "a red ball moves to the lower left");
    expect(lost.directions).toEqual([{ object: 0, expected: "down-left", detected: null, correct: false }]);
    expect(scoreAnalysis(analysis, "a red ball bounces").directions).toEqual([]);
    const report = aggregate([e, lost]);
    expect(report.direction).toEqual({
      correct: 1,
      total: 3,
      accuracy: 1 / 3,
      misses: [
        { detected: "no object", count: 1 },
        { detected: "none", count: 1 },
      ],
    });
  });

  it("returns per-attribute checks and aggregates them as JSON", () => {
    const s = samples[0]!;
    const e = evaluateVideo(s.frames, s.caption.text);
    expect(e.score).toBe(1);
    for (const [k, v] of Object.entries(e.attributes)) {
      expect(v.correct, k).toBe(true);
      expect(v.detected, k).toEqual(v.expected);
    }
    const wrong = evaluateVideo(s.frames, `a ${s.scene.objects[0]!.colour === "red" ? "blue" : "red"} heart spins`);
    expect(wrong.attributes.colour!.correct).toBe(false);
    const none = evaluateVideo(s.frames, "a cat");
    expect(none.checks).toEqual([]);
    expect(none.score).toBeNull();
    const report = evaluateMany([
      { frames: s.frames, prompt: s.caption.text, id: "a" },
      { frames: samples[1]!.frames, prompt: s.caption.text, id: "b" },
    ]);
    expect(report.count).toBe(2);
    expect(report.items.map((i) => i.id)).toEqual(["a", "b"]);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(() => analyzeVideo([s.frames[0]!])).toThrow(/at least 2 frames/);
    expect(() => analyzeVideo([s.frames[0]!, { width: 8, height: 8, data: new Uint8Array(192) }])).toThrow(
      expect.objectContaining({ code: "E_INPUT_INVALID" }),
    );
  });
});
