/**
 * Object segmentation against the background, for any video (rendered or generated).
 *
 * Background model: the colours on the frame border over the whole clip (objects never
 * touch the border in the toy world), with the straight line between every two neighbouring
 * border pixels (which covers gradients and anti-aliased texture edges), widened by
 * BACKGROUND_TOLERANCE in RGB and stored as a 32³ lookup table. A pixel whose colour is not
 * near that set is foreground; 8-connected foreground regions big enough and not thin
 * (stars, edge slivers) are the objects.
 */
import type { RgbFrame } from "../media/frames.ts";

export const BACKGROUND_TOLERANCE = 40;
const BIN = 8;
const BINS = 256 / BIN;

export interface Component {
  readonly area: number;
  /** Centroid in pixels (pixel centres at +0.5). */
  readonly cx: number;
  readonly cy: number;
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  /** Mean colour of the interior (pixels whose 4 neighbours are in the component). */
  readonly rgb: readonly [number, number, number];
  /** Pixel indices (y·W + x). */
  readonly pixels: Int32Array;
  /** Index of this component in its frame. */
  readonly id: number;
}

export interface FrameObjects {
  readonly width: number;
  readonly height: number;
  /** Component id + 1 per pixel (0: background or rejected foreground). */
  readonly labels: Int32Array;
  /** All foreground (kept or not): 1 where not background. */
  readonly foreground: Uint8Array;
  readonly components: Component[];
}

const binOf = (r: number, g: number, b: number) => ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);

let sphere: Int32Array | null = null;
function sphereOffsets(): Int32Array {
  if (sphere) return sphere;
  const rad = BACKGROUND_TOLERANCE / BIN;
  const out: number[] = [];
  const n = Math.ceil(rad);
  for (let x = -n; x <= n; x++)
    for (let y = -n; y <= n; y++)
      for (let z = -n; z <= n; z++) if (x * x + y * y + z * z <= rad * rad) out.push(x, y, z);
  sphere = Int32Array.from(out);
  return sphere;
}

/** Background colour lookup table (1 = background) from the border pixels of all frames. */
export function backgroundTable(frames: readonly RgbFrame[]): Uint8Array {
  const seeds = new Uint8Array(BINS * BINS * BINS);
  const mark = (a: number, b: number, d: Uint8Array) => {
    const ar = d[a]!;
    const ag = d[a + 1]!;
    const ab = d[a + 2]!;
    const dr = d[b]! - ar;
    const dg = d[b + 1]! - ag;
    const db = d[b + 2]! - ab;
    const steps = Math.ceil(Math.max(Math.abs(dr), Math.abs(dg), Math.abs(db)) / (BIN / 2));
    for (let k = 0; k <= steps; k++) {
      const f = steps ? k / steps : 0;
      seeds[binOf(ar + dr * f, ag + dg * f, ab + db * f)] = 1;
    }
  };
  for (const f of frames) {
    const { width: W, height: H, data } = f;
    // The border as one closed loop: top, right, bottom (backwards), left (upwards).
    const loop: number[] = [];
    for (let x = 0; x < W; x++) loop.push(x);
    for (let y = 1; y < H; y++) loop.push(y * W + W - 1);
    for (let x = W - 2; x >= 0; x--) loop.push((H - 1) * W + x);
    for (let y = H - 2; y > 0; y--) loop.push(y * W);
    for (let i = 0; i < loop.length; i++) mark(loop[i]! * 3, loop[(i + 1) % loop.length]! * 3, data);
  }
  const table = new Uint8Array(seeds.length);
  const off = sphereOffsets();
  for (let i = 0; i < seeds.length; i++) {
    if (!seeds[i]) continue;
    const r = i >> 10;
    const g = (i >> 5) & 31;
    const b = i & 31;
    for (let k = 0; k < off.length; k += 3) {
      const rr = r + off[k]!;
      const gg = g + off[k + 1]!;
      const bb = b + off[k + 2]!;
      if (rr < 0 || gg < 0 || bb < 0 || rr >= BINS || gg >= BINS || bb >= BINS) continue;
      table[(rr << 10) | (gg << 5) | bb] = 1;
    }
  }
  return table;
}

/** Smallest object area kept, as a fraction of H² (the smallest toy object is ~0.011 H²). */
export const MIN_AREA = 0.002;

/** Mean colour of the pixels whose 4 neighbours are in the same component (all pixels if none). */
function interiorColour(
  pix: readonly number[],
  lab: number,
  labels: Int32Array,
  data: Uint8Array,
  W: number,
): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let m = 0;
  let ar = 0;
  let ag = 0;
  let ab = 0;
  const n = labels.length;
  for (const p of pix) {
    ar += data[p * 3]!;
    ag += data[p * 3 + 1]!;
    ab += data[p * 3 + 2]!;
    const x = p % W;
    if (x === 0 || x === W - 1 || p < W || p >= n - W) continue;
    if (labels[p - 1] !== lab || labels[p + 1] !== lab || labels[p - W] !== lab || labels[p + W] !== lab) continue;
    r += data[p * 3]!;
    g += data[p * 3 + 1]!;
    b += data[p * 3 + 2]!;
    m++;
  }
  return m > 0 ? [r / m, g / m, b / m] : [ar / pix.length, ag / pix.length, ab / pix.length];
}

/** Foreground components of one frame. */
export function findObjects(f: RgbFrame, table: Uint8Array): FrameObjects {
  const { width: W, height: H, data } = f;
  const n = W * H;
  const fg = new Uint8Array(n);
  for (let i = 0, k = 0; i < n; i++, k += 3) fg[i] = table[binOf(data[k]!, data[k + 1]!, data[k + 2]!)] ? 0 : 1;
  const labels = new Int32Array(n);
  const seen = new Uint8Array(n);
  const stack = new Int32Array(n);
  const components: Component[] = [];
  const minArea = Math.max(6, MIN_AREA * H * H);
  for (let start = 0; start < n; start++) {
    if (!fg[start] || seen[start]) continue;
    let top = 0;
    let count = 0;
    stack[top++] = start;
    seen[start] = 1;
    const pix: number[] = [];
    let x0 = W;
    let y0 = H;
    let x1 = 0;
    let y1 = 0;
    let sx = 0;
    let sy = 0;
    while (top > 0) {
      const p = stack[--top]!;
      pix.push(p);
      count++;
      const x = p % W;
      const y = (p - x) / W;
      sx += x;
      sy += y;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          const q = yy * W + xx;
          if (fg[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    // Thin regions (a ground edge, a scratch) are not objects.
    if (count < minArea || count < 2.5 * Math.max(x1 - x0 + 1, y1 - y0 + 1)) continue;
    const id = components.length;
    for (const p of pix) labels[p] = id + 1;
    components.push({
      area: count,
      cx: sx / count + 0.5,
      cy: sy / count + 0.5,
      x0,
      y0,
      x1,
      y1,
      rgb: interiorColour(pix, id + 1, labels, data, W),
      pixels: Int32Array.from(pix),
      id,
    });
  }
  return { width: W, height: H, labels, foreground: fg, components };
}
