/** Euclidean norm reduction. */
import { attr, type Graph, type Value } from "../graph.ts";

/**
 * [ONNX ReduceL2](https://onnx.ai/onnx/operators/onnx__ReduceL2.html), opset 18 (axes as input):
 * sqrt(Σ x²) over `axes` (torch `linalg.vector_norm`, as used by F.normalize).
 */
export function reduceL2(g: Graph, x: Value, axes: readonly number[], keepdims = true): Value {
  const r = x.shape.length;
  const norm = axes.map((a) => (a < 0 ? a + r : a));
  if (norm.length === 0 || norm.some((a) => a < 0 || a >= r))
    g.fail("ReduceL2", `axes [${axes}] out of range for rank ${r}`);
  const shape = keepdims
    ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !norm.includes(i));
  return g.node("ReduceL2", [x, g.ints(norm)], { dtype: x.dtype, shape }, { keepdims: attr.int(keepdims ? 1 : 0) });
}
