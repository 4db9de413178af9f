/**
 * Restricted reader of PyTorch checkpoints (`.pth`/`.pt` in the zip format torch.save writes
 * since 1.6), for the official Wan files (`models_t5_umt5-xxl-enc-bf16.pth`,
 * `Wan2.1_VAE.pth`, `Wan2.2_VAE.pth`, `models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth`).
 *
 * Reference: pytorch/pytorch torch/serialization.py (`_save`: `persistent_id` returns
 * ('storage', storage_type, key, location, numel); storages are zip entries
 * `<archive>/data/<key>`; the object graph is `<archive>/data.pkl`, pickle protocol 2) and
 * torch/_utils.py (`_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata])`, `_rebuild_parameter(data, requires_grad, backward_hooks)`).
 *
 * No code from the file runs: the pickle may only name the globals in ALLOWED_GLOBALS, each
 * implemented here. The result is a `SafetensorsHeader` whose entries point at the tensor
 * bytes inside the zip (absolute offsets), so weights.ts and compile.ts bind them zero-copy
 * like safetensors tensors.
 *
 * Deviations: the legacy (pre-1.6) format, TorchScript archives and big-endian files are
 * refused; only contiguous row-major tensors are representable (a non-contiguous tensor is
 * refused, naming it); containers are flattened with "." (`{"model": {"w": t}}` gives
 * "model.w"; list items by index); non-tensor leaves (numbers, strings, booleans, None)
 * go to `metadata` as JSON, other objects are refused.
 */
import { DTYPES, type DType } from "./dtype.ts";
import { describe, PyCallable, PyDict, PyTuple, unpickle } from "./pickle.ts";
import type { SafetensorsHeader, TensorEntry } from "./safetensors.ts";
import { numel } from "./tensor.ts";
import { checkpointError, entryDataOffset, readEntry, readExactAt, readZipDirectory, withFile } from "./zip.ts";

/** True for the file names this reader handles. */
export function isPthPath(path: string): boolean {
  return /\.(pth|pt)$/i.test(path);
}

/** data.pkl above this is refused (a state dict's pickle is ~100 bytes per tensor). */
export const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

/** `torch.<name>` storage classes (torch.save pickles typed storages by these names). */
const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: "float32",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  DoubleStorage: "float64",
  LongStorage: "int64",
  IntStorage: "int32",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

export const ALLOWED_GLOBALS: readonly string[] = [
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
];

class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    /** Absolute offset of the storage's first byte in the file. */
    readonly dataOffset: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
  ) {}
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function counts(v: unknown): number[] | null {
  return v instanceof PyTuple && v.items.every(isCount) ? (v.items as number[]) : null;
}

/** Reads the tensor index of a torch.save zip checkpoint. Reads the central directory and data.pkl only. */
export function readPthHeader(path: string): SafetensorsHeader {
  return withFile(path, (fd, fileSize) => {
    // The legacy (pre-1.6) format is a bare pickle stream: it starts with the PROTO opcode.
    if (fileSize > 0 && readExactAt(fd, 1, 0, path)[0] === 0x80)
      throw checkpointError(
        path,
        "legacy (pre-1.6) torch.save format is not supported; re-save it with torch >= 1.6 or convert it to safetensors",
      );
    const zip = readZipDirectory(fd, fileSize, path);
    const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length !== 1)
      throw checkpointError(
        path,
        pkls.length === 0
          ? "no <archive>/data.pkl entry: not a torch.save checkpoint"
          : `several data.pkl entries (${pkls.join(", ")})`,
      );
    const pklName = pkls[0]!;
    const prefix = pklName.slice(0, -"data.pkl".length);
    if (zip.entries.has(`${prefix}constants.pkl`))
      throw checkpointError(path, "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint");
    const order = zip.entries.get(`${prefix}byteorder`);
    if (order !== undefined) {
      const bo = Buffer.from(readEntry(fd, zip, order, 16)).toString("latin1");
      if (bo !== "little") throw checkpointError(path, `byte order "${bo}" is not supported (little-endian only)`);
    }

    const storages = new Map<string, StorageRef>();
    const persistentLoad = (pid: unknown): StorageRef => {
      const t = pid instanceof PyTuple ? pid.items : [];
      const [tag, type, key, location, n] = t;
      if (t.length !== 5 || tag !== "storage" || !(type instanceof StorageType))
        throw checkpointError(path, `persistent id ${describe(pid)} is not ('storage', type, key, location, numel)`);
      if (typeof key !== "string" || typeof location !== "string" || !isCount(n))
        throw checkpointError(path, `storage persistent id has a bad key, location or numel`);
      const seen = storages.get(key);
      if (seen !== undefined) {
        if (seen.dtype !== type.dtype || seen.numel !== n)
          throw checkpointError(path, `storage "${key}" is referenced as ${type.name} and as another type or size`);
        return seen;
      }
      const entry = zip.entries.get(`${prefix}data/${key}`);
      if (entry === undefined) throw checkpointError(path, `storage "${key}" has no zip entry ${prefix}data/${key}`);
      const bytes = n * DTYPES[type.dtype].bytes;
      if (entry.size !== bytes)
        throw checkpointError(
          path,
          `storage "${key}" is ${entry.size} bytes, but ${n} x ${type.dtype} needs ${bytes} (truncated or corrupt)`,
        );
      const ref = new StorageRef(key, type.dtype, n, entryDataOffset(fd, zip, entry));
      storages.set(key, ref);
      return ref;
    };
    const findGlobal = (module: string, name: string): unknown => {
      const full = `${module}.${name}`;
      if (full === "collections.OrderedDict") return orderedDict(path);
      if (full === "torch._utils._rebuild_tensor_v2") return rebuildTensor(path);
      if (full === "torch._utils._rebuild_parameter") return rebuildParameter(path);
      const dtype = module === "torch" ? STORAGE_DTYPES[name] : undefined;
      if (dtype !== undefined && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(full, dtype);
      throw checkpointError(
        path,
        `global ${full} is not allowed: reel never executes code from a model file, and a state dict needs only ${ALLOWED_GLOBALS.join(", ")}`,
        { global: full },
      );
    };
    const pickle = readEntry(fd, zip, zip.entries.get(pklName)!, MAX_PICKLE_BYTES);
    const root = unpickle(pickle, { where: `${path}: ${pklName}`, findGlobal, persistentLoad });
    if (!(root instanceof PyDict))
      throw checkpointError(path, `the checkpoint holds a ${describe(root)}, not a dict of tensors`);

    const refs = new Map<string, TensorRef>();
    const metadata: Record<string, string> = {};
    flatten(path, root, "", refs, metadata, new Set());
    const tensors = new Map<string, TensorEntry>();
    for (const [name, t] of refs) tensors.set(name, toEntry(path, name, t));
    let dataStart = fileSize;
    for (const s of storages.values()) dataStart = Math.min(dataStart, s.dataOffset);
    return { path, fileSize, dataStart: storages.size ? dataStart : 0, metadata, tensors };
  });
}

