/**
 * A minimal reader of the ZIP container that torch.save writes (PyTorch >= 1.6,
 * caffe2/serialize/inline_container.cc, miniz): every entry STORED (uncompressed), data
 * 64-byte aligned, ZIP64 records when the archive is past 4 GiB.
 *
 * Reads only the end-of-central-directory records and the central directory; an entry's
 * data offset is computed from its local header on demand, so an 11 GB checkpoint is never
 * read into memory. Format: PKWARE APPNOTE.TXT 6.3 (sections 4.3.6-4.3.16, 4.5.3).
 *
 * Deviations from a general ZIP reader (on purpose): multi-disk archives, encryption and
 * compressed entries are refused; only the entries actually used are checked against
 * their local headers and the file size.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ReelError } from "../errors.ts";

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate, ... */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipDirectory {
  readonly path: string;
  readonly fileSize: number;
  readonly entries: ReadonlyMap<string, ZipEntry>;
}

/** Central directories above this are refused (torch writes ~100 bytes per tensor). */
export const MAX_CENTRAL_DIRECTORY_BYTES = 256 * 1024 * 1024;

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

export function checkpointError(path: string, msg: string, details: Record<string, unknown> = {}): ReelError {
  return new ReelError("E_CHECKPOINT_INVALID", `${path}: ${msg}`, { details: { path, ...details } });
}

export function readExactAt(fd: number, length: number, position: number, path: string): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw checkpointError(path, `unexpected end of file at byte ${position + done} (truncated?)`);
    done += n;
  }
  return buf;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A u64 that must fit a JS safe integer (any real file does). */
function u64(dv: DataView, at: number, path: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw checkpointError(path, `zip ${what} ${v} is out of range`);
  return Number(v);
}

