/** Convolution (1-D, 2-D, 3-D). */
import { attr, type Graph, type Value } from "../graph.ts";

export interface ConvOptions {
  readonly strides?: readonly number[];
  /** ONNX layout: [begin_0, ..., begin_n, end_0, ..., end_n]. */
  readonly pads?: readonly number[];
  readonly dilations?: readonly number[];
  readonly group?: number;
}

/**
 * [ONNX Conv](https://onnx.ai/onnx/operators/onnx__Conv.html): x [N, C, *spatial], w [M, C/group, *kernel].
 */
export function conv(g: Graph, x: Value, w: Value, b: Value | null, o: ConvOptions = {}): Value {
  const nd = x.shape.length - 2;
  if (nd < 1 || nd > 3) g.fail("Conv", `input must be [N, C, ...spatial] with 1-3 spatial dims, got [${x.shape}]`);
  if (w.shape.length !== nd + 2) g.fail("Conv", `weight [${w.shape}] does not match ${nd}-D input [${x.shape}]`);
  const group = o.group ?? 1;
  const strides = o.strides ?? new Array<number>(nd).fill(1);
  const dil = o.dilations ?? new Array<number>(nd).fill(1);
  const pads = o.pads ?? new Array<number>(2 * nd).fill(0);
  const c = x.shape[1]!;
  const m = w.shape[0]!;
  if (w.shape[1]! * group !== c)
    g.fail("Conv", `weight [${w.shape}] expects ${w.shape[1]! * group} channels, input has ${c}`);
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== m)) g.fail("Conv", `bias [${b.shape}] must be [${m}]`);
  const spatial: number[] = [];
  for (let i = 0; i < nd; i++) {
    const inS = x.shape[2 + i]! + pads[i]! + pads[nd + i]!;
    const k = (w.shape[2 + i]! - 1) * dil[i]! + 1;
    const out = Math.floor((inS - k) / strides[i]!) + 1;
    if (out < 1) g.fail("Conv", `kernel [${w.shape.slice(2)}] larger than padded input [${x.shape.slice(2)}]`);
    spatial.push(out);
  }
  return g.node(
    "Conv",
    b === null ? [x, w] : [x, w, b],
    { dtype: x.dtype, shape: [x.shape[0]!, m, ...spatial] },
    {
      strides: attr.ints(strides),
      pads: attr.ints(pads),
      dilations: attr.ints(dil),
      group: attr.int(group),
      kernel_shape: attr.ints(w.shape.slice(2)),
    },
  );
}
