/**
 * Spatial tiling for the Wan VAE (vae-runner.ts): the frame is cut into overlapping tiles of
 * one size (counted in latent pixels), each tile runs the ordinary chunk graphs with its own
 * causal cache, and the tiles' outputs are blended with linear ramps across every overlap,
 * with weights that sum to 1 at each output pixel.
 *
 * The official code has no tiling (Wan-Video/Wan2.1 @9737cba wan/modules/vae.py `WanVAE_`
 * decodes whole frames; spec shared/docs/wan-architecture.md §6.5). diffusers'
 * `AutoencoderKLWan.tiled_decode` tiles with a fixed stride, smaller last tiles and
 * blend-then-crop. reel's layout and weights differ from both:
 * - Per axis of length L with a tile of at most S and an overlap of at least o: n = ⌈(L − o)/(S − o)⌉
 *   tiles (the fewest that can cover L), all of the size S' = ⌈(L + (n − 1)·o)/n⌉ ≤ S, starting
 *   at ⌊k·(L − S')/(n − 1)⌋. Every overlap is ≥ o, no tile is a thin leftover, and one
 *   graph shape serves every tile of a run. L ≤ S gives a single tile covering the axis.
 * - Weights per axis: each tile ramps up linearly across its overlap with the previous tile
 *   and down across its overlap with the next (the ramps of two neighbours sum to exactly 1),
 *   is 1 elsewhere and at the frame's edges, and the weights are then divided by their sum
 *   at each pixel (a no-op unless three tiles overlap, which a large overlap can cause).
 *   A 2-D weight is the product of the row and column weights, so it sums to 1 as well.
 *
 * What tiling changes: a tile's convolutions see zero padding at its borders instead of the
 * neighbouring pixels, and the decoder's (and encoder's) middle attention attends within the
 * tile rather than over the whole frame, so the result differs slightly from the untiled
 * one. On the tiny fixture weights (vae-tiling.test.ts) the convolutions' part fades within
 * a few latent pixels of a seam (≤ 2e-3 from 5 latent pixels off), while the attention's
 * part reaches every pixel (max 0.86 on outputs in [−1, 1]). A tile covering the frame is
 * the untiled computation, unchanged.
 */
import { f32, type HostTensor } from "../../engine/tensor.ts";
import { ReelError } from "../../errors.ts";

/** A spatial tile in latent pixels: the largest tile edge and the smallest overlap between neighbours. */
export interface VaeTile {
  readonly size: number;
  readonly overlap: number;
}

/** [start, end) along one axis. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** The tiles of a frame of height × width latent pixels: rows × cols tiles of tileHeight × tileWidth. */
export interface TileGrid {
  readonly height: number;
  readonly width: number;
  readonly tileHeight: number;
  readonly tileWidth: number;
  readonly rows: readonly Span[];
  readonly cols: readonly Span[];
}

/** One tile of a grid: its row and column numbers and spans (latent pixels). */
export interface GridTile {
  readonly row: number;
  readonly col: number;
  readonly ys: Span;
  readonly xs: Span;
}

/** Throws unless `tile` is a positive integer size with an integer overlap in [0, size). */
export function checkTile(tile: VaeTile): void {
  const { size, overlap } = tile;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(overlap) || overlap < 0 || overlap >= size)
    throw new ReelError(
      "E_INPUT_INVALID",
      `VAE tile: size must be an integer ≥ 1 and overlap an integer in [0, size) (latent pixels), got size ${size}, overlap ${overlap}`,
    );
}

/** The tile spans of one axis of `length` latent pixels (see the header for the layout). */
export function tileSpans(length: number, size: number, overlap: number): Span[] {
  checkTile({ size, overlap });
  if (length <= size) return [{ start: 0, end: length }];
  const n = Math.ceil((length - overlap) / (size - overlap));
  const s = Math.ceil((length + (n - 1) * overlap) / n);
  const spans: Span[] = [];
  for (let k = 0; k < n; k++) {
    const start = Math.floor((k * (length - s)) / (n - 1));
    spans.push({ start, end: start + s });
  }
  return spans;
}