/** Opens `path`, runs `fn` on the descriptor, closes it; open failures are E_IO. */
export function withFile<T>(path: string, fn: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new ReelError("E_IO", `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return fn(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

interface DirLocation {
  count: number;
  size: number;
  offset: number;
  /** Where the directory must end (start of the ZIP64 or classic end record). */
  end: number;
}

function locateDirectory(fd: number, fileSize: number, path: string): DirLocation {
  const notZip = "no zip end-of-central-directory record: not a torch.save (>= 1.6) zip checkpoint, or truncated";
  if (fileSize < 22) throw checkpointError(path, `${notZip} (${fileSize} bytes)`);
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tailStart = fileSize - tailLen;
  const tail = readExactAt(fd, tailLen, tailStart, path);
  const dv = view(tail);
  let at = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (dv.getUint32(i, true) === EOCD_SIG && i + 22 + dv.getUint16(i + 20, true) === tailLen) {
      at = i;
      break;
    }
  }
  if (at < 0) throw checkpointError(path, notZip);
  const eocd = tailStart + at;
  const disk = dv.getUint16(at + 4, true);
  const cdDisk = dv.getUint16(at + 6, true);
  let count = dv.getUint16(at + 10, true);
  let size = dv.getUint32(at + 12, true);
  let offset = dv.getUint32(at + 16, true);
  let end = eocd;
  // ZIP64: a 20-byte locator right before the classic record points at the ZIP64 record,
  // which then holds the real values (the classic fields saturate at 0xffff / 0xffffffff).
  const loc = eocd >= 20 ? view(readExactAt(fd, 20, eocd - 20, path)) : null;
  if (loc !== null && loc.getUint32(0, true) === ZIP64_LOCATOR_SIG) {
    const recAt = u64(loc, 8, path, "zip64 record offset");
    if (recAt + 56 > eocd - 20) throw checkpointError(path, `zip64 end record offset ${recAt} is out of range`);
    const rec = view(readExactAt(fd, 56, recAt, path));
    if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG)
      throw checkpointError(path, `no zip64 end-of-central-directory record at byte ${recAt}`);
    if (rec.getUint32(16, true) !== 0 || rec.getUint32(20, true) !== 0)
      throw checkpointError(path, "multi-disk zip archives are not supported");
    count = u64(rec, 32, path, "entry count");
    size = u64(rec, 40, path, "central directory size");
    offset = u64(rec, 48, path, "central directory offset");
    end = recAt;
  } else if (count === 0xffff || size === U32_MAX || offset === U32_MAX) {
    throw checkpointError(path, "zip64 end-of-central-directory locator is missing");
  } else if (disk !== 0 || cdDisk !== 0) {
    throw checkpointError(path, "multi-disk zip archives are not supported");
  }
  if (size > MAX_CENTRAL_DIRECTORY_BYTES)
    throw checkpointError(
      path,
      `zip central directory of ${size} bytes exceeds the ${MAX_CENTRAL_DIRECTORY_BYTES}-byte limit`,
    );
  if (offset + size > end)
    throw checkpointError(
      path,
      `zip central directory [${offset}, ${offset + size}) runs past its end record at ${end}`,
    );
  return { count, size, offset, end };
}

/** Reads the central directory of the zip open as `fd` (`path` names it in errors). */
export function readZipDirectory(fd: number, fileSize: number, path: string): ZipDirectory {
  const loc = locateDirectory(fd, fileSize, path);
  const cd = readExactAt(fd, loc.size, loc.offset, path);
  const dv = view(cd);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < loc.count; i++) {
    if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL_SIG)
      throw checkpointError(path, `zip central directory entry ${i} of ${loc.count} is malformed`);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) throw checkpointError(path, `zip central directory entry ${i} runs past the directory`);
    let name: string;
    try {
      name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw checkpointError(path, `zip entry ${i} has a name that is not UTF-8`);
    }
    let size = dv.getUint32(p + 24, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (size === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
      // ZIP64 extended information (header id 1): only the fields that overflowed, in this order.
      const extra = new DataView(cd.buffer, cd.byteOffset + p + 46 + nameLen, extraLen);
      let found = false;
      for (let q = 0; q + 4 <= extraLen; ) {
        const id = extra.getUint16(q, true);
        const len = extra.getUint16(q + 2, true);
        if (q + 4 + len > extraLen) break;
        if (id === 1) {
          const field = new DataView(extra.buffer, extra.byteOffset + q + 4, len);
          let f = 0;
          const take = (what: string): number => {
            if (f + 8 > len) throw checkpointError(path, `zip entry "${name}": zip64 extra field is too short`);
            const v = u64(field, f, path, what);
            f += 8;
            return v;
          };
          if (size === U32_MAX) size = take("size");
          if (compressedSize === U32_MAX) compressedSize = take("compressed size");
          if (localHeaderOffset === U32_MAX) localHeaderOffset = take("local header offset");
          found = true;
          break;
        }
        q += 4 + len;
      }
      if (!found) throw checkpointError(path, `zip entry "${name}": zip64 sizes without a zip64 extra field`);
    }
    if (localHeaderOffset + 30 > loc.offset)
      throw checkpointError(path, `zip entry "${name}": local header offset ${localHeaderOffset} is out of range`);
    if (entries.has(name)) throw checkpointError(path, `zip entry "${name}" appears twice`);
    entries.set(name, {
      name,
      method: dv.getUint16(p + 10, true),
      flags: dv.getUint16(p + 8, true),
      crc32: dv.getUint32(p + 16, true),
      compressedSize,
      size,
      localHeaderOffset,
    });
    p = next;
  }
  return { path, fileSize, entries };
}

/**
 * Absolute offset of a STORED entry's data, from its local header (whose extra field differs
 * from the central one: torch pads it so the data is 64-byte aligned). Checks the entry
 * fits before the central directory.
 */
export function entryDataOffset(fd: number, zip: ZipDirectory, e: ZipEntry): number {
  const path = zip.path;
  if (e.flags & 1) throw checkpointError(path, `zip entry "${e.name}" is encrypted`);
  if (e.method !== 0)
    throw checkpointError(
      path,
      `zip entry "${e.name}" is compressed (method ${e.method}); only stored entries are supported, as torch.save writes them`,
    );
  if (e.compressedSize !== e.size)
    throw checkpointError(
      path,
      `zip entry "${e.name}" is stored but its sizes differ (${e.compressedSize} vs ${e.size})`,
    );
  const h = readExactAt(fd, 30, e.localHeaderOffset, path);
  const dv = view(h);
  if (dv.getUint32(0, true) !== LOCAL_SIG)
    throw checkpointError(path, `zip entry "${e.name}": no local header at byte ${e.localHeaderOffset}`);
  const nameLen = dv.getUint16(26, true);
  const extraLen = dv.getUint16(28, true);
  const localName = readExactAt(fd, nameLen, e.localHeaderOffset + 30, path);
  if (Buffer.from(localName).toString("utf-8") !== e.name)
    throw checkpointError(path, `zip entry "${e.name}": local header names a different entry`);
  if (dv.getUint16(8, true) !== e.method)
    throw checkpointError(path, `zip entry "${e.name}": local and central headers disagree on the method`);
  const start = e.localHeaderOffset + 30 + nameLen + extraLen;
  if (start + e.size > zip.fileSize)
    throw checkpointError(path, `zip entry "${e.name}" [${start}, ${start + e.size}) runs past the end of the file`);
  return start;
}

/** Reads a whole (small) STORED entry and checks its CRC-32. */
export function readEntry(fd: number, zip: ZipDirectory, e: ZipEntry, maxBytes: number): Uint8Array {
  if (e.size > maxBytes)
    throw checkpointError(zip.path, `zip entry "${e.name}" is ${e.size} bytes, above the ${maxBytes}-byte limit`);
  const bytes = readExactAt(fd, e.size, entryDataOffset(fd, zip, e), zip.path);
  if (crc32(bytes) !== e.crc32)
    throw checkpointError(zip.path, `zip entry "${e.name}" fails its CRC-32 check (corrupt)`);
  return bytes;
}

let CRC_TABLE: Uint32Array | null = null;

/** CRC-32 (ISO-HDLC, the ZIP one). */
export function crc32(bytes: Uint8Array): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
