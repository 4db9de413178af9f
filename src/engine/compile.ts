/**
 * Compiles a Graph plus a WeightMap into an ONNX Runtime session, with two caches:
 *
 * - on disk: `<cacheDir>/graphs/<hash>.onnx`, keyed by a hash of the graph and the identity
 *   (path, size, mtime) of the weight files. Weights are not copied: the .onnx refers to them
 *   as external data through hard links in `<cacheDir>/graphs/links/` (ORT only accepts
 *   external data inside the .onnx file's folder, and rejects symlinks that leave it).
 *   F16/BF16 tensors are converted to F32 once into `links/conv-*.safetensors`.
 * - in process: one session per (graph hash, device, threads).
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ReelError } from "../errors.ts";
import { type DType, DTYPES } from "./dtype.ts";
import type { DeriveKind, Graph, ParamRecord } from "./graph.ts";
import { type ExternalRef, encodeModel } from "./onnx/encode.ts";
import type { InferenceSession, Runtime, SessionOptions } from "./runtime.ts";
import { deriveAll } from "./quantize.ts";
import { int8WeightMax } from "./cpu.ts";
import { readHeader, readTensor, type SafetensorsHeader, writeSafetensorsStream } from "./safetensors.ts";
import type { TypedData } from "./tensor.ts";
import type { WeightMap } from "./weights.ts";

export function defaultCacheDir(): string {
  return process.env.REEL_CACHE_DIR ?? join(homedir(), ".cache", "reel");
}

export interface CompileOptions extends SessionOptions {
  readonly runtime: Runtime;
  readonly cacheDir?: string;
}

function sha(s: string | Uint8Array): string {
  return createHash("sha256").update(s).digest("hex");
}

function fileIdentity(path: string): string {
  const st = statSync(path);
  return `${resolve(path)}|${st.size}|${st.mtimeMs}`;
}

/** A hard link (or, across file systems, a copy) of `path` inside `linksDir`, refreshed when the file changes. */
function linkInto(linksDir: string, path: string): string {
  const abs = resolve(path);
  const name = `${sha(abs).slice(0, 24)}.safetensors`;
  const target = join(linksDir, name);
  const src = statSync(abs);
  if (existsSync(target)) {
    const cur = statSync(target);
    if (cur.ino === src.ino && cur.dev === src.dev) return name;
    if (cur.size === src.size && cur.mtimeMs >= src.mtimeMs && cur.nlink === 1) return name; // an up-to-date copy
    unlinkSync(target);
  }
  try {
    linkSync(abs, target);
  } catch {
    // Different file system or no link permission: copy once (the only case that duplicates bytes on disk).
    process.emitWarning(`reel: cannot hard-link ${abs} into ${linksDir}; copying it once`);
    copyFileSync(abs, `${target}.tmp`);
    renameSync(`${target}.tmp`, target);
  }
  return name;
}

/** Stored dtypes bound as float32 through a converted copy (the CPU kernels need float32). */
const WIDENED: ReadonlySet<DType> = new Set(["float16", "bfloat16", "float8e4m3fn"]);

/** Converts every F16/BF16/F8 tensor of `file` to F32 into a cached safetensors file; returns its header. */
function convertedCopy(linksDir: string, file: SafetensorsHeader): SafetensorsHeader {
  const target = join(linksDir, `conv-${sha(fileIdentity(file.path)).slice(0, 24)}.safetensors`);
  if (existsSync(target)) return readHeader(target);
  const todo = [...file.tensors.values()].filter((t) => WIDENED.has(t.dtype));
  writeSafetensorsStream(
    target,
    todo.map((t) => ({ name: t.name, dtype: "float32", shape: t.shape })),
    (e) => readTensor(file, e.name).data, // readTensor widens F16/BF16 to float32
  );
  return readHeader(target);
}

/**
 * Computes the graph's derived params (e.g. int8 weights) into one cached safetensors file,
 * keyed by the sources' identities and the transforms; returns its header.
 */
function derivedFile(linksDir: string, derived: readonly ParamRecord[], weights: WeightMap): SafetensorsHeader {
  const ids = derived.map((p) => {
    const w = weights.get(p.derive!.from);
    if (w === undefined)
      throw new ReelError("E_WEIGHTS_MISMATCH", `no weight "${p.derive!.from}" to derive "${p.key}" from`);
    return `${p.key}@${fileIdentity(w.file.path)}@${w.entry.offset}`;
  });
  const qmax = int8WeightMax();
  ids.push(`int8-weight-max=${qmax}`); // the range depends on the CPU (engine/cpu.ts)
  const target = join(linksDir, `derived-${sha(ids.sort().join("\n")).slice(0, 24)}.safetensors`);
  if (existsSync(target)) return readHeader(target);
  // Both kinds of one source come from one read of it (params are sorted by source).
  let cacheKey = "";
  let cache: Record<DeriveKind, TypedData> | null = null;
  writeSafetensorsStream(
    target,
    derived.map((p) => ({ name: p.key, dtype: p.value.dtype, shape: p.value.shape })),
    (_e, i) => {
      const { from, kind } = derived[i]!.derive!;
      if (cacheKey !== from || cache === null) {
        const w = weights.get(from)!;
        cache = deriveAll(readTensor(w.file, w.entry.name).data as Float32Array, w.entry.shape, qmax);
        cacheKey = from;
      }
      return cache[kind];
    },
  );
  return readHeader(target);
}