/** The grid for a frame of height × width latent pixels; no tile (or one covering the frame) gives one tile. */
export function tileGrid(height: number, width: number, tile?: VaeTile): TileGrid {
  const rows = tile ? tileSpans(height, tile.size, tile.overlap) : [{ start: 0, end: height }];
  const cols = tile ? tileSpans(width, tile.size, tile.overlap) : [{ start: 0, end: width }];
  const len = (s: Span) => s.end - s.start;
  return { height, width, tileHeight: len(rows[0]!), tileWidth: len(cols[0]!), rows, cols };
}

/** The tiles of a grid, row-major. */
export function gridTiles(g: TileGrid): GridTile[] {
  return g.rows.flatMap((ys, row) => g.cols.map((xs, col) => ({ row, col, ys, xs })));
}

/**
 * Frames [t0, t1) of `t` [C, T, H, W] cropped to the tile `crop` scaled by `f` (rows
 * ys·f, columns xs·f); null crops nothing (and all frames of an uncropped tensor are `t` itself).
 */
export function cropChunk(t: HostTensor, t0: number, t1: number, crop: GridTile | null, f = 1): HostTensor {
  const [C, T, H, W] = t.dims as [number, number, number, number];
  const [y0, y1] = crop ? [crop.ys.start * f, crop.ys.end * f] : [0, H];
  const [x0, x1] = crop ? [crop.xs.start * f, crop.xs.end * f] : [0, W];
  if (t0 < 0 || t1 > T || t0 >= t1 || y0 < 0 || y1 > H || x0 < 0 || x1 > W)
    throw new ReelError(
      "E_SHAPE_MISMATCH",
      `VAE tile crop: frames [${t0}, ${t1}), rows [${y0}, ${y1}), cols [${x0}, ${x1}) outside [${t.dims}]`,
    );
  if (crop === null && t0 === 0 && t1 === T) return t;
  const [n, h, w] = [t1 - t0, y1 - y0, x1 - x0];
  const src = t.data as Float32Array;
  const out = new Float32Array(C * n * h * w);
  if (h === H && w === W) {
    for (let c = 0; c < C; c++) out.set(src.subarray((c * T + t0) * H * W, (c * T + t1) * H * W), c * n * H * W);
    return f32([C, n, H, W], out);
  }
  let o = 0;
  for (let c = 0; c < C; c++)
    for (let k = t0; k < t1; k++)
      for (let y = y0; y < y1; y++) {
        const row = ((c * T + k) * H + y) * W;
        out.set(src.subarray(row + x0, row + x1), o);
        o += w;
      }
  return f32([C, n, h, w], out);
}

/**
 * Blend weights along one axis of `length` latent pixels at output scale `f` (output pixels
 * per latent pixel): one array per span, of (end − start)·f values, summing to 1 across
 * spans at every output pixel.
 */
export function axisWeights(spans: readonly Span[], length: number, f: number): Float64Array[] {
  const raw = spans.map((s, k) => {
    const n = (s.end - s.start) * f;
    // Ramp widths: the overlaps with the neighbours, in output pixels (0: a hard edge).
    const before = k > 0 ? (spans[k - 1]!.end - s.start) * f : 0;
    const after = k < spans.length - 1 ? (s.end - spans[k + 1]!.start) * f : 0;
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const up = before > 0 ? (i + 0.5) / before : 1;
      const down = after > 0 ? (n - i - 0.5) / after : 1;
      w[i] = Math.min(1, up, down);
    }
    return w;
  });
  const sum = new Float64Array(length * f);
  spans.forEach((s, k) => {
    for (let i = 0; i < raw[k]!.length; i++) sum[s.start * f + i]! += raw[k]![i]!;
  });
  spans.forEach((s, k) => {
    const w = raw[k]!;
    for (let i = 0; i < w.length; i++) w[i]! /= sum[s.start * f + i]!;
  });
  return raw;
}

