/**
 * The graph builder: symbolic tensors (`Value`) with dtype and static shape, checked when
 * each op is recorded, and named after the module path that created them
 * (`blocks.3.self_attn/MatMul_12`). Ops live in `ops/*.ts` as functions over a Graph.
 *
 * Shapes are static: reel compiles one graph per shape signature (video size, frame count),
 * which lets ONNX Runtime plan memory and fuse ops; sessions are cached per signature.
 */
import { ReelError } from "../errors.ts";
import type { DType } from "./dtype.ts";
import type { TypedData } from "./tensor.ts";

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export type AttrValue =
  | { readonly kind: "int"; readonly v: number }
  | { readonly kind: "float"; readonly v: number }
  | { readonly kind: "ints"; readonly v: readonly number[] }
  | { readonly kind: "floats"; readonly v: readonly number[] }
  | { readonly kind: "string"; readonly v: string };

export const attr = {
  int: (v: number): AttrValue => ({ kind: "int", v }),
  float: (v: number): AttrValue => ({ kind: "float", v }),
  ints: (v: readonly number[]): AttrValue => ({ kind: "ints", v }),
  floats: (v: readonly number[]): AttrValue => ({ kind: "floats", v }),
  string: (v: string): AttrValue => ({ kind: "string", v }),
};

export interface NodeRecord {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttrValue>>;
}

/** How a derived param is computed from a checkpoint tensor (see engine/quantize.ts). */
export type DeriveKind = "int8_t" | "int8_scale";

/** A weight declared by a model: bound to checkpoint bytes later by the weight binder. */
export interface ParamRecord {
  readonly key: string;
  readonly value: Value;
  readonly optional: boolean;
  /** Set for params computed from another tensor (e.g. int8-quantized weights), cached on disk. */
  readonly derive?: { readonly from: string; readonly fromShape: readonly number[]; readonly kind: DeriveKind };
}

/** A constant whose bytes are embedded in the graph (small tables, shapes, scalars). */
export interface ConstantRecord {
  readonly value: Value;
  readonly data: TypedData;
}

