/**
 * Object geometry: a signed distance function per shape in unit space (y down, the shape
 * centred on its centroid, its farthest point about 1 from the centre), its area there, its
 * bounding radius and how far it reaches below the centre (where it touches the ground).
 * Distances are exact for the polygons (Inigo Quilez's polygon SDF), the circle and the ring.
 */
import type { Shape } from "./vocab.ts";

export interface ShapeGeometry {
  /** Signed distance (negative inside) at unit-space point (x, y). */
  readonly sdf: (x: number, y: number) => number;
  /** Area in unit space. */
  readonly area: number;
  /** Largest distance of the outline from the centre, in unit space. */
  readonly bound: number;
  /** Largest y of the outline (its lowest point on screen), in unit space. */
  readonly bottom: number;
}

interface Polygon {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
}

function polygon(points: readonly (readonly [number, number])[]): Polygon {
  // Shift to the area centroid so rotations and centroids agree with what the evaluator measures.
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < points.length; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[(i + 1) % points.length]!;
    const c = x0 * y1 - x1 * y0;
    a += c;
    cx += (x0 + x1) * c;
    cy += (y0 + y1) * c;
  }
  a /= 2;
  cx /= 6 * a;
  cy /= 6 * a;
  return {
    xs: Float64Array.from(points, (p) => p[0] - cx),
    ys: Float64Array.from(points, (p) => p[1] - cy),
  };
}

function polygonArea(p: Polygon): number {
  let a = 0;
  const n = p.xs.length;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    a += p.xs[i]! * p.ys[j]! - p.xs[j]! * p.ys[i]!;
  }
  return Math.abs(a) / 2;
}

function polygonSdf(p: Polygon): (x: number, y: number) => number {
  const { xs, ys } = p;
  const n = xs.length;
  return (x, y) => {
    let d = (x - xs[0]!) * (x - xs[0]!) + (y - ys[0]!) * (y - ys[0]!);
    let s = 1;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const vix = xs[i]!;
      const viy = ys[i]!;
      const ex = xs[j]! - vix;
      const ey = ys[j]! - viy;
      const wx = x - vix;
      const wy = y - viy;
      let t = (wx * ex + wy * ey) / (ex * ex + ey * ey);
      t = Math.max(0, Math.min(1, t));
      const bx = wx - ex * t;
      const by = wy - ey * t;
      const dd = bx * bx + by * by;
      if (dd < d) d = dd;
      const c1 = y >= viy;
      const c2 = y < ys[j]!;
      const c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
    }
    return s * Math.sqrt(d);
  };
}

function regular(n: number, radius: (k: number) => number, start = -Math.PI / 2): [number, number][] {
  const pts: [number, number][] = [];
  for (let k = 0; k < n; k++) {
    const a = start + (2 * Math.PI * k) / n;
    pts.push([radius(k) * Math.cos(a), radius(k) * Math.sin(a)]);
  }
  return pts;
}

/** Inigo Quilez's exact heart SDF (tip at the origin, lobes up to y ≈ 1.1, y up). */
function heartIq(px: number, py: number): number {
  const x = Math.abs(px);
  if (py + x > 1) return Math.sqrt((x - 0.25) ** 2 + (py - 0.75) ** 2) - Math.SQRT2 / 4;
  const m = 0.5 * Math.max(x + py, 0);
  const d = Math.min(x * x + (py - 1) ** 2, (x - m) ** 2 + (py - m) ** 2);
  return Math.sqrt(d) * Math.sign(x - py);
}

/** The heart in unit space: centred on its area centroid, y down, farthest point at 1. */
function heart(): ShapeGeometry {
  const step = 0.004;
  let area = 0;
  let cx = 0;
  let cy = 0;
  const inside: [number, number][] = [];
  for (let y = -0.2; y < 1.3; y += step)
    for (let x = -0.8; x < 0.8; x += step)
      if (heartIq(x, y) < 0) {
        area++;
        cx += x;
        cy += y;
        inside.push([x, y]);
      }
  cx /= area;
  cy /= area;
  let k = 0;
  let low = 0;
  for (const [x, y] of inside) {
    k = Math.max(k, Math.hypot(x - cx, y - cy));
    low = Math.max(low, cy - y);
  }
  area *= step * step;
  return {
    sdf: (x, y) => heartIq(k * x + cx, cy - k * y) / k,
    area: area / (k * k),
    bound: 1,
    bottom: low / k,
  };
}

function crossPoints(w: number): [number, number][] {
  return [
    [-w, -1],
    [w, -1],
    [w, -w],
    [1, -w],
    [1, w],
    [w, w],
    [w, 1],
    [-w, 1],
    [-w, w],
    [-1, w],
    [-1, -w],
    [-w, -w],
  ];
}

/** Scales a polygon so that its farthest vertex is at distance 1. */
function normalised(p: Polygon): Polygon {
  let m = 0;
  for (let i = 0; i < p.xs.length; i++) m = Math.max(m, Math.hypot(p.xs[i]!, p.ys[i]!));
  return { xs: p.xs.map((v) => v / m), ys: p.ys.map((v) => v / m) };
}

function fromPolygon(points: [number, number][]): ShapeGeometry {
  const p = normalised(polygon(points));
  let bottom = Number.NEGATIVE_INFINITY;
  for (const y of p.ys) bottom = Math.max(bottom, y);
  return { sdf: polygonSdf(p), area: polygonArea(p), bound: 1, bottom };
}

const RING_INNER = 0.55;

const GEOMETRY: Readonly<Record<Shape, ShapeGeometry>> = {
  ball: { sdf: (x, y) => Math.sqrt(x * x + y * y) - 1, area: Math.PI, bound: 1, bottom: 1 },
  square: fromPolygon(regular(4, () => 1, -Math.PI / 4)),
  triangle: fromPolygon(regular(3, () => 1)),
  star: fromPolygon(regular(10, (k) => (k % 2 === 0 ? 1 : 0.45))),
  ring: {
    sdf: (x, y) => Math.abs(Math.sqrt(x * x + y * y) - (1 + RING_INNER) / 2) - (1 - RING_INNER) / 2,
    area: Math.PI * (1 - RING_INNER * RING_INNER),
    bound: 1,
    bottom: 1,
  },
  diamond: fromPolygon([
    [0, -1],
    [0.62, 0],
    [0, 1],
    [-0.62, 0],
  ]),
  heart: heart(),
  cross: fromPolygon(crossPoints(0.34)),
};

export function geometry(shape: Shape): ShapeGeometry {
  return GEOMETRY[shape];
}

/** Unit-space → world scale that gives the shape the area of a disc of radius `radiusEq`. */
export function renderScale(shape: Shape, radiusEq: number): number {
  return radiusEq * Math.sqrt(Math.PI / GEOMETRY[shape].area);
}
