/** Reductions and softmax. */
import { attr, type Graph, type Value } from "../graph.ts";

/** [ONNX ReduceMean](https://onnx.ai/onnx/operators/onnx__ReduceMean.html), opset 18 (axes as input). */
export function reduceMean(g: Graph, x: Value, axes: readonly number[], keepdims = true): Value {
  const r = x.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  if (norm.some((a) => a < 0 || a >= r)) g.fail("ReduceMean", `axes [${axes}] out of range for rank ${r}`);
  const shape = keepdims
    ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !norm.includes(i));
  return g.node("ReduceMean", [x, g.ints(norm)], { dtype: x.dtype, shape }, { keepdims: attr.int(keepdims ? 1 : 0) });
}

/** [ONNX Softmax](https://onnx.ai/onnx/operators/onnx__Softmax.html), opset 13. */
export function softmax(g: Graph, x: Value, axis = -1): Value {
  const r = x.shape.length;
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) g.fail("Softmax", `axis ${axis} out of range for rank ${r}`);
  return g.node("Softmax", [x], { dtype: x.dtype, shape: x.shape }, { axis: attr.int(a) });
}
