/** Comparison and selection: Equal (→ bool) and Where, with numpy broadcasting. */
import type { Graph, Value } from "../graph.ts";
import { broadcastShapes } from "./shape.ts";

/** [ONNX Equal](https://onnx.ai/onnx/operators/onnx__Equal.html): a == b elementwise → bool. A number is a scalar of a's dtype. */
export function equal(g: Graph, a: Value, b: Value | number): Value {
  const y = typeof b === "number" ? g.scalar(b, a.dtype) : b;
  if (a.dtype !== y.dtype) g.fail("Equal", `dtype ${a.dtype} does not match ${y.dtype}`);
  return g.node("Equal", [a, y], { dtype: "bool", shape: broadcastShapes(g, "Equal", a, y) });
}

/**
 * [ONNX Where](https://onnx.ai/onnx/operators/onnx__Where.html): cond ? x : y elementwise.
 * Selects, never adds: the chosen value passes through bit for bit (torch masked_fill).
 * A number is a scalar of the other operand's dtype.
 */
export function where(g: Graph, cond: Value, x: Value | number, y: Value | number): Value {
  if (cond.dtype !== "bool") g.fail("Where", `condition must be bool, got ${cond.dtype}`);
  const ref = typeof x === "number" ? y : x;
  if (typeof ref === "number") return g.fail("Where", "both branches are numbers");
  const vx = typeof x === "number" ? g.scalar(x, ref.dtype) : x;
  const vy = typeof y === "number" ? g.scalar(y, ref.dtype) : y;
  if (vx.dtype !== vy.dtype) g.fail("Where", `branch dtypes differ: ${vx.dtype} and ${vy.dtype}`);
  const xy: Value = { name: "", dtype: vx.dtype, shape: broadcastShapes(g, "Where", vx, vy) };
  return g.node("Where", [cond, vx, vy], { dtype: vx.dtype, shape: broadcastShapes(g, "Where", cond, xy) });
}
