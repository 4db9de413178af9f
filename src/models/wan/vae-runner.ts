/**
 * WanVAE: runs the Wan 2.1 / 2.2 VAE on ONNX Runtime, chunk by chunk as the official
 * `WanVAE_.encode` / `.decode` do (vae.py @9737cba, vae2_2.py @42bf4cf; spec
 * shared/docs/wan-architecture.md §6.5): encode in chunks of frames [0], [1..4], [5..8], …
 * (frames after 1 + 4⌊(T−1)/4⌋ are dropped, as the reference does), decode one latent frame
 * at a time. The causal cache travels between chunks as graph inputs/outputs (vae-cache.ts),
 * so memory stays bounded by one chunk whatever the video length, and decoded frames can be
 * handed to the caller as each chunk finishes. One graph per (operation, chunk kind, frames,
 * H, W), compiled through engine/compile (cached on disk and in process).
 *
 * Mode `whole` runs the video in a single `first` chunk: the exact whole-sequence
 * formulation, used to check the chunked path (and cheaper for very short clips).
 *
 * Spatial tiling (option `tile`, vae-tiling.ts; not in the reference): every tile runs the
 * same chunk graphs at the tile's size with its own cache, and the outputs are blended.
 * Streaming (`decodeStream`) goes chunk-major: each chunk is run for every tile, blended and
 * handed over, so all tiles' caches are held between chunks (as much as the untiled cache,
 * plus the overlaps) while one run only sees one tile. The collecting calls (`encode`,
 * `decode`, `…WithTaps`) go tile-major: each tile's whole stream, accumulated into the
 * output, so only one tile's cache exists at a time. Both orders give identical results.
 * `vaeTileMemory` gives the cache bytes of both, `chooseVaeTile` picks a tile that fits.
 */
import { compile } from "../../engine/compile.ts";
import { Graph } from "../../engine/graph.ts";
import type { Device, InferenceSession, Runtime } from "../../engine/runtime.ts";
import { f32, type HostTensor, numel } from "../../engine/tensor.ts";
import { checkWeights, type DeclaredParam, declaredParams, type WeightMap } from "../../engine/weights.ts";
import { ReelError } from "../../errors.ts";
import { buildVaeDecode, buildVaeEncode, type VaeArch, type VaeChunkShape, WAN21_VAE } from "./vae.ts";
import { WAN22_VAE } from "./vae22.ts";
import {
  assertSameSlots,
  type CacheSlot,
  type CacheState,
  type ChunkKind,
  cacheFeeds,
  cacheFromOutputs,
} from "./vae-cache.ts";
import {
  defaultLatentStats,
  type LatentStats,
  spatialFactor,
  temporalFactor,
  type WanVaeConfig,
} from "./vae-config.ts";
import {
  checkTile,
  cropChunk,
  type GridTile,
  TileBlender,
  type TileGrid,
  tileGrid,
  type VaeTile,
} from "./vae-tiling.ts";

/** Video frames per encode chunk after the first (hard-coded in the reference). */
export const ENCODE_CHUNK_FRAMES = 4;

export type VaeMode = "stream" | "whole";
export type VaeOp = "encode" | "decode";
export type EncodeTap = "encoder_out" | "conv1_out";
export type DecodeTap = "conv2_out" | "decoded_raw";

export interface WanVaeOptions {
  readonly runtime: Runtime;
  readonly device: Device;
  readonly threads?: number;
  readonly cacheDir?: string;
  /** Latent statistics [z_dim]; default: the official wrapper's constants for the version. */
  readonly latentsMean?: Float32Array;
  readonly latentsStd?: Float32Array;
}

/** Per-call options of encode/decode. */
export interface VaeRunOptions {
  /** Spatial tiling in latent pixels; absent, or a tile covering the frame: the whole frame at once. */
  readonly tile?: VaeTile;
}

export interface VaeChunkResult {
  /** Chunk number, from 0. */
  readonly index: number;
  /** Position of this chunk's first output frame in the whole output. */
  readonly firstFrame: number;
  /** The chunk's main output: `video` [3, n, H, W] (decode) or `latent` [z_dim, n, h, w] (encode). */
  readonly main: HostTensor;
  /** The requested intermediates of this chunk. */
  readonly taps: Readonly<Record<string, HostTensor>>;
}

export function vaeArch(c: WanVaeConfig): VaeArch {
  return c.version === "2.1" ? WAN21_VAE : WAN22_VAE;
}

