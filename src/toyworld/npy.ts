/**
 * NumPy .npy (format 1.0) for uint8 clip stacks: a dataset of K clips as one array
 * [K, T, H, W, 3] that Python reads with np.load(path, mmap_mode="r"), which training on
 * hundreds of thousands of clips wants (PNG/MP4 are slow to write and to read back).
 * Only what the toy world writes is read: '|u1', C order, five dimensions.
 */
import { ReelError } from "../errors.ts";

/** The header of a C-order uint8 array of `shape`, padded to a multiple of 64 bytes. */
export function npyHeader(shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const unpadded = 10 + dict.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const text = `${dict}${" ".repeat(pad)}\n`;
  const out = new Uint8Array(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** Parses a .npy header: its byte length and uint8 shape. */
export function parseNpyHeader(bytes: Uint8Array, what: string): { offset: number; shape: number[] } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m))
    throw new ReelError("E_MEDIA_INVALID", `${what} is not a .npy file`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [len, start] = major === 1 ? [view.getUint16(8, true), 10] : [view.getUint32(8, true), 12];
  if (start + len > bytes.length) throw new ReelError("E_MEDIA_INVALID", `${what}: truncated .npy header`);
  const text = String.fromCharCode(...bytes.subarray(start, start + len));
  const shape = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!/'descr':\s*'\|u1'/.test(text) || /'fortran_order':\s*True/.test(text) || shape === undefined)
    throw new ReelError(
      "E_MEDIA_INVALID",
      `${what}: only C-order uint8 .npy arrays are supported (header ${text.trim()})`,
    );
  return {
    offset: start + len,
    shape: shape
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
  };
}