export class Graph {
  readonly nodes: NodeRecord[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly params = new Map<string, ParamRecord>();
  readonly constants: ConstantRecord[] = [];
  /** Opset imports; `com.microsoft` is added when a contrib op is used. */
  readonly opsets = new Map<string, number>([["", 21]]);
  private path: string[] = [];
  private counter = 0;
  private readonly scalarCache = new Map<string, Value>();
  private readonly names = new Set<string>();

  constructor(readonly name = "reel") {}

  /** The module path nodes are currently named under, e.g. `blocks.3.self_attn`. */
  get scopePath(): string {
    return this.path.join(".");
  }

  /** Runs `fn` with node names prefixed by `name` (dotted, like checkpoint keys). */
  scope<T>(name: string, fn: () => T): T {
    this.path.push(name);
    try {
      return fn();
    } finally {
      this.path.pop();
    }
  }

  /** Runs `fn` with node names under the absolute module path `path`. */
  atPath<T>(path: string, fn: () => T): T {
    const saved = this.path;
    this.path = path ? [path] : [];
    try {
      return fn();
    } finally {
      this.path = saved;
    }
  }

  private fresh(base: string): string {
    const prefix = this.scopePath;
    const name = `${prefix ? `${prefix}/` : ""}${base}_${this.counter++}`;
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name))
      throw new ReelError("E_SHAPE_MISMATCH", `graph ${this.name}: duplicate value name "${name}"`);
    this.names.add(name);
  }

  /** Throws a shape error naming the op and the module path. */
  fail(op: string, message: string): never {
    const where = this.scopePath ? ` at ${this.scopePath}` : "";
    throw new ReelError("E_SHAPE_MISMATCH", `${op}${where}: ${message}`, { details: { op, scope: this.scopePath } });
  }

  input(name: string, dtype: DType, shape: readonly number[]): Value {
    this.claim(name);
    const v: Value = { name, dtype, shape: [...shape] };
    this.inputs.push(v);
    return v;
  }

  /** Declares a graph output. Renames through an Identity node when `name` differs. */
  output(v: Value, name: string = v.name): Value {
    let out = v;
    if (name !== v.name) out = this.node("Identity", [v], { shape: v.shape, dtype: v.dtype, outputName: name });
    if (this.outputs.some((o) => o.name === out.name)) this.fail("output", `output "${name}" declared twice`);
    this.outputs.push(out);
    return out;
  }

  /** Declares a weight under its full checkpoint key. */
  param(key: string, shape: readonly number[], dtype: DType = "float32", optional = false): Value {
    const existing = this.params.get(key);
    if (existing !== undefined) {
      if (existing.value.shape.join() !== shape.join())
        this.fail("param", `"${key}" declared twice with different shapes`);
      return existing.value;
    }
    this.claim(key);
    const value: Value = { name: key, dtype, shape: [...shape] };
    this.params.set(key, { key, value, optional });
    return value;
  }

  /**
   * Declares a param computed from the checkpoint tensor `from` (shape `fromShape`) by `kind`.
   * Its key is `<from>#<kind>`; the weight check asks for `from`.
   */
  derivedParam(
    from: string,
    fromShape: readonly number[],
    kind: DeriveKind,
    shape: readonly number[],
    dtype: DType,
  ): Value {
    const key = `${from}#${kind}`;
    const existing = this.params.get(key);
    if (existing !== undefined) return existing.value;
    this.claim(key);
    const value: Value = { name: key, dtype, shape: [...shape] };
    this.params.set(key, { key, value, optional: false, derive: { from, fromShape: [...fromShape], kind } });
    return value;
  }

  /** Embeds a constant tensor in the graph. */
  constant(dtype: DType, shape: readonly number[], data: TypedData, base = "const"): Value {
    const name = this.fresh(base);
    this.claim(name);
    const value: Value = { name, dtype, shape: [...shape] };
    this.constants.push({ value, data });
    return value;
  }

  /** A rank-0 constant, cached per (dtype, value). */
  scalar(v: number, dtype: DType = "float32"): Value {
    const key = `${dtype}:${v}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    let data: TypedData;
    if (dtype === "float32") data = new Float32Array([v]);
    else if (dtype === "int64") data = new BigInt64Array([BigInt(v)]);
    else if (dtype === "int32") data = new Int32Array([v]);
    else this.fail("scalar", `unsupported scalar dtype ${dtype}`);
    const c = this.constant(dtype, [], data, "scalar");
    this.scalarCache.set(key, c);
    return c;
  }

  /** A 1-D int64 constant (shapes, axes, starts). */
  ints(values: readonly number[]): Value {
    return this.constant(
      "int64",
      [values.length],
      BigInt64Array.from(values, (x) => BigInt(x)),
      "ints",
    );
  }

  /** Records a node with one output whose dtype and shape the caller inferred. */
  node(
    opType: string,
    inputs: readonly (Value | null)[],
    out: { shape: readonly number[]; dtype: DType; outputName?: string },
    attributes: Record<string, AttrValue> = {},
    domain = "",
  ): Value {
    return this.nodeMulti(opType, inputs, [out], attributes, domain)[0]!;
  }

  /** Records a node with several outputs. A null input is an omitted optional input. */
  nodeMulti(
    opType: string,
    inputs: readonly (Value | null)[],
    outs: readonly { shape: readonly number[]; dtype: DType; outputName?: string }[],
    attributes: Record<string, AttrValue> = {},
    domain = "",
  ): Value[] {
    if (domain !== "" && !this.opsets.has(domain)) this.opsets.set(domain, 1);
    const nodeName = this.fresh(opType);
    const outputs = outs.map((o, i) => {
      const name = o.outputName ?? (outs.length === 1 ? nodeName : `${nodeName}:${i}`);
      this.claim(name);
      return { name, dtype: o.dtype, shape: [...o.shape] } as Value;
    });
    this.nodes.push({
      opType,
      domain,
      name: nodeName,
      inputs: inputs.map((v) => (v === null ? "" : v.name)),
      outputs: outputs.map((o) => o.name),
      attributes,
    });
    return outputs;
  }
}

/**
 * A weight scope, in the manner of candle's VarBuilder: `w.at("blocks", 3).at("self_attn")`
 * gives the key prefix `blocks.3.self_attn`, `param("q.weight", [d, d])` declares the
 * weight under its full checkpoint key, and `build(fn)` names the nodes built inside
 * after the same path.
 */
export class Scope {
  constructor(
    readonly g: Graph,
    readonly prefix = "",
  ) {}

  at(...parts: (string | number)[]): Scope {
    const tail = parts.map(String).join(".");
    return new Scope(this.g, this.prefix ? `${this.prefix}.${tail}` : tail);
  }

  key(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }

  param(name: string, shape: readonly number[], dtype: DType = "float32"): Value {
    return this.g.param(this.key(name), shape, dtype);
  }

  build<T>(fn: () => T): T {
    return this.g.atPath(this.prefix, fn);
  }
}

/** `dim(v, i)`: the size of axis i (negative counts from the end), checked. */
export function dim(v: Value, i: number): number {
  const ax = i < 0 ? v.shape.length + i : i;
  const d = v.shape[ax];
  if (d === undefined) throw new ReelError("E_SHAPE_MISMATCH", `axis ${i} out of range for ${v.name} [${v.shape}]`);
  return d;
}
