/**
 * The Wan VAE's causal temporal cache, made explicit. The official code (vae.py and
 * vae2_2.py @ the commits in vae.ts: `feat_cache`, `feat_idx`, `CACHE_T = 2`) keeps a Python
 * list that each cached layer reads and overwrites in call order while it processes a video
 * chunk by chunk. reel compiles one graph per chunk shape and passes that list through the
 * graph as typed inputs `cache_in.<i>` and outputs `cache_out.<i>`, one per slot, in the
 * reference's feat_idx order (the order the layers run in one chunk). Memory is bounded by
 * one chunk plus the cache, whatever the video length.
 *
 * Slot kinds (every shape is [C, K, H, W] at the layer's resolution):
 * - `causal_conv` (K = 2): a CausalConv3d with temporal kernel 3: the last 2 frames of its
 *   input sequence, zero frames standing in before the start. Identical to the reference,
 *   whose first chunk pads with zeros and whose later chunks prepend the cache.
 * - `time_up` (K = 2): the `time_conv` of an `upsample3d` Resample, a CausalConv3d over
 *   frames 1, 2, … only (frame 0 passes through untouched), so after a one-frame first chunk
 *   it holds zeros (the reference's "Rep" marker).
 * - `time_down` (K = 1): the `time_conv` of a `downsample3d` Resample (kernel 3, stride 2,
 *   no padding): the last frame after the spatial downsampling, which the next chunk's
 *   first window starts from.
 *
 * The released VAEs have 24 encoder and 32 decoder slots (vae-cache.test.ts pins their
 * order, e.g. decoder slot 11 = `decoder.upsamples.3.time_conv`). Their size depends on the
 * frame size only: at 480×832 the 2.1 decoder's slots hold 3.6 GiB and the 2.2 decoder's
 * 2.7 GiB, as much as the reference's feat_cache.
 *
 * Chunk kinds: `first` starts a video (no cache inputs; temporal layers apply their
 * first-frame rules), `rest` continues it (every slot in, every slot out). A `first` chunk of
 * all the frames is the whole-sequence computation, which is how chunked and whole runs are
 * checked against each other.
 */
import { type Graph, type Value, dim } from "../../engine/graph.ts";
import { expand, pad, slice, squeeze, unsqueeze } from "../../engine/ops/index.ts";
import type { HostTensor } from "../../engine/tensor.ts";
import { ReelError } from "../../errors.ts";

export type ChunkKind = "first" | "rest";
export type CacheSlotKind = "causal_conv" | "time_up" | "time_down";

export interface CacheSlot {
  /** Position in the reference's feat_cache list (feat_idx). */
  readonly index: number;
  /** Checkpoint path of the layer that owns it, e.g. `decoder.upsamples.3.time_conv`. */
  readonly module: string;
  readonly kind: CacheSlotKind;
  /** [C, K, H, W]. */
  readonly shape: readonly number[];
}

export const cacheInputName = (i: number): string => `cache_in.${i}`;
export const cacheOutputName = (i: number): string => `cache_out.${i}`;

/** Frames a causal conv keeps between chunks (the reference's `CACHE_T`). */
export const CACHE_T = 2;

/** The frames a slot of this kind keeps. */
export const CACHE_FRAMES: Record<CacheSlotKind, number> = { causal_conv: CACHE_T, time_up: CACHE_T, time_down: 1 };

/** A slot being filled while a chunk graph is built. */
export interface OpenSlot {
  /** The previous chunk's state [1, C, K, H, W], or null in a first chunk. */
  readonly prev: Value | null;
  /** Records the state this chunk leaves behind ([1, C, K, H, W]). */
  store(v: Value): void;
}

/**
 * Declares the cache slots of one chunk graph in call order. With `emit` false (a graph that
 * processes a whole video and will not be continued) no cache outputs are declared.
 */
export class CacheBook {
  readonly slots: CacheSlot[] = [];