const sessions = new Map<string, Promise<InferenceSession>>();

/** Builds (or finds) the .onnx for `g` bound to `weights`, and opens a session on it. */
export async function compile(g: Graph, weights: WeightMap, o: CompileOptions): Promise<InferenceSession> {
  const path = prepareModelFile(g, weights, o.cacheDir ?? defaultCacheDir());
  const key = `${path}|${o.device}|${o.threads ?? 0}|${o.keepWeightsMapped ?? true}|${o.disableConstantFolding ?? false}|${o.memArena ?? false}`;
  let s = sessions.get(key);
  if (s === undefined) {
    s = o.runtime.createSession(path, o);
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

/** Drops one session from the in-process cache and frees its memory (e.g. the text encoder before sampling). */
export async function releaseSession(session: InferenceSession): Promise<void> {
  for (const [k, p] of sessions) if ((await p.catch(() => null)) === session) sessions.delete(k);
  await session.release();
}

/** Drops every compiled session from the in-process cache and frees them. */
export async function releaseAll(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) await (await s.catch(() => null))?.release();
}

/** Writes `<cacheDir>/graphs/<hash>.onnx` if absent; returns its path. */
export function prepareModelFile(g: Graph, weights: WeightMap, cacheDir: string): string {
  const dir = join(cacheDir, "graphs");
  const linksDir = join(dir, "links");
  mkdirSync(linksDir, { recursive: true });
  const linked = new Map<string, string>();
  const converted = new Map<string, SafetensorsHeader>();
  const refs = new Map<string, ExternalRef>();
  const identities: string[] = [];
  const derived = [...g.params.values()]
    .filter((p) => p.derive !== undefined)
    .sort((a, b) => (a.derive!.from < b.derive!.from ? -1 : a.derive!.from > b.derive!.from ? 1 : 0));
  const derivedHeader = derived.length > 0 ? derivedFile(linksDir, derived, weights) : null;
  for (const p of g.params.values()) {
    const w = p.derive ? { file: derivedHeader!, entry: derivedHeader!.tensors.get(p.key)! } : weights.get(p.key);
    if (w === undefined) throw new ReelError("E_WEIGHTS_MISMATCH", `graph ${g.name}: no weight for "${p.key}"`);
    if (w.entry.shape.join() !== p.value.shape.join())
      throw new ReelError(
        "E_WEIGHTS_MISMATCH",
        `"${p.key}": checkpoint shape [${w.entry.shape}] differs from the declared [${p.value.shape}]`,
      );
    let file = w.file;
    let entry = w.entry;
    if (entry.dtype !== p.value.dtype) {
      if (p.value.dtype !== "float32" || !WIDENED.has(entry.dtype))
        throw new ReelError("E_WEIGHTS_MISMATCH", `"${p.key}": cannot use a ${entry.dtype} tensor as ${p.value.dtype}`);
      let conv = converted.get(file.path);
      if (conv === undefined) {
        conv = convertedCopy(linksDir, file);
        converted.set(file.path, conv);
      }
      file = conv;
      entry = conv.tensors.get(entry.name)!;
    }
    let loc = linked.get(file.path);
    if (loc === undefined) {
      loc = file.path.startsWith(linksDir) ? file.path.slice(linksDir.length + 1) : linkInto(linksDir, file.path);
      linked.set(file.path, loc);
      identities.push(`${loc}=${fileIdentity(file.path)}`);
    }
    if (entry.byteLength !== DTYPES[p.value.dtype].bytes * p.value.shape.reduce((a, b) => a * b, 1))
      throw new ReelError("E_WEIGHTS_MISMATCH", `"${p.key}": byte length does not match its shape`);
    refs.set(p.key, { location: `links/${loc}`, offset: entry.offset, length: entry.byteLength });
  }
  const bytes = encodeModel(g, refs);
  const hash = sha(Buffer.concat([Buffer.from(bytes), Buffer.from(identities.sort().join("\n"))])).slice(0, 32);
  const path = join(dir, `${hash}.onnx`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  return path;
}
