/**
 * Spatial tiling of the Wan VAE: the tile layout and blend weights (pure), the cache-memory
 * figures for the released VAEs (graph builds only), and tiled runs on the tiny fixture
 * weights: agreement with the untiled run (measured error bounds), exactness when a tile
 * covers the frame, the streaming order, and the chunk-major (decodeStream) and tile-major
 * (decode) orders giving identical results.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectClose } from "../../../test/helpers/close.ts";
import { missingFixtures, WAN21_FIXTURES } from "../../../test/helpers/fixtures.ts";
import { tempDir } from "../../../test/helpers/tmp.ts";
import * as ref from "../../../test/ref/naive.ts";
import { Graph } from "../../engine/graph.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { loadAll, readHeader, writeSafetensors } from "../../engine/safetensors.ts";
import { f32, type HostTensor, numel } from "../../engine/tensor.ts";
import { weightMapFromFiles } from "../../engine/weights.ts";
import { buildVaeDecode } from "./vae.ts";
import { parseWanVaeConfig, vaePreset, type WanVaeVersion } from "./vae-config.ts";
import {
  chooseVaeTile,
  sliceFrames,
  type VaeChunkResult,
  vaeArch,
  vaeCacheBytes,
  vaeTileMemory,
  WanVAE,
} from "./vae-runner.ts";
import { axisWeights, checkTile, cropChunk, type Span, TileBlender, tileGrid, tileSpans } from "./vae-tiling.ts";

const GiB = 2 ** 30;

describe("tile layout and blend weights", () => {
  it("splits an axis into the fewest equal tiles ≤ size, every overlap ≥ the requested one", () => {
    expect(tileSpans(16, 16, 4)).toEqual([{ start: 0, end: 16 }]);
    expect(tileSpans(7, 32, 8)).toEqual([{ start: 0, end: 7 }]);
    // 57 with tiles of 32 and overlap 8: 3 tiles of 25 (not 32, 32, and a sliver).
    expect(tileSpans(57, 32, 8)).toEqual([
      { start: 0, end: 25 },
      { start: 16, end: 41 },
      { start: 32, end: 57 },
    ]);
    // 480×832 px with the 2.1 VAE (60×104 latent), tile 32 / overlap 8.
    const g = tileGrid(60, 104, { size: 32, overlap: 8 });
    expect([g.rows.length, g.cols.length, g.tileHeight, g.tileWidth]).toEqual([3, 4, 26, 32]);
    const bad: string[] = [];
    for (let L = 1; L <= 60; L++)
      for (let S = 1; S <= 20; S++)
        for (let o = 0; o < S; o++) {
          const spans = tileSpans(L, S, o);
          const size = spans[0]!.end - spans[0]!.start;
          const ok =
            spans[0]!.start === 0 &&
            spans.at(-1)!.end === L &&
            size <= S &&
            spans.every((s, k) => {
              const prev = spans[k - 1];
              return s.end - s.start === size && (!prev || (s.start > prev.start && prev.end - s.start >= o));
            }) &&
            // The fewest tiles: one fewer tile of the full size S could not cover L.
            (spans.length === 1 || (spans.length - 1) * S - (spans.length - 2) * o < L);
          if (!ok) bad.push(`L ${L}, S ${S}, o ${o}: ${JSON.stringify(spans)}`);
        }
    expect(bad).toEqual([]);
  });

  it("weights ramp linearly across each overlap, are 1 elsewhere and sum to 1 at every pixel", () => {
    // Two tiles of 16 over 24 latent pixels: overlap [8, 16), i.e. 64 output pixels at scale 8.
    const spans = tileSpans(24, 16, 8);
    expect(spans).toEqual([
      { start: 0, end: 16 },
      { start: 8, end: 24 },
    ]);
    const [a, b] = axisWeights(spans, 24, 8) as [Float64Array, Float64Array];
    for (let p = 0; p < 128; p++) {
      const inOverlap = p >= 64;
      expect(a[p]).toBeCloseTo(inOverlap ? 1 - (p - 64 + 0.5) / 64 : 1, 12);
      expect(b[p - 64] ?? 0).toBeCloseTo(p < 64 ? 0 : (p - 64 + 0.5) / 64, 12);
    }
    // Any layout (also where three tiles overlap) and scale: positive weights, sum 1.
    for (const [L, S, o, f] of [
      [57, 32, 8, 8],
      [13, 8, 5, 1],
      [40, 6, 5, 16],
      [9, 4, 0, 2],
    ] as const) {
      const sp = tileSpans(L, S, o);
      const ws = axisWeights(sp, L, f);
      const sum = new Float64Array(L * f);
      sp.forEach((s, k) => {
        expect(ws[k]!.length).toBe((s.end - s.start) * f);
        ws[k]!.forEach((v, i) => {
          expect(v).toBeGreaterThan(0);
          expect(v).toBeLessThanOrEqual(1);
          sum[s.start * f + i]! += v;
        });
      });
      for (const v of sum) expect(v).toBeCloseTo(1, 12);
    }
  });

  it("rejects tiles that are not integer sizes with an overlap in [0, size)", () => {
    for (const bad of [
      { size: 0, overlap: 0 },
      { size: 8, overlap: 8 },
      { size: 8.5, overlap: 2 },
      { size: 8, overlap: -1 },
    ])
      expect(() => checkTile(bad)).toThrow(
        expect.objectContaining({ code: "E_INPUT_INVALID", message: expect.stringMatching(/overlap an integer in/) }),
      );
  });

  it("crops frames and a scaled tile, and blending the crops of one image gives the image back", () => {
    const [C, T, h, w, f] = [2, 3, 5, 7, 4];
    const img = f32([C, T, h * f, w * f], ref.randn(C * T * h * f * w * f, 3));
    const grid = tileGrid(h, w, { size: 4, overlap: 2 });
    const blender = new TileBlender(grid);
    expect(blender.tiles.length).toBe(grid.rows.length * grid.cols.length);
    const at = (t: HostTensor, c: number, k: number, y: number, x: number) =>
      (t.data as Float32Array)[((c * t.dims[1]! + k) * t.dims[2]! + y) * t.dims[3]! + x]!;
    const parts = blender.tiles.map((tile) => cropChunk(img, 1, 3, tile, f));
    const tile = blender.tiles[3]!;
    const p = parts[3]!;
    expect(p.dims).toEqual([C, 2, grid.tileHeight * f, grid.tileWidth * f]);
    for (let c = 0; c < C; c++)
      for (let k = 0; k < 2; k++)
        for (let y = 0; y < p.dims[2]!; y++)
          for (let x = 0; x < p.dims[3]!; x++)
            expect(at(p, c, k, y, x)).toBe(at(img, c, k + 1, tile.ys.start * f + y, tile.xs.start * f + x));
    expectClose(blender.merge(parts, "img").data as Float32Array, sliceFrames(img, 1, 3).data as Float32Array, 1e-6, 0);
    // add() places a chunk at a frame offset of a longer tensor.
    const into = blender.alloc(p.dims, T, "img");
    for (const [k, part] of parts.entries()) blender.add(into, k, part, 1, "img");
    expect(into.dims).toEqual([C, T, h * f, w * f]);
    expectClose(sliceFrames(into, 1, 3).data as Float32Array, sliceFrames(img, 1, 3).data as Float32Array, 1e-6, 0);
    expect([...(sliceFrames(into, 0, 1).data as Float32Array)].every((v) => v === 0)).toBe(true);
    expect(() => blender.merge(parts.slice(1), "img")).toThrow(expect.objectContaining({ code: "E_SHAPE_MISMATCH" }));
    expect(() => blender.add(into, 0, f32([C, 1, 3, 3]), 0, "img")).toThrow(/is not \[C, n, 4·f, 4·f\]/);
  });
});

describe("VAE cache memory, tiled and untiled", () => {
  const sumSlots = (version: WanVaeVersion, h: number, w: number) => {
    const c = vaePreset(version === "2.1" ? "wan2.1" : "wan2.2");
    const stats = { mean: new Float32Array(c.z_dim), std: new Float32Array(c.z_dim).fill(1) };
    const slots = buildVaeDecode(
      new Graph("t"),
      vaeArch(c),
      c,
      { kind: "rest", frames: 1, height: h, width: w },
      { stats },
    );
    return slots.reduce((a, s) => a + numel(s.shape) * 4, 0);
  };

  it("vaeCacheBytes: the slots of the graph at that size; 3.52 GiB for the 2.1 decoder at 480×832", () => {
    const c21 = vaePreset("wan2.1");
    const c22 = vaePreset("wan2.2");
    expect(vaeCacheBytes(c21, "decode", 60, 104)).toBe(sumSlots("2.1", 60, 104));
    expect(vaeCacheBytes(c21, "decode", 60, 104) / GiB).toBeCloseTo(3.518, 3);
    expect(vaeCacheBytes(c22, "decode", 30, 52)).toBe(sumSlots("2.2", 30, 52));
    expect(vaeCacheBytes(c22, "decode", 30, 52) / GiB).toBeCloseTo(2.655, 3);
    expect(vaeCacheBytes(c21, "encode", 60, 104) / GiB).toBeCloseTo(2.089, 3);
  });

  it("vaeTileMemory: streaming holds every tile's cache, collecting one tile's; chooseVaeTile picks the largest fit", () => {
    const c = vaePreset("wan2.1");
    const full = vaeCacheBytes(c, "decode", 60, 104);
    const untiled = vaeTileMemory(c, "decode", 60, 104);
    expect(untiled).toEqual({
      rows: 1,
      cols: 1,
      tileHeight: 60,
      tileWidth: 104,
      tilePixels: [480, 832],
      tileCacheBytes: full,
      streamCacheBytes: 2 * full,
      collectCacheBytes: 2 * full,
    });
    const m = vaeTileMemory(c, "decode", 60, 104, { size: 32, overlap: 8 });
    expect([m.rows, m.cols, m.tileHeight, m.tileWidth, m.tilePixels]).toEqual([3, 4, 26, 32, [208, 256]]);
    expect(m.tileCacheBytes).toBe(vaeCacheBytes(c, "decode", 26, 32));
    expect(m.collectCacheBytes / GiB).toBeCloseTo(0.938, 3); // vs 7.04 GiB untiled
    expect(m.streamCacheBytes).toBe(13 * m.tileCacheBytes);
    expect(m.streamCacheBytes).toBeGreaterThan(full); // the overlaps are cached twice

    const budget = GiB;
    const pick = chooseVaeTile(c, "decode", 60, 104, 8, (x) => x.collectCacheBytes <= budget)!;
    // Sizes 33 and 32 give the same 26×32 tiles (3 × 4 of them); 34 gives 34×32, over budget.
    expect(pick).toEqual({ tile: { size: 33, overlap: 8 }, memory: m });
    expect(vaeTileMemory(c, "decode", 60, 104, { size: 34, overlap: 8 }).collectCacheBytes).toBeGreaterThan(budget);
    expect(chooseVaeTile(c, "decode", 60, 104, 8, () => true)).toEqual({ memory: untiled });
    expect(chooseVaeTile(c, "decode", 60, 104, 8, () => false)).toBeNull();
    expect(() => chooseVaeTile(c, "decode", 60, 104, -1, () => true)).toThrow(/overlap an integer in \[0, size\)/);
  });
});

const RUN = { runtime: ortRuntime, device: "cpu" as const, threads: 1 };
const skip = missingFixtures(
  "vae-tiny.io.safetensors",
  "vae-tiny.weights.safetensors",
  "vae22-tiny.weights.safetensors",
);

function tinyVae(version: WanVaeVersion, path?: string): WanVAE {
  const wPath = join(
    WAN21_FIXTURES,
    version === "2.1" ? "vae-tiny.weights.safetensors" : "vae22-tiny.weights.safetensors",
  );
  const cfg = parseWanVaeConfig(JSON.parse(readHeader(wPath).metadata.config!), version, "tiny");
  return new WanVAE(cfg, weightMapFromFiles([path ?? wPath]), RUN);
}

function maxAbs(a: HostTensor, b: HostTensor): number {
  expect(a.dims).toEqual(b.dims);
  let m = 0;
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Largest |a − b| over output pixels at least `d` latent pixels from every inner tile edge. */
function maxAbsAway(a: HostTensor, b: HostTensor, rows: readonly Span[], cols: readonly Span[], s: number, d: number) {
  const [C, T, H, W] = a.dims as [number, number, number, number];
  const edges = (spans: readonly Span[], L: number) =>
    spans.flatMap((sp) => [sp.start, sp.end]).filter((e) => e > 0 && e < L);
  const far = (p: number, es: number[]) => es.every((e) => Math.abs((p + 0.5) / s - e) >= d);
  const [ey, ex] = [edges(rows, H / s), edges(cols, W / s)];
  let m = 0;
  const [x, y] = [a.data as Float32Array, b.data as Float32Array];
  for (let c = 0; c < C; c++)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < H; i++) {
        if (!far(i, ey)) continue;
        for (let j = 0; j < W; j++) {
          const k = ((c * T + t) * H + i) * W + j;
          if (far(j, ex)) m = Math.max(m, Math.abs(x[k]! - y[k]!));
        }
      }
  return m;
}