/** Video frames the encoder reads out of T: 1 + 4⌊(T−1)/4⌋ (the reference drops the rest). */
export function encodedFrameCount(T: number): number {
  return 1 + ENCODE_CHUNK_FRAMES * Math.floor((T - 1) / ENCODE_CHUNK_FRAMES);
}

/** Latent frames for a T-frame video (2 for T = 5..8 with the released VAEs). */
export function latentFrameCount(c: WanVaeConfig, T: number): number {
  return 1 + (Math.floor((T - 1) / ENCODE_CHUNK_FRAMES) * ENCODE_CHUNK_FRAMES) / temporalFactor(c);
}

/** Video frames decoded from T' latent frames: 1 + 4(T' − 1) with the released VAEs. */
export function decodedFrameCount(c: WanVaeConfig, latentFrames: number): number {
  return 1 + temporalFactor(c) * (latentFrames - 1);
}

/** Every checkpoint tensor the VAE declares (key → shape), from small rest-chunk graphs (they use every layer). */
export function wanVaeParams(c: WanVaeConfig): Map<string, DeclaredParam> {
  const arch = vaeArch(c);
  const sf = spatialFactor(c);
  const stats = { mean: new Float32Array(c.z_dim), std: new Float32Array(c.z_dim).fill(1) };
  const ge = new Graph("wan_vae_params_encode");
  buildVaeEncode(ge, arch, c, { kind: "rest", frames: ENCODE_CHUNK_FRAMES, height: sf, width: sf }, { stats });
  const gd = new Graph("wan_vae_params_decode");
  buildVaeDecode(gd, arch, c, { kind: "rest", frames: 1, height: 1, width: 1 }, { stats });
  return new Map([...declaredParams(ge), ...declaredParams(gd)]);
}

interface ChunkPlan {
  readonly shape: VaeChunkShape;
  /** Input frames [start, end). */
  readonly start: number;
  readonly end: number;
}

/** One chunk's outputs for one tile (or the whole frame). */
interface ChunkOutputs {
  readonly main: HostTensor;
  readonly taps: Readonly<Record<string, HostTensor>>;
}

interface ChunkSession {
  readonly session: InferenceSession;
  readonly slots: readonly CacheSlot[];
  /** Graph outputs other than the cache, with their shapes. */
  readonly outputs: ReadonlyMap<string, readonly number[]>;
}

/** Frames [t0, t1) of a [C, T, H, W] tensor. */
export function sliceFrames(t: HostTensor, t0: number, t1: number): HostTensor {
  const [C, T, H, W] = t.dims as [number, number, number, number];
  if (t0 === 0 && t1 === T) return t;
  const src = t.data as Float32Array;
  const plane = H * W;
  const out = new Float32Array(C * (t1 - t0) * plane);
  for (let c = 0; c < C; c++) out.set(src.subarray((c * T + t0) * plane, (c * T + t1) * plane), c * (t1 - t0) * plane);
  return f32([C, t1 - t0, H, W], out);
}

/** One chunk's tile outputs (in tile order) blended into whole-frame outputs. */
function mergeChunk(blender: TileBlender, parts: readonly ChunkOutputs[], op: VaeOp): ChunkOutputs {
  const pick = (name: string | null) => parts.map((p) => (name === null ? p.main : p.taps[name]!));
  const taps: Record<string, HostTensor> = {};
  for (const t of Object.keys(parts[0]!.taps)) taps[t] = blender.merge(pick(t), t);
  return { main: blender.merge(pick(null), op), taps };
}

/** Copies `part` [C, n, H, W] into frames [t0, t0 + n) of `into` [C, T, H, W]. */
function writeFrames(into: HostTensor, part: HostTensor, t0: number): void {
  const [C, T, H, W] = into.dims as [number, number, number, number];
  const n = part.dims[1]!;
  const plane = H * W;
  const dst = into.data as Float32Array;
  const src = part.data as Float32Array;
  for (let c = 0; c < C; c++) dst.set(src.subarray(c * n * plane, (c + 1) * n * plane), (c * T + t0) * plane);
}

export class WanVAE {
  readonly arch: VaeArch;
  readonly stats: LatentStats;
  private readonly sessions = new Map<string, Promise<ChunkSession>>();

