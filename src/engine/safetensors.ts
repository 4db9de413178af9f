/**
 * Strict safetensors reader and writer.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`,
 * then the data section; offsets are relative to the start of the data section.
 *
 * Every check runs before a tensor is touched, so a truncated or hostile file gives a
 * ReelError naming the file and the tensor, never a crash, a huge allocation or a hang.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { ReelError } from "../errors.ts";
import { DTYPES, type DType, SAFETENSORS_DTYPES, safetensorsName } from "./dtype.ts";
import { bf16ToF32, f16ToF32, f8e4m3fnToF32, type HostTensor, numel, type TypedData } from "./tensor.ts";

/** Headers above this are refused (the reference implementation uses the same bound). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface SafetensorsHeader {
  readonly path: string;
  readonly fileSize: number;
  readonly dataStart: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorEntry>;
}

function invalid(path: string, msg: string, tensor?: string): ReelError {
  const where = tensor === undefined ? path : `${path}, tensor "${tensor}"`;
  return new ReelError("E_SAFETENSORS_INVALID", `${where}: ${msg}`, {
    details: tensor === undefined ? { path } : { path, tensor },
  });
}

function readExact(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw invalid(path, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** Parses and validates the header. Reads only the first 8 + N bytes. */
export function readHeader(path: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new ReelError("E_IO", `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize < 8) throw invalid(path, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
    const lenBuf = new Uint8Array(8);
    readExact(fd, lenBuf, 0, path);
    const n = new DataView(lenBuf.buffer).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER_BYTES))
      throw invalid(path, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    const headerLen = Number(n);
    if (8 + headerLen > fileSize)
      throw invalid(path, `header length ${headerLen} runs past the end of the ${fileSize}-byte file (truncated?)`);
    const headerBuf = new Uint8Array(headerLen);
    readExact(fd, headerBuf, 8, path);
    return parseHeader(path, headerBuf, fileSize);
  } finally {
    closeSync(fd);
  }
}

function parseHeader(path: string, headerBuf: Uint8Array, fileSize: number): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBuf));
  } catch (e) {
    throw invalid(path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw invalid(path, "header is not a JSON object");
  const dataStart = 8 + headerBuf.length;
  const dataLen = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        throw invalid(path, "__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw invalid(path, `__metadata__ value for "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (name.length === 0) throw invalid(path, "empty tensor name");
    if (typeof raw !== "object" || raw === null) throw invalid(path, "entry is not an object", name);
    const { dtype, shape, data_offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== "string" || !(dtype in SAFETENSORS_DTYPES))
      throw invalid(
        path,
        `dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPES).join(", ")}`,
        name,
      );
    const dt = SAFETENSORS_DTYPES[dtype]!;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw invalid(path, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    if (
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)
    )
      throw invalid(path, `data_offsets ${JSON.stringify(data_offsets)} is not [begin, end]`, name);
    const [begin, end] = data_offsets as [number, number];
    if (begin > end) throw invalid(path, `data_offsets begin ${begin} > end ${end}`, name);
    if (end > dataLen)
      throw invalid(path, `data_offsets end ${end} is past the data section (${dataLen} bytes; truncated file?)`, name);
    const expected = numel(shape as number[]) * DTYPES[dt].bytes;
    if (end - begin !== expected)
      throw invalid(
        path,
        `byte length ${end - begin} does not match shape ${JSON.stringify(shape)} x ${dtype} = ${expected} bytes`,
        name,
      );
    tensors.set(name, {
      name,
      dtype: dt,
      shape: shape as number[],
      offset: dataStart + begin,
      byteLength: end - begin,
    });
  }
  // Overlap check: sort by offset, each must end before the next begins.
  const sorted = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.offset < prev.offset + prev.byteLength)
      throw invalid(path, `data overlaps tensor "${prev.name}"`, cur.name);
  }
  return { path, fileSize, dataStart, metadata, tensors };
}

