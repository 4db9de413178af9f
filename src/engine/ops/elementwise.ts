/** Elementwise ops with numpy broadcasting; numbers are promoted to scalars of the partner's dtype. */
import { isFloat } from "../dtype.ts";
import { attr, type Graph, type Value } from "../graph.ts";
import { broadcastShapes } from "./shape.ts";

type Operand = Value | number;

function binary(g: Graph, op: string, a: Operand, b: Operand): Value {
  const va = typeof a === "number" ? null : a;
  const vb = typeof b === "number" ? null : b;
  const ref = va ?? vb;
  if (ref === null) return g.fail(op, "both operands are numbers");
  const x = va ?? g.scalar(a as number, ref.dtype);
  const y = vb ?? g.scalar(b as number, ref.dtype);
  if (x.dtype !== y.dtype) g.fail(op, `dtype ${x.dtype} does not match ${y.dtype}`);
  return g.node(op, [x, y], { dtype: x.dtype, shape: broadcastShapes(g, op, x, y) });
}

export const add = (g: Graph, a: Operand, b: Operand): Value => binary(g, "Add", a, b);
export const sub = (g: Graph, a: Operand, b: Operand): Value => binary(g, "Sub", a, b);
export const mul = (g: Graph, a: Operand, b: Operand): Value => binary(g, "Mul", a, b);
export const div = (g: Graph, a: Operand, b: Operand): Value => binary(g, "Div", a, b);
export const pow = (g: Graph, a: Operand, b: Operand): Value => binary(g, "Pow", a, b);

function unary(g: Graph, op: string, x: Value): Value {
  if (!isFloat(x.dtype) && op !== "Neg") g.fail(op, `needs a float tensor, got ${x.dtype}`);
  return g.node(op, [x], { dtype: x.dtype, shape: x.shape });
}

export const neg = (g: Graph, x: Value): Value => unary(g, "Neg", x);
export const exp = (g: Graph, x: Value): Value => unary(g, "Exp", x);
export const sqrt = (g: Graph, x: Value): Value => unary(g, "Sqrt", x);
export const reciprocal = (g: Graph, x: Value): Value => unary(g, "Reciprocal", x);
export const sin = (g: Graph, x: Value): Value => unary(g, "Sin", x);
export const cos = (g: Graph, x: Value): Value => unary(g, "Cos", x);
export const tanh = (g: Graph, x: Value): Value => unary(g, "Tanh", x);
export const sigmoid = (g: Graph, x: Value): Value => unary(g, "Sigmoid", x);
export const erf = (g: Graph, x: Value): Value => unary(g, "Erf", x);
export const relu = (g: Graph, x: Value): Value => unary(g, "Relu", x);

/** silu(x) = x·sigmoid(x). */
export function silu(g: Graph, x: Value): Value {
  return mul(g, x, sigmoid(g, x));
}

/**
 * [ONNX Gelu](https://onnx.ai/onnx/operators/onnx__Gelu.html), opset 20.
 * `tanh`: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); `none`: the exact erf form.
 */
export function gelu(g: Graph, x: Value, approximate: "tanh" | "none"): Value {
  if (!isFloat(x.dtype)) g.fail("Gelu", `needs a float tensor, got ${x.dtype}`);
  const prev = g.opsets.get("") ?? 21;
  if (prev < 20) g.opsets.set("", 20);
  return g.node("Gelu", [x], { dtype: x.dtype, shape: x.shape }, { approximate: attr.string(approximate) });
}