  constructor(
    readonly config: WanVaeConfig,
    readonly weights: WeightMap,
    private readonly opts: WanVaeOptions,
  ) {
    this.arch = vaeArch(config);
    this.stats = latentStats(config, opts);
    // Check every key once: one error lists all missing, unexpected and mis-shaped tensors.
    checkWeights(`Wan ${config.version} VAE (dim ${config.dim}, z_dim ${config.z_dim})`, wanVaeParams(config), weights);
  }

  /** The chunk graph for one shape; returns it with its cache slots. */
  graphFor(op: VaeOp, s: VaeChunkShape, taps: ReadonlySet<string> = new Set(), emitCache = true) {
    const c = this.config;
    const g = new Graph(`wan_vae${c.version.replace(".", "")}_${op}_${s.kind}_${s.frames}x${s.height}x${s.width}`);
    const build = op === "encode" ? buildVaeEncode : buildVaeDecode;
    const slots = build(g, this.arch, c, s, { stats: this.stats, taps, emitCache });
    return { graph: g, slots };
  }

  private chunkSession(op: VaeOp, s: VaeChunkShape, taps: ReadonlySet<string>, emitCache: boolean) {
    const key = `${op}|${s.kind}|${s.frames}|${s.height}x${s.width}|${[...taps].sort().join(",")}|${emitCache}`;
    let hit = this.sessions.get(key);
    if (hit === undefined) {
      const { graph, slots } = this.graphFor(op, s, taps, emitCache);
      const outputs = new Map(graph.outputs.filter((v) => !v.name.startsWith("cache_")).map((v) => [v.name, v.shape]));
      hit = compile(graph, this.weights, {
        runtime: this.opts.runtime,
        device: this.opts.device,
        ...(this.opts.threads ? { threads: this.opts.threads } : {}),
        ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}),
      }).then((session) => ({ session, slots, outputs }));
      this.sessions.set(key, hit);
      hit.catch(() => this.sessions.delete(key));
    }
    return hit;
  }

  private checkVideo(video: HostTensor): [number, number, number] {
    const sf = spatialFactor(this.config);
    const [C, T, H, W] = video.dims as [number, number, number, number];
    if (video.dtype !== "float32" || video.dims.length !== 4 || C !== 3 || T < 1)
      throw new ReelError(
        "E_INPUT_INVALID",
        `VAE encode: video must be float32 [3, T ≥ 1, H, W], got ${video.dtype} [${video.dims}]`,
      );
    if (H % sf !== 0 || W % sf !== 0 || H === 0 || W === 0)
      throw new ReelError(
        "E_INPUT_INVALID",
        `VAE encode: frame size ${H}×${W} must be a positive multiple of ${sf} (Wan ${this.config.version} VAE)`,
      );
    return [T, H, W];
  }

  private checkLatent(latent: HostTensor): [number, number, number] {
    const z = this.config.z_dim;
    const [C, T, h, w] = latent.dims as [number, number, number, number];
    if (latent.dtype !== "float32" || latent.dims.length !== 4 || C !== z || T < 1 || h < 1 || w < 1)
      throw new ReelError(
        "E_INPUT_INVALID",
        `VAE decode: latent must be float32 [${z}, T ≥ 1, h, w], got ${latent.dtype} [${latent.dims}]`,
      );
    return [T, h, w];
  }

  private plan(op: VaeOp, frames: number, height: number, width: number, mode: VaeMode): ChunkPlan[] {
    const chunk = (kind: ChunkKind, start: number, end: number): ChunkPlan => ({
      shape: { kind, frames: end - start, height, width },
      start,
      end,
    });
    const total = op === "encode" ? encodedFrameCount(frames) : frames;
    if (mode === "whole") return [chunk("first", 0, total)];
    const step = op === "encode" ? ENCODE_CHUNK_FRAMES : 1;
    const plan = [chunk("first", 0, 1)];
    for (let t = 1; t < total; t += step) plan.push(chunk("rest", t, t + step));
    return plan;
  }

  /** The tile grid of a run (latent pixels) and the graphs' input scale (pixels per latent pixel). */
  private gridFor(op: VaeOp, height: number, width: number, tile: VaeTile | undefined) {
    if (tile) checkTile(tile);
    const inScale = op === "encode" ? spatialFactor(this.config) : 1;
    return { grid: tileGrid(height / inScale, width / inScale, tile), inScale };
  }

  /** The sessions of a plan's chunks; `emit`: whether the chunks pass a cache on. */
  private async sessionsFor(op: VaeOp, plan: readonly ChunkPlan[], taps: ReadonlySet<string>) {
    const emit = plan.length > 1;
    const sessions = await Promise.all(plan.map((p) => this.chunkSession(op, p.shape, taps, emit)));
    if (emit) for (const s of sessions.slice(1)) assertSameSlots(sessions[0]!.slots, s.slots, `Wan VAE ${op}`);
    return { sessions, emit };
  }

  /**
   * One tile's chunk stream: runs the plan's chunks in order on the tile's crop of `input`
   * (`crop` null: the whole frame), threading the tile's own cache, and yields each chunk's
   * main output and taps.
   */
  private async *tileStream(
    op: VaeOp,
    input: HostTensor,
    plan: readonly ChunkPlan[],
    run: { sessions: readonly ChunkSession[]; emit: boolean },
    taps: ReadonlySet<string>,
    crop: GridTile | null,
    inScale: number,
  ): AsyncGenerator<ChunkOutputs, void> {
    const mainName = op === "encode" ? "latent" : "video";
    const inputName = op === "encode" ? "video" : "latent";
    let state: CacheState | null = null;
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i]!;
      const s = run.sessions[i]!;
      const feeds: Record<string, HostTensor> = { [inputName]: cropChunk(input, p.start, p.end, crop, inScale) };
      if (p.shape.kind === "rest") Object.assign(feeds, cacheFeeds(s.slots, state!));
      const carry = run.emit && i < plan.length - 1;
      // The last chunk's cache is not needed: fetch only the frames (and taps).
      const out = await s.session.run(feeds, carry ? undefined : [mainName, ...taps]);
      state = carry ? cacheFromOutputs(s.slots, out) : null;
      const tapOut: Record<string, HostTensor> = {};
      for (const t of taps) tapOut[t] = out[t]!;
      yield { main: out[mainName]!, taps: tapOut };
    }
  }

  /**
   * Runs the chunks of one video in order and calls `onChunk` after each. Tiled: chunk-major,
   * every tile's stream advanced by one chunk, then the chunk's outputs blended.
   */
  private async run(
    op: VaeOp,
    input: HostTensor,
    plan: readonly ChunkPlan[],
    taps: ReadonlySet<string>,
    onChunk: (r: VaeChunkResult) => void | Promise<void>,
    tiling: { grid: TileGrid; inScale: number },
  ): Promise<void> {
    const run = await this.sessionsFor(op, plan, taps);
    const blender = new TileBlender(tiling.grid);
    const single = blender.tiles.length === 1;
    const streams = blender.tiles.map((t) =>
      this.tileStream(op, input, plan, run, taps, single ? null : t, tiling.inScale),
    );
    let firstFrame = 0;
    for (let index = 0; index < plan.length; index++) {
      const parts: ChunkOutputs[] = [];
      for (const s of streams) parts.push((await s.next()).value as ChunkOutputs);
      const { main, taps: tapOut } = single ? parts[0]! : mergeChunk(blender, parts, op);
      await onChunk({ index, firstFrame, main, taps: tapOut });
      firstFrame += main.dims[1]!;
    }
  }

  /** Runs a whole video and concatenates every chunk's outputs along time. Tiled: tile-major. */
  private async collect(
    op: VaeOp,
    input: HostTensor,
    plan: readonly ChunkPlan[],
    taps: ReadonlySet<string>,
    tiling: { grid: TileGrid; inScale: number },
  ) {
    const mainName = op === "encode" ? "latent" : "video";
    const run = await this.sessionsFor(op, plan, taps);
    const blender = new TileBlender(tiling.grid);
    const single = blender.tiles.length === 1;
    // Output sizes are known from the graphs: allocate once, fill as chunks finish.
    const result: Record<string, HostTensor> = {};
    for (const name of [mainName, ...taps]) {
      const shapes = run.sessions.map((s) => s.outputs.get(name)!);
      const T = shapes.reduce((a, sh) => a + sh[1]!, 0);
      result[name] = blender.alloc(shapes[0]!, T, name);
    }
    for (const [k, tile] of blender.tiles.entries()) {
      const offsets = new Map<string, number>();
      for await (const r of this.tileStream(op, input, plan, run, taps, single ? null : tile, tiling.inScale))
        for (const [name, t] of [[mainName, r.main] as const, ...Object.entries(r.taps)]) {
          const at = offsets.get(name) ?? 0;
          if (single) writeFrames(result[name]!, t, at);
          else blender.add(result[name]!, k, t, at, name);
          offsets.set(name, at + t.dims[1]!);
        }
    }
    return result;
  }

  /**
   * WanVAE.encode: video [3, T, H, W] in [−1, 1] → normalised latent [z_dim, T', H/s, W/s]
   * (s = 8 for 2.1, 16 for 2.2). Frames after 1 + 4⌊(T−1)/4⌋ are not used.
   */
  async encode(video: HostTensor, mode: VaeMode = "stream", o: VaeRunOptions = {}): Promise<HostTensor> {
    return (await this.encodeWithTaps(video, new Set(), mode, o)).latent!;
  }

  /** encode, also returning the requested intermediates (whole-video tensors): `latent` plus the taps. */
  async encodeWithTaps(
    video: HostTensor,
    taps: ReadonlySet<EncodeTap>,
    mode: VaeMode = "stream",
    o: VaeRunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    const [T, H, W] = this.checkVideo(video);
    const tiling = this.gridFor("encode", H, W, o.tile);
    const { tileHeight: th, tileWidth: tw } = tiling.grid;
    const s = tiling.inScale;
    return this.collect("encode", video, this.plan("encode", T, th * s, tw * s, mode), taps, tiling);
  }

  /** WanVAE.decode: normalised latent [z_dim, T', h, w] → video [3, 1 + 4(T'−1), H, W] clamped to [−1, 1]. */
  async decode(latent: HostTensor, mode: VaeMode = "stream", o: VaeRunOptions = {}): Promise<HostTensor> {
    return (await this.decodeWithTaps(latent, new Set(), mode, o)).video!;
  }

  /** decode, also returning the requested intermediates: `video` plus the taps. */
  async decodeWithTaps(
    latent: HostTensor,
    taps: ReadonlySet<DecodeTap>,
    mode: VaeMode = "stream",
    o: VaeRunOptions = {},
  ): Promise<Record<string, HostTensor>> {
    const [T, h, w] = this.checkLatent(latent);
    const tiling = this.gridFor("decode", h, w, o.tile);
    const { tileHeight: th, tileWidth: tw } = tiling.grid;
    return this.collect("decode", latent, this.plan("decode", T, th, tw, mode), taps, tiling);
  }

  /**
   * Streaming decode: one latent frame per chunk, `onChunk` receives each chunk's clamped
   * frames ([3, n, H, W]: 1 frame, then 4 per chunk with the released VAEs) as soon as they
   * exist, in order, and nothing is kept afterwards. Returns the number of frames decoded.
   * With `tile`, each chunk is decoded tile by tile and blended before it is handed over.
   */
  async decodeStream(
    latent: HostTensor,
    onChunk: (r: VaeChunkResult) => void | Promise<void>,
    taps: ReadonlySet<DecodeTap> = new Set(),
    o: VaeRunOptions = {},
  ): Promise<number> {
    const [T, h, w] = this.checkLatent(latent);
    const tiling = this.gridFor("decode", h, w, o.tile);
    const { tileHeight: th, tileWidth: tw } = tiling.grid;
    let frames = 0;
    const plan = this.plan("decode", T, th, tw, "stream");
    await this.run(
      "decode",
      latent,
      plan,
      taps,
      async (r) => {
        frames += r.main.dims[1]!;
        await onChunk(r);
      },
      tiling,
    );
    return frames;
  }
}

