/**
 * Input images from requests: an `image_url` (http(s), fetched under the network guard, or a
 * `data:image/...;base64,` URL) or an uploaded file. Checked for size, type (PNG, JPEG, WebP by
 * their magic bytes, not the declared type) and pixel dimensions before a job is queued.
 */
import sharp, { type Metadata } from "sharp";
import type { Limits } from "./config.ts";
import { FieldError } from "./mapping.ts";
import { guardedRequest, UrlRefused } from "./net-guard.ts";

export interface InputImage {
  readonly bytes: Uint8Array;
  readonly format: "png" | "jpeg" | "webp";
  readonly width: number;
  readonly height: number;
}

export function sniffImage(b: Uint8Array): InputImage["format"] | null {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpeg";
  if (
    b.length >= 12 &&
    Buffer.from(b.subarray(0, 4)).toString() === "RIFF" &&
    Buffer.from(b.subarray(8, 12)).toString() === "WEBP"
  )
    return "webp";
  return null;
}

export async function checkImage(bytes: Uint8Array, field: string, l: Limits): Promise<InputImage> {
  if (bytes.length > l.maxImageBytes)
    throw new FieldError(field, `image of ${bytes.length} bytes; at most ${l.maxImageBytes} bytes`);
  const format = sniffImage(bytes);
  if (!format)
    throw new FieldError(field, "not a PNG, JPEG or WebP image; allowed are image/png, image/jpeg, image/webp");
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: "error" }).metadata();
  } catch (e) {
    throw new FieldError(field, `cannot read the ${format} image (${(e as Error).message})`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1 || width > l.maxImageSide || height > l.maxImageSide)
    throw new FieldError(field, `image ${width}x${height}; each side at most ${l.maxImageSide} pixels`);
  return { bytes, format, width, height };
}

/** Bytes of an image_url: data: decoded here, http(s) fetched under the guard, anything else refused. */
export async function fetchImageUrl(url: string, field: string, l: Limits): Promise<InputImage> {
  if (url.startsWith("data:")) {
    const m = /^data:(image\/(?:png|jpeg|jpg|webp));base64,([A-Za-z0-9+/=\s]*)$/i.exec(url);
    if (!m) throw new FieldError(field, "data: URLs must be data:image/(png|jpeg|webp);base64,...");
    if ((m[2]!.length * 3) / 4 > l.maxImageBytes * 1.01 + 4)
      throw new FieldError(field, `image larger than ${l.maxImageBytes} bytes`);
    return checkImage(new Uint8Array(Buffer.from(m[2]!, "base64")), field, l);
  }
  if (!/^https?:\/\//i.test(url))
    throw new FieldError(field, "image URLs must be http(s):// or data:image/...;base64,");
  try {
    const r = await guardedRequest(url, {
      maxBytes: l.maxImageBytes,
      timeoutMs: l.fetchTimeoutMs,
      ...(l.allowHosts.length ? { allow: l.allowHosts } : {}),
    });
    if (r.status !== 200) throw new FieldError(field, `${url.slice(0, 200)}: HTTP ${r.status}`);
    return await checkImage(new Uint8Array(r.body), field, l);
  } catch (e) {
    if (e instanceof UrlRefused) throw new FieldError(field, e.message);
    throw e;
  }
}
