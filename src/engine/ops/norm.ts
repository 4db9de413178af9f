/** Normalisations over the last axis. */
import { attr, type Graph, type Value } from "../graph.ts";
import { add, div, mul, pow, sqrt } from "./elementwise.ts";
import { reduceMean } from "./reduce.ts";

/**
 * [ONNX LayerNormalization](https://onnx.ai/onnx/operators/onnx__LayerNormalization.html), opset 17,
 * over the last axis: (x − mean)/sqrt(var + eps)·w + b. Without `weight` there is no affine
 * transform (a constant scale of ones is passed, as the op requires one).
 */
export function layerNorm(
  g: Graph,
  x: Value,
  eps: number,
  weight: Value | null = null,
  bias: Value | null = null,
): Value {
  const d = x.shape[x.shape.length - 1]!;
  for (const p of [weight, bias])
    if (p !== null && (p.shape.length !== 1 || p.shape[0] !== d))
      g.fail("LayerNormalization", `affine parameter [${p.shape}] does not match last axis ${d} of [${x.shape}]`);
  const scale = weight ?? g.constant(x.dtype, [d], new Float32Array(d).fill(1), "ones");
  return g.node(
    "LayerNormalization",
    bias === null ? [x, scale] : [x, scale, bias],
    { dtype: x.dtype, shape: x.shape },
    { axis: attr.int(-1), epsilon: attr.float(eps) },
  );
}

/**
 * RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w. Written as the primitive
 * pattern that ORT fuses into SimplifiedLayerNormalization.
 */
export function rmsNorm(g: Graph, x: Value, eps: number, weight: Value): Value {
  const d = x.shape[x.shape.length - 1]!;
  if (weight.shape.length !== 1 || weight.shape[0] !== d)
    g.fail("RMSNorm", `weight [${weight.shape}] does not match last axis ${d} of [${x.shape}]`);
  const ms = reduceMean(g, pow(g, x, 2), [-1]);
  return mul(g, div(g, x, sqrt(g, add(g, ms, eps))), weight);
}
