/** Clamping to a range. */
import { isFloat } from "../dtype.ts";
import type { Graph, Value } from "../graph.ts";

/**
 * [ONNX Clip](https://onnx.ai/onnx/operators/onnx__Clip.html), opset 13: min(max(x, lo), hi)
 * elementwise (torch `clamp`). A null bound is omitted.
 */
export function clamp(g: Graph, x: Value, lo: number | null, hi: number | null): Value {
  if (!isFloat(x.dtype)) g.fail("Clip", `needs a float tensor, got ${x.dtype}`);
  if (lo !== null && hi !== null && lo > hi) g.fail("Clip", `lower bound ${lo} is above upper bound ${hi}`);
  const bound = (v: number | null) => (v === null ? null : g.scalar(v, x.dtype));
  return g.node("Clip", [x, bound(lo), bound(hi)], { dtype: x.dtype, shape: x.shape });
}
