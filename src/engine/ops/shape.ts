/** Shape ops: reshape, transpose, slice, concat, split, (un)squeeze, gather, expand, cast. */
import { type DType, DTYPES } from "../dtype.ts";
import { attr, type Graph, type Value } from "../graph.ts";

function show(v: Value): string {
  return `[${v.shape.join(", ")}]`;
}

function normAxis(g: Graph, op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) g.fail(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of two static shapes. */
export function broadcastShapes(g: Graph, op: string, a: Value, b: Value): number[] {
  const n = Math.max(a.shape.length, b.shape.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a.shape[a.shape.length - n + i] ?? 1;
    const db = b.shape[b.shape.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) g.fail(op, `cannot broadcast ${show(a)} with ${show(b)}`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** [ONNX Reshape](https://onnx.ai/onnx/operators/onnx__Reshape.html), opset 14. One -1 is inferred. */
export function reshape(g: Graph, x: Value, shape: readonly number[]): Value {
  const total = x.shape.reduce((p, d) => p * d, 1);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1 || shape.some((d) => d < -1 || !Number.isInteger(d))) g.fail("Reshape", `bad target shape [${shape}]`);
  const resolved = shape.map((d) => (d === -1 ? total / known : d));
  if (resolved.reduce((p, d) => p * d, 1) !== total || resolved.some((d) => !Number.isInteger(d)))
    g.fail("Reshape", `cannot reshape ${show(x)} (${total} elements) to [${shape}]`);
  return g.node("Reshape", [x, g.ints(resolved)], { dtype: x.dtype, shape: resolved });
}

/** [ONNX Transpose](https://onnx.ai/onnx/operators/onnx__Transpose.html). */
export function transpose(g: Graph, x: Value, perm: readonly number[]): Value {
  const r = x.shape.length;
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    g.fail("Transpose", `perm [${perm}] is not a permutation of rank ${r} for ${show(x)}`);
  return g.node("Transpose", [x], { dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }, { perm: attr.ints(perm) });
}

/** [ONNX Slice](https://onnx.ai/onnx/operators/onnx__Slice.html) along one axis, [start, end) with step. */
export function slice(g: Graph, x: Value, axis: number, start: number, end: number, step = 1): Value {
  const a = normAxis(g, "Slice", axis, x.shape.length);
  const n = x.shape[a]!;
  if (step < 1 || start < 0 || end > n || start > end)
    g.fail("Slice", `range [${start}, ${end}) step ${step} invalid for axis ${axis} of ${show(x)}`);
  const shape = [...x.shape];
  shape[a] = Math.ceil((end - start) / step);
  return g.node("Slice", [x, g.ints([start]), g.ints([end]), g.ints([a]), g.ints([step])], { dtype: x.dtype, shape });
}

/** [ONNX Concat](https://onnx.ai/onnx/operators/onnx__Concat.html). */
export function concat(g: Graph, xs: readonly Value[], axis: number): Value {
  const first = xs[0];
  if (first === undefined) return g.fail("Concat", "no inputs");
  const a = normAxis(g, "Concat", axis, first.shape.length);
  let total = 0;
  for (const x of xs) {
    if (x.dtype !== first.dtype) g.fail("Concat", `dtype ${x.dtype} differs from ${first.dtype}`);
    if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && d !== first.shape[i]))
      g.fail("Concat", `shapes ${xs.map(show).join(", ")} differ outside axis ${axis}`);
    total += x.shape[a]!;
  }
  const shape = [...first.shape];
  shape[a] = total;
  return g.node("Concat", [...xs], { dtype: first.dtype, shape }, { axis: attr.int(a) });
}

/** [ONNX Split](https://onnx.ai/onnx/operators/onnx__Split.html), opset 18, into the given sizes. */
export function split(g: Graph, x: Value, axis: number, sizes: readonly number[]): Value[] {
  const a = normAxis(g, "Split", axis, x.shape.length);
  if (sizes.reduce((p, s) => p + s, 0) !== x.shape[a])
    g.fail("Split", `sizes [${sizes}] do not sum to axis ${axis} of ${show(x)}`);
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { dtype: x.dtype, shape };
  });
  return g.nodeMulti("Split", [x, g.ints(sizes)], outs, { axis: attr.int(a) });
}

/** Splits into `parts` equal chunks (torch `chunk`). */
export function chunk(g: Graph, x: Value, axis: number, parts: number): Value[] {
  const a = normAxis(g, "Split", axis, x.shape.length);
  const n = x.shape[a]!;
  if (n % parts !== 0) g.fail("Split", `axis ${axis} of ${show(x)} does not split into ${parts} equal parts`);
  return split(g, x, a, new Array<number>(parts).fill(n / parts));
}

/** [ONNX Unsqueeze](https://onnx.ai/onnx/operators/onnx__Unsqueeze.html), opset 13. */
export function unsqueeze(g: Graph, x: Value, axis: number): Value {
  const r = x.shape.length + 1;
  const a = normAxis(g, "Unsqueeze", axis, r);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return g.node("Unsqueeze", [x, g.ints([a])], { dtype: x.dtype, shape });
}

/** [ONNX Squeeze](https://onnx.ai/onnx/operators/onnx__Squeeze.html), opset 13. */
export function squeeze(g: Graph, x: Value, axis: number): Value {
  const a = normAxis(g, "Squeeze", axis, x.shape.length);
  if (x.shape[a] !== 1) g.fail("Squeeze", `axis ${axis} of ${show(x)} is not 1`);
  return g.node("Squeeze", [x, g.ints([a])], { dtype: x.dtype, shape: x.shape.filter((_, i) => i !== a) });
}

/** [ONNX Gather](https://onnx.ai/onnx/operators/onnx__Gather.html) along `axis` with int64 indices. */
export function gather(g: Graph, x: Value, indices: Value, axis = 0): Value {
  const a = normAxis(g, "Gather", axis, x.shape.length);
  if (indices.dtype !== "int64" && indices.dtype !== "int32")
    g.fail("Gather", `indices must be int64, got ${indices.dtype}`);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  return g.node("Gather", [x, indices], { dtype: x.dtype, shape }, { axis: attr.int(a) });
}

/** [ONNX Expand](https://onnx.ai/onnx/operators/onnx__Expand.html) (broadcast to `shape`). */
export function expand(g: Graph, x: Value, shape: readonly number[]): Value {
  const target: Value = { name: "", dtype: x.dtype, shape };
  const out = broadcastShapes(g, "Expand", x, target);
  if (out.join() !== shape.join()) g.fail("Expand", `${show(x)} does not broadcast to [${shape}]`);
  return g.node("Expand", [x, g.ints(shape)], { dtype: x.dtype, shape: out });
}

/** [ONNX Cast](https://onnx.ai/onnx/operators/onnx__Cast.html). */
export function cast(g: Graph, x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return g.node("Cast", [x], { dtype: to, shape: x.shape }, { to: attr.int(DTYPES[to].onnx) });
}