  constructor(
    readonly g: Graph,
    readonly kind: ChunkKind,
    readonly emit = true,
  ) {}

  get first(): boolean {
    return this.kind === "first";
  }

  /** Opens the next slot for a layer whose input per frame is [C, H, W]. */
  open(module: string, kind: CacheSlotKind, c: number, h: number, w: number): OpenSlot {
    const g = this.g;
    const slot: CacheSlot = { index: this.slots.length, module, kind, shape: [c, CACHE_FRAMES[kind], h, w] };
    this.slots.push(slot);
    const prev = this.first ? null : unsqueeze(g, g.input(cacheInputName(slot.index), "float32", slot.shape), 0);
    let stored = false;
    return {
      prev,
      store: (v: Value) => {
        if (stored) g.fail("CacheBook", `slot ${slot.index} (${module}) stored twice`);
        stored = true;
        const want = [1, ...slot.shape].join();
        if (v.shape.join() !== want)
          g.fail("CacheBook", `slot ${slot.index} (${module}) expects [1, ${slot.shape}], got [${v.shape}]`);
        if (this.emit) g.output(squeeze(g, v, 0), cacheOutputName(slot.index));
      },
    };
  }
}

/**
 * The last `k` frames of `x` [1, C, T, H, W] seen as a sequence preceded by zero frames:
 * what a cache slot keeps after the chunk `x`.
 */
export function lastFrames(g: Graph, x: Value, k: number): Value {
  const t = dim(x, 2);
  if (t >= k) return t === k ? x : slice(g, x, 2, t - k, t);
  return pad(g, x, [0, 0, k - t, 0, 0], [0, 0, 0, 0, 0]);
}

/** A zero tensor (Expand of a scalar: no constant bytes in the graph). */
export function zeros(g: Graph, shape: readonly number[]): Value {
  return expand(g, g.scalar(0), shape);
}

/** Host side: the cache between two chunks, by slot index. */
export type CacheState = ReadonlyMap<number, HostTensor>;

/** The state a chunk left behind, taken from its outputs and checked against the slots. */
export function cacheFromOutputs(
  slots: readonly CacheSlot[],
  outputs: Readonly<Record<string, HostTensor>>,
): CacheState {
  const state = new Map<number, HostTensor>();
  for (const s of slots) {
    const t = outputs[cacheOutputName(s.index)];
    if (t === undefined || t.dims.join() !== s.shape.join())
      throw new ReelError(
        "E_SHAPE_MISMATCH",
        `VAE cache slot ${s.index} (${s.module}): expected [${s.shape}], got ${t ? `[${t.dims}]` : "nothing"}`,
      );
    state.set(s.index, t);
  }
  return state;
}

/** Feeds for a `rest` chunk: every slot's state under its input name. */
export function cacheFeeds(slots: readonly CacheSlot[], state: CacheState): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const s of slots) {
    const t = state.get(s.index);
    if (t === undefined || t.dims.join() !== s.shape.join())
      throw new ReelError(
        "E_SHAPE_MISMATCH",
        `VAE cache slot ${s.index} (${s.module}): the previous chunk left ${t ? `[${t.dims}]` : "nothing"}, this chunk expects [${s.shape}]`,
      );
    feeds[cacheInputName(s.index)] = t;
  }
  return feeds;
}

/** Throws unless two chunk graphs declare the same slots (same order, kinds and shapes). */
export function assertSameSlots(a: readonly CacheSlot[], b: readonly CacheSlot[], what: string): void {
  const key = (s: CacheSlot) => `${s.index}:${s.module}:${s.kind}:${s.shape.join("x")}`;
  const ka = a.map(key).join("|");
  const kb = b.map(key).join("|");
  if (ka !== kb)
    throw new ReelError("E_SHAPE_MISMATCH", `${what}: the chunk graphs disagree on their cache slots`, {
      details: { a: a.map(key), b: b.map(key) },
    });
}