describe.skipIf(skip !== null)(skip ?? "tiled Wan VAE runs (tiny fixture weights)", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const vae = tinyVae("2.1");
  // 2 latent frames of 16×24 → 5 frames of 128×192; tile 12 / overlap 4 → 2 × 3 tiles of 10×11.
  const latent = f32([16, 2, 16, 24], ref.randn(16 * 2 * 16 * 24, 5));
  const TILE = { size: 12, overlap: 4 };
  let untiledRun: Promise<HostTensor> | undefined;
  const untiled = () => {
    untiledRun ??= vae.decode(latent);
    return untiledRun;
  };

  it("tiled decode = the blend of the tiles' own decodes; close to untiled; decodeStream identical, same order", async () => {
    const full = await untiled();
    const withTaps = await vae.decodeWithTaps(latent, new Set(["decoded_raw"]), "stream", { tile: TILE });
    const tiled = withTaps.video!;
    expect(tiled.dims).toEqual([3, 5, 128, 192]);
    // Measured on these weights: max 0.862, rms 0.058 (the output's rms is 0.50). The tiny
    // random weights' middle attention, over the whole frame untiled and over the tile
    // here, changes pixels far from the seams too (see the next-but-one test without it).
    expect(maxAbs(tiled, full)).toBeLessThanOrEqual(0.9);
    let se = 0;
    for (let i = 0; i < tiled.data.length; i++) se += ((tiled.data[i] as number) - (full.data[i] as number)) ** 2;
    expect(Math.sqrt(se / tiled.data.length)).toBeLessThanOrEqual(0.065);

    // Independently: decode each tile's latent crop untiled and blend with linear ramps.
    const g = tileGrid(16, 24, TILE);
    expect([g.rows.length, g.cols.length, g.tileHeight, g.tileWidth]).toEqual([2, 3, 10, 11]);
    const ramp = (spans: readonly Span[], k: number, p: number) => {
      const [s, prev, next] = [spans[k]!, spans[k - 1], spans[k + 1]];
      if (prev && p < prev.end * 8) return (p - s.start * 8 + 0.5) / ((prev.end - s.start) * 8);
      if (next && p >= next.start * 8) return (s.end * 8 - p - 0.5) / ((s.end - next.start) * 8);
      return 1;
    };
    const want = new Float64Array(tiled.data.length);
    for (const [r, ys] of g.rows.entries())
      for (const [c, xs] of g.cols.entries()) {
        const part = (await vae.decode(cropChunk(latent, 0, 2, { row: r, col: c, ys, xs }))).data as Float32Array;
        const [ph, pw] = [(ys.end - ys.start) * 8, (xs.end - xs.start) * 8];
        for (let ch = 0; ch < 3; ch++)
          for (let t = 0; t < 5; t++)
            for (let y = 0; y < ph; y++)
              for (let x = 0; x < pw; x++) {
                const [Y, X] = [ys.start * 8 + y, xs.start * 8 + x];
                want[((ch * 5 + t) * 128 + Y) * 192 + X]! +=
                  ramp(g.rows, r, Y) * ramp(g.cols, c, X) * part[((ch * 5 + t) * ph + y) * pw + x]!;
              }
      }
    expectClose(tiled.data as Float32Array, want, 1e-6, 1e-6);

    // Chunk-major streaming: the same chunks as untiled, bitwise equal to the tile-major decode.
    const chunks: VaeChunkResult[] = [];
    const n = await vae.decodeStream(latent, (r) => void chunks.push(r), new Set(["decoded_raw"]), { tile: TILE });
    expect(n).toBe(5);
    expect(chunks.map((r) => [r.index, r.firstFrame, r.main.dims[1]])).toEqual([
      [0, 0, 1],
      [1, 1, 4],
    ]);
    for (const r of chunks) {
      const [t0, t1] = [r.firstFrame, r.firstFrame + r.main.dims[1]!];
      expect(r.main.data).toEqual(sliceFrames(tiled, t0, t1).data);
      expect(r.taps.decoded_raw!.data).toEqual(sliceFrames(withTaps.decoded_raw!, t0, t1).data);
    }
  });

  it("a tile covering the frame is the untiled run, bit for bit; bad tiles are rejected", async () => {
    const full = await untiled();
    expect((await vae.decode(latent, "stream", { tile: { size: 24, overlap: 4 } })).data).toEqual(full.data);
    const got: HostTensor[] = [];
    await vae.decodeStream(latent, (r) => void got.push(r.main), new Set(), { tile: { size: 64, overlap: 0 } });
    expect(got.map((m) => m.dims[1])).toEqual([1, 4]);
    expect(got[0]!.data).toEqual(sliceFrames(full, 0, 1).data);
    expect(got[1]!.data).toEqual(sliceFrames(full, 1, 5).data);
    await expect(vae.decode(latent, "stream", { tile: { size: 8, overlap: 8 } })).rejects.toThrow(
      expect.objectContaining({ code: "E_INPUT_INVALID" }),
    );
  });

  it("seam error is local without the middle attention: ≤ 2e-3 from 5 latent pixels off any seam", async () => {
    // Zeroing the attention's output projection makes the block an identity, leaving only
    // the convolutions' zero padding at tile edges as the difference.
    const { tensors } = loadAll(join(WAN21_FIXTURES, "vae-tiny.weights.safetensors"));
    for (const k of ["decoder.middle.1.proj.weight", "decoder.middle.1.proj.bias"])
      (tensors.get(k)!.data as Float32Array).fill(0);
    const path = join(tmp.dir, "vae-tiny-noattn.safetensors");
    writeSafetensors(path, tensors);
    const local = tinyVae("2.1", path);
    const full = await local.decode(latent);
    const tiled = await local.decode(latent, "stream", { tile: TILE });
    const g = tileGrid(16, 24, TILE);
    const far = (d: number) => maxAbsAway(tiled, full, g.rows, g.cols, 8, d);
    // Measured: max 0.83 overall; from 2, 3, 4, 5 latent pixels off a seam 0.57, 0.023, 0.0073, 0.0014.
    expect(maxAbs(tiled, full)).toBeGreaterThan(0.1);
    expect(far(3)).toBeLessThanOrEqual(0.03);
    expect(far(5)).toBeLessThanOrEqual(2e-3);
  });

  it("tiled encode (2.1) and tiled decode (2.2) stay close to untiled", async () => {
    const video = f32([3, 5, 64, 96], ref.randn(3 * 5 * 64 * 96, 9, 0.5));
    const eu = await vae.encode(video);
    const et = await vae.encode(video, "stream", { tile: { size: 6, overlap: 2 } });
    expect(et.dims).toEqual([16, 2, 8, 12]);
    // Measured: max 0.434 (the latent's largest |value| is 1.85).
    expect(maxAbs(et, eu)).toBeLessThanOrEqual(0.45);

    const vae22 = tinyVae("2.2");
    const l22 = f32([48, 2, 4, 6], ref.randn(48 * 2 * 4 * 6, 22));
    const du = await vae22.decode(l22);
    const dt = await vae22.decode(l22, "stream", { tile: { size: 4, overlap: 2 } });
    expect(dt.dims).toEqual([3, 5, 64, 96]);
    // Measured: max 1.17 — two 4×4 tiles of a 4×6 latent, the attention sees 16 of 24 positions.
    expect(maxAbs(dt, du)).toBeLessThanOrEqual(1.2);
  });
});