/** Reads one tensor's bytes (a copy) as its stored dtype. F16/BF16 come back as Uint16Array bits. */
export function readTensorRaw(header: SafetensorsHeader, name: string): HostTensor {
  const entry = header.tensors.get(name);
  if (entry === undefined) throw invalid(header.path, "no such tensor", name);
  const bytes = new Uint8Array(entry.byteLength);
  const fd = openSync(header.path, "r");
  try {
    readExact(fd, bytes, entry.offset, header.path);
  } finally {
    closeSync(fd);
  }
  return { dtype: entry.dtype, dims: entry.shape, data: viewAs(entry.dtype, bytes.buffer) };
}

/** Reads one tensor, widening F16/BF16/F8_E4M3 to float32. */
export function readTensor(header: SafetensorsHeader, name: string): HostTensor {
  const t = readTensorRaw(header, name);
  if (t.dtype === "float16") return { dtype: "float32", dims: t.dims, data: f16ToF32(t.data as Uint16Array) };
  if (t.dtype === "bfloat16") return { dtype: "float32", dims: t.dims, data: bf16ToF32(t.data as Uint16Array) };
  if (t.dtype === "float8e4m3fn") return { dtype: "float32", dims: t.dims, data: f8e4m3fnToF32(t.data as Uint8Array) };
  return t;
}

function viewAs(dtype: DType, buf: ArrayBuffer): TypedData {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int8":
      return new Int8Array(buf);
    case "uint8":
    case "bool":
    case "float8e4m3fn":
      return new Uint8Array(buf);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buf);
  }
}

/** Loads every tensor of a (small) file. For fixtures and tests; models bind weights without loading. */
export function loadAll(path: string): { header: SafetensorsHeader; tensors: Map<string, HostTensor> } {
  const header = readHeader(path);
  const tensors = new Map<string, HostTensor>();
  for (const name of header.tensors.keys()) tensors.set(name, readTensor(header, name));
  return { header, tensors };
}

export interface TensorToWrite {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedData;
}

/** A tensor to be written by `writeSafetensorsStream`: its data is produced when its turn comes. */
export interface StreamEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * Writes a safetensors file one tensor at a time (so multi-GB files never sit in memory),
 * atomically (a temporary file renamed into place). `produce(entry, i)` returns each tensor's
 * data in order. The header is space-padded so the data section starts 8-byte aligned.
 * Returns the size of the data section.
 */
export function writeSafetensorsStream(
  path: string,
  entries: readonly StreamEntry[],
  produce: (entry: StreamEntry, index: number) => TypedData,
  metadata?: Record<string, string>,
): number {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  for (const e of entries) {
    const bytes = numel(e.shape) * DTYPES[e.dtype].bytes;
    header[e.name] = { dtype: safetensorsName(e.dtype), shape: e.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  json += " ".repeat((8 - (enc.encode(json).length % 8)) % 8);
  const hb = enc.encode(json);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(hb.length), true);
    writeSync(fd, len);
    writeAll(fd, hb);
    entries.forEach((e, i) => {
      const data = produce(e, i);
      const want = numel(e.shape) * DTYPES[e.dtype].bytes;
      if (data.byteLength !== want)
        throw new ReelError(
          "E_INPUT_INVALID",
          `writeSafetensors ${path}: tensor "${e.name}" has ${data.byteLength} bytes, dims ${JSON.stringify(e.shape)} x ${e.dtype} need ${want}`,
        );
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    });
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return offset;
}

/** Writes a safetensors file from tensors in memory. */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const list: [string, TensorToWrite][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, TensorToWrite>);
  writeSafetensorsStream(
    path,
    list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.dims })),
    (_e, i) => list[i]![1].data,
    metadata,
  );
}

function writeAll(fd: number, bytes: Uint8Array): void {
  // writeSync may write less than asked for large buffers; loop in 64 MiB pieces.
  const step = 64 * 1024 * 1024;
  for (let off = 0; off < bytes.length; ) {
    off += writeSync(fd, bytes, off, Math.min(step, bytes.length - off));
  }
}