/** Accumulates tile outputs into whole-frame tensors with the grid's blend weights. */
export class TileBlender {
  readonly tiles: readonly GridTile[];
  private readonly byScale = new Map<number, { rows: Float64Array[]; cols: Float64Array[] }>();

  constructor(readonly grid: TileGrid) {
    this.tiles = gridTiles(grid);
  }

  private weights(f: number) {
    let w = this.byScale.get(f);
    if (w === undefined) {
      const g = this.grid;
      w = { rows: axisWeights(g.rows, g.height, f), cols: axisWeights(g.cols, g.width, f) };
      this.byScale.set(f, w);
    }
    return w;
  }

  /** The output scale f of a tile output shaped [C, n, tileHeight·f, tileWidth·f]. */
  scaleOf(dims: readonly number[], what: string): number {
    const g = this.grid;
    const f = dims[2]! / g.tileHeight;
    if (dims.length !== 4 || !Number.isInteger(f) || f < 1 || dims[3] !== f * g.tileWidth)
      throw new ReelError(
        "E_SHAPE_MISMATCH",
        `VAE tiling: ${what} [${dims}] is not [C, n, ${g.tileHeight}·f, ${g.tileWidth}·f] for a ${g.tileHeight}×${g.tileWidth} tile`,
      );
    return f;
  }

  /** A zero whole-frame tensor of `frames` frames for tile outputs shaped `dims`. */
  alloc(dims: readonly number[], frames: number, what: string): HostTensor {
    const f = this.scaleOf(dims, what);
    return f32([dims[0]!, frames, this.grid.height * f, this.grid.width * f]);
  }

  /** Adds tile `k`'s output `part` [C, n, th·f, tw·f], weighted, into frames [t0, t0 + n) of `into`. */
  add(into: HostTensor, k: number, part: HostTensor, t0: number, what: string): void {
    const f = this.scaleOf(part.dims, what);
    const tile = this.tiles[k]!;
    const [C, n, h, w] = part.dims as [number, number, number, number];
    const [IC, IT, IH, IW] = into.dims as [number, number, number, number];
    if (IC !== C || t0 + n > IT || IH !== this.grid.height * f || IW !== this.grid.width * f)
      throw new ReelError(
        "E_SHAPE_MISMATCH",
        `VAE tiling: cannot add ${what} [${part.dims}] at frame ${t0} of [${into.dims}]`,
      );
    const { rows, cols } = this.weights(f);
    const wy = rows[tile.row]!;
    const wx = cols[tile.col]!;
    const [y0, x0] = [tile.ys.start * f, tile.xs.start * f];
    const src = part.data as Float32Array;
    const dst = into.data as Float32Array;
    let i = 0;
    for (let c = 0; c < C; c++)
      for (let t = 0; t < n; t++)
        for (let y = 0; y < h; y++) {
          const row = ((c * IT + t0 + t) * IH + y0 + y) * IW + x0;
          const a = wy[y]!;
          for (let x = 0; x < w; x++) dst[row + x]! += a * wx[x]! * src[i++]!;
        }
  }

  /** One chunk's tile outputs (in tile order) blended into a whole-frame tensor. */
  merge(parts: readonly HostTensor[], what: string): HostTensor {
    if (parts.length !== this.tiles.length)
      throw new ReelError(
        "E_SHAPE_MISMATCH",
        `VAE tiling: ${parts.length} tile outputs for ${this.tiles.length} tiles`,
      );
    const out = this.alloc(parts[0]!.dims, parts[0]!.dims[1]!, what);
    for (const [k, p] of parts.entries()) this.add(out, k, p, 0, what);
    return out;
  }
}
