/** Matrix products: MatMul, Gemm, and `linear` (torch.nn.Linear with the weight stored [out, in]). */
import { attr, type Graph, type Value } from "../graph.ts";
import { reshape } from "./shape.ts";

/** [ONNX MatMul](https://onnx.ai/onnx/operators/onnx__MatMul.html) with numpy batch broadcasting (rank ≥ 2). */
export function matmul(g: Graph, a: Value, b: Value): Value {
  if (a.dtype !== b.dtype) g.fail("MatMul", `dtype ${a.dtype} does not match ${b.dtype}`);
  if (a.shape.length < 2 || b.shape.length < 2) g.fail("MatMul", `needs rank ≥ 2, got [${a.shape}] and [${b.shape}]`);
  const m = a.shape[a.shape.length - 2]!;
  const k = a.shape[a.shape.length - 1]!;
  const k2 = b.shape[b.shape.length - 2]!;
  const n = b.shape[b.shape.length - 1]!;
  if (k !== k2) g.fail("MatMul", `inner dims differ: [${a.shape}] x [${b.shape}]`);
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const r = Math.max(ba.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = ba[ba.length - r + i] ?? 1;
    const db = bb[bb.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) g.fail("MatMul", `batch dims do not broadcast: [${a.shape}] x [${b.shape}]`);
    batch.push(Math.max(da, db));
  }
  return g.node("MatMul", [a, b], { dtype: a.dtype, shape: [...batch, m, n] });
}

/**
 * y = x·Wᵀ + b for x of any rank ≥ 2 (flattened to 2-D), W stored [out, in] as in torch.
 * Emits [Gemm](https://onnx.ai/onnx/operators/onnx__Gemm.html) with transB = 1, so the
 * checkpoint's weight is used as stored (no transposed copy; it stays memory-mapped).
 */
export function linearRaw(g: Graph, x: Value, weight: Value, bias: Value | null): Value {
  const inF = x.shape[x.shape.length - 1]!;
  if (weight.shape.length !== 2) g.fail("Linear", `weight must be [out, in], got [${weight.shape}]`);
  const [outF, wIn] = weight.shape as [number, number];
  if (wIn !== inF) g.fail("Linear", `input has ${inF} features, weight [${weight.shape}] expects ${wIn}`);
  if (bias !== null && (bias.shape.length !== 1 || bias.shape[0] !== outF))
    g.fail("Linear", `bias [${bias.shape}] does not match ${outF} outputs`);
  const lead = x.shape.slice(0, -1);
  const x2 = x.shape.length === 2 ? x : reshape(g, x, [-1, inF]);
  const rows = x2.shape[0]!;
  const y = g.node("Gemm", [x2, weight, bias], { dtype: x.dtype, shape: [rows, outF] }, { transB: attr.int(1) });
  return x.shape.length === 2 ? y : reshape(g, y, [...lead, outF]);
}

/**
 * Linear with int8 weights: y = x·Wᵀ + b where Wᵀ ≈ q·diag(scale), q int8 [in, out].
 * Emits `com.microsoft.DynamicQuantizeMatMul` (activations quantized per call, uint8 with
 * zero point; weights symmetric per output channel), which runs on AVX512-VNNI.
 */
export function linearInt8(g: Graph, x: Value, q: Value, scale: Value, bias: Value | null): Value {
  const inF = x.shape[x.shape.length - 1]!;
  const [qIn, outF] = q.shape as [number, number];
  if (q.dtype !== "int8" || q.shape.length !== 2)
    g.fail("DynamicQuantizeMatMul", `weight must be int8 [in, out], got ${q.dtype} [${q.shape}]`);
  if (qIn !== inF) g.fail("DynamicQuantizeMatMul", `input has ${inF} features, weight [${q.shape}] expects ${qIn}`);
  if (scale.shape.join() !== String(outF)) g.fail("DynamicQuantizeMatMul", `scale [${scale.shape}] must be [${outF}]`);
  return g.node(
    "DynamicQuantizeMatMul",
    [x, q, scale, null, bias],
    { dtype: "float32", shape: [...x.shape.slice(0, -1), outF] },
    {},
    "com.microsoft",
  );
}