/** Cache bytes per latent pixel of one chunk stream (float32): the slots of a 1×1-latent graph. */
function cacheBytesPerLatentPixel(c: WanVaeConfig, op: VaeOp): number {
  const sf = spatialFactor(c);
  const stats = { mean: new Float32Array(c.z_dim), std: new Float32Array(c.z_dim).fill(1) };
  const g = new Graph("wan_vae_cache_probe");
  const slots =
    op === "encode"
      ? buildVaeEncode(
          g,
          vaeArch(c),
          c,
          { kind: "rest", frames: ENCODE_CHUNK_FRAMES, height: sf, width: sf },
          { stats },
        )
      : buildVaeDecode(g, vaeArch(c), c, { kind: "rest", frames: 1, height: 1, width: 1 }, { stats });
  return slots.reduce((a, s) => a + numel(s.shape) * 4, 0);
}

/**
 * Bytes of the causal cache one chunk stream carries between chunks at h × w latent pixels
 * (float32; every slot's size is proportional to the frame area). At 480×832 px: 2.1 decoder
 * 3.52 GiB (60×104 latent), 2.1 encoder 2.09 GiB, 2.2 decoder 2.66 GiB (30×52), 2.2
 * encoder 0.88 GiB. While a chunk runs, its input and output caches both exist.
 */
