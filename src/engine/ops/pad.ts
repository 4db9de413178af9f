/** Constant padding. */
import type { Graph, Value } from "../graph.ts";

/**
 * [ONNX Pad](https://onnx.ai/onnx/operators/onnx__Pad.html), opset 18+, mode `constant`:
 * `begins[i]` values before and `ends[i]` after axis i, filled with `value` (torch F.pad with
 * the axes listed first to last, not last to first). Negative amounts are rejected.
 */
export function pad(g: Graph, x: Value, begins: readonly number[], ends: readonly number[], value = 0): Value {
  const r = x.shape.length;
  if (begins.length !== r || ends.length !== r)
    g.fail("Pad", `needs ${r} begin and ${r} end amounts for [${x.shape}], got [${begins}] and [${ends}]`);
  if ([...begins, ...ends].some((p) => p < 0 || !Number.isInteger(p)))
    g.fail("Pad", `amounts must be non-negative integers, got begins [${begins}], ends [${ends}]`);
  const shape = x.shape.map((d, i) => d + begins[i]! + ends[i]!);
  return g.node("Pad", [x, g.ints([...begins, ...ends]), g.scalar(value, x.dtype)], { dtype: x.dtype, shape });
}