function orderedDict(path: string): PyCallable {
  return new PyCallable("collections.OrderedDict", (args) => {
    if (args.length !== 0) throw checkpointError(path, "collections.OrderedDict is called with arguments");
    return new PyDict();
  });
}

function rebuildTensor(path: string): PyCallable {
  return new PyCallable("torch._utils._rebuild_tensor_v2", (args) => {
    const [storage, offset, size, stride, requiresGrad, hooks, meta] = args;
    const shape = counts(size);
    const strides = counts(stride);
    if (
      (args.length !== 6 && args.length !== 7) ||
      !(storage instanceof StorageRef) ||
      !isCount(offset) ||
      shape === null ||
      strides === null ||
      strides.length !== shape.length ||
      typeof requiresGrad !== "boolean" ||
      !(hooks instanceof PyDict) ||
      (args.length === 7 && !(meta instanceof PyDict))
    )
      throw checkpointError(
        path,
        `_rebuild_tensor_v2 expects (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]), got (${args.map(describe).join(", ")})`,
      );
    return new TensorRef(storage, offset, shape, strides);
  });
}

function rebuildParameter(path: string): PyCallable {
  return new PyCallable("torch._utils._rebuild_parameter", (args) => {
    const [data, requiresGrad, hooks] = args;
    if (
      args.length !== 3 ||
      !(data instanceof TensorRef) ||
      typeof requiresGrad !== "boolean" ||
      !(hooks instanceof PyDict)
    )
      throw checkpointError(
        path,
        `_rebuild_parameter expects (tensor, requires_grad, backward_hooks), got (${args.map(describe).join(", ")})`,
      );
    return data;
  });
}

const MAX_DEPTH = 64;

/** Walks nested dicts/lists/tuples; tensors into `refs` under dotted names, plain leaves into `metadata`. */
function flatten(
  path: string,
  v: unknown,
  name: string,
  refs: Map<string, TensorRef>,
  metadata: Record<string, string>,
  open: Set<unknown>,
): void {
  const child = (k: unknown) => (name === "" ? String(k) : `${name}.${String(k)}`);
  if (v instanceof TensorRef) {
    if (refs.has(name)) throw checkpointError(path, `two tensors flatten to the same name "${name}"`);
    refs.set(name, v);
    return;
  }
  if (v instanceof PyDict || v instanceof PyTuple || Array.isArray(v)) {
    if (open.has(v)) throw checkpointError(path, `the object at "${name}" contains itself`);
    if (open.size >= MAX_DEPTH) throw checkpointError(path, `containers nest deeper than ${MAX_DEPTH} at "${name}"`);
    open.add(v);
    const items = v instanceof PyDict ? v.items : (v instanceof PyTuple ? v.items : v).entries();
    for (const [k, x] of items) flatten(path, x, child(k), refs, metadata, open);
    open.delete(v);
    return;
  }
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
    metadata[name] = JSON.stringify(v);
    return;
  }
  if (typeof v === "bigint") {
    metadata[name] = v.toString();
    return;
  }
  throw checkpointError(path, `"${name}" holds a ${describe(v)}, which is neither a tensor nor plain data`);
}

/** Validates one tensor against its storage and gives its absolute byte range. */
function toEntry(path: string, name: string, t: TensorRef): TensorEntry {
  const fail = (msg: string) => checkpointError(path, `tensor "${name}" ${msg}`, { tensor: name });
  const { storage, shape, strides } = t;
  const n = numel(shape);
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (n > 0 && strides[d] !== expected)
      throw fail(
        `is not contiguous (shape [${shape.join(", ")}], strides [${strides.join(", ")}]); only row-major tensors can be bound without a copy: save it with .contiguous()`,
      );
    expected *= shape[d]!;
  }
  if (!Number.isSafeInteger(n) || t.storageOffset + n > storage.numel)
    throw fail(
      `needs elements [${t.storageOffset}, ${t.storageOffset + n}) of storage "${storage.key}", which holds ${storage.numel}`,
    );
  const itemsize = DTYPES[storage.dtype].bytes;
  return {
    name,
    dtype: storage.dtype,
    shape,
    offset: storage.dataOffset + t.storageOffset * itemsize,
    byteLength: n * itemsize,
  };
}