export function vaeCacheBytes(c: WanVaeConfig, op: VaeOp, h: number, w: number): number {
  return cacheBytesPerLatentPixel(c, op) * h * w;
}

/** The cache memory of a (tiled) run at h × w latent pixels. */
export interface VaeTileMemory {
  readonly rows: number;
  readonly cols: number;
  /** Tile size in latent pixels (the frame when untiled) and in output pixels. */
  readonly tileHeight: number;
  readonly tileWidth: number;
  readonly tilePixels: readonly [number, number];
  /** One tile's cache: what one chunk run reads, and writes anew. */
  readonly tileCacheBytes: number;
  /** Peak cache bytes of a streaming run (`decodeStream`): every tile's cache, plus the new cache of the tile being run. */
  readonly streamCacheBytes: number;
  /** Peak cache bytes of a collecting run (`decode`, `encode`): one tile's cache in and out. */
  readonly collectCacheBytes: number;
}

/** Cache memory of `op` at h × w latent pixels with `tile` (absent: untiled). */
export function vaeTileMemory(c: WanVaeConfig, op: VaeOp, h: number, w: number, tile?: VaeTile): VaeTileMemory {
  return tileMemory(cacheBytesPerLatentPixel(c, op), spatialFactor(c), h, w, tile);
}

function tileMemory(perPixel: number, sf: number, h: number, w: number, tile?: VaeTile): VaeTileMemory {
  if (tile) checkTile(tile);
  const g = tileGrid(h, w, tile);
  const tileCacheBytes = perPixel * g.tileHeight * g.tileWidth;
  const n = g.rows.length * g.cols.length;
  return {
    rows: g.rows.length,
    cols: g.cols.length,
    tileHeight: g.tileHeight,
    tileWidth: g.tileWidth,
    tilePixels: [g.tileHeight * sf, g.tileWidth * sf],
    tileCacheBytes,
    streamCacheBytes: (n + 1) * tileCacheBytes,
    collectCacheBytes: 2 * tileCacheBytes,
  };
}

