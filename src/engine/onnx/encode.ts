/**
 * Serialises a Graph to an ONNX ModelProto with the onnx-proto (protobufjs) schema.
 * Weights are never embedded: each param becomes an initializer with
 * `data_location = EXTERNAL` pointing at its bytes inside a checkpoint file.
 */
import { createRequire } from "node:module";
import { ReelError } from "../../errors.ts";
import { DTYPES } from "../dtype.ts";
import type { AttrValue, Graph, Value } from "../graph.ts";

// onnx-proto is CommonJS; its d.ts declares `export namespace onnx`.
const require = createRequire(import.meta.url);
const { onnx } = require("onnx-proto") as typeof import("onnx-proto");

/** Where a param's bytes live: a path relative to the .onnx file's folder, and a byte range. */
export interface ExternalRef {
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function encodeAttr(name: string, a: AttrValue): import("onnx-proto").onnx.IAttributeProto {
  switch (a.kind) {
    case "int":
      return { name, type: ATTR_TYPE.int, i: a.v };
    case "float":
      return { name, type: ATTR_TYPE.float, f: a.v };
    case "ints":
      return { name, type: ATTR_TYPE.ints, ints: [...a.v] };
    case "floats":
      return { name, type: ATTR_TYPE.floats, floats: [...a.v] };
    case "string":
      return { name, type: ATTR_TYPE.string, s: new TextEncoder().encode(a.v) };
  }
}

function valueInfo(v: Value): import("onnx-proto").onnx.IValueInfoProto {
  return {
    name: v.name,
    type: { tensorType: { elemType: DTYPES[v.dtype].onnx, shape: { dim: v.shape.map((d) => ({ dimValue: d })) } } },
  };
}

export function encodeModel(g: Graph, external: ReadonlyMap<string, ExternalRef>): Uint8Array {
  const initializer: import("onnx-proto").onnx.ITensorProto[] = [];
  for (const p of g.params.values()) {
    const ref = external.get(p.key);
    if (ref === undefined)
      throw new ReelError("E_WEIGHTS_MISMATCH", `graph ${g.name}: param "${p.key}" has no bound data`);
    initializer.push({
      name: p.key,
      dataType: DTYPES[p.value.dtype].onnx,
      dims: [...p.value.shape],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: "location", value: ref.location },
        { key: "offset", value: String(ref.offset) },
        { key: "length", value: String(ref.length) },
      ],
    });
  }
  for (const c of g.constants) {
    initializer.push({
      name: c.value.name,
      dataType: DTYPES[c.value.dtype].onnx,
      dims: [...c.value.shape],
      rawData: new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength),
    });
  }
  const graph: import("onnx-proto").onnx.IGraphProto = {
    name: g.name,
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: [...n.inputs],
      output: [...n.outputs],
      attribute: Object.entries(n.attributes).map(([k, v]) => encodeAttr(k, v)),
    })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer,
  };
  const model: import("onnx-proto").onnx.IModelProto = {
    irVersion: 10,
    producerName: "reel",
    opsetImport: [...g.opsets.entries()].map(([domain, version]) => ({ domain, version })),
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