/** A tiling choice: `tile` absent means untiled. */
export interface VaeTilePick {
  readonly tile?: VaeTile;
  readonly memory: VaeTileMemory;
}

/**
 * The largest tiling of h × w latent pixels that `fits`: untiled first, then tiles of
 * decreasing size (down to overlap + 1; for sizes giving the same grid, the largest size)
 * with the given overlap; null when none fits. The predicate sees the cache figures and the
 * tile's pixel size (for an activation estimate).
 */
export function chooseVaeTile(
  c: WanVaeConfig,
  op: VaeOp,
  h: number,
  w: number,
  overlap: number,
  fits: (m: VaeTileMemory) => boolean,
): VaeTilePick | null {
  checkTile({ size: overlap + 1, overlap });
  const [perPixel, sf] = [cacheBytesPerLatentPixel(c, op), spatialFactor(c)];
  const untiled = tileMemory(perPixel, sf, h, w);
  if (fits(untiled)) return { memory: untiled };
  let seen = `${h}x${w}`;
  for (let size = Math.max(h, w) - 1; size > overlap; size--) {
    const tile = { size, overlap };
    const memory = tileMemory(perPixel, sf, h, w, tile);
    const key = `${memory.tileHeight}x${memory.tileWidth}`;
    if (key === seen) continue;
    seen = key;
    if (fits(memory)) return { tile, memory };
  }
  return null;
}

/** The statistics given in the options (both or neither), else the wrapper's constants. */
function latentStats(c: WanVaeConfig, o: WanVaeOptions): LatentStats {
  if (o.latentsMean === undefined && o.latentsStd === undefined) return defaultLatentStats(c);
  const { latentsMean: mean, latentsStd: std } = o;
  if (mean === undefined || std === undefined || mean.length !== c.z_dim || std.length !== c.z_dim)
    throw new ReelError(
      "E_CONFIG_INVALID",
      `Wan VAE: latentsMean and latentsStd must both be given with z_dim = ${c.z_dim} values, got ${mean?.length ?? "none"} and ${std?.length ?? "none"}`,
    );
  if (std.some((s) => !(s > 0))) throw new ReelError("E_CONFIG_INVALID", "Wan VAE: latentsStd must be positive");
  return { mean, std };
}
