/** Images in and out (PNG, JPEG, WebP) through sharp (libvips). */
import { existsSync } from "node:fs";
import sharp from "sharp";
import { ReelError } from "../errors.ts";
import type { RgbFrame } from "./frames.ts";

export const IMAGE_FORMATS = ["png", "jpeg", "webp"] as const;

/** Reads an image file or buffer as 8-bit RGB (alpha dropped onto black, EXIF orientation applied). */
export async function readImage(input: string | Uint8Array, what = "image"): Promise<RgbFrame> {
  if (typeof input === "string" && !existsSync(input))
    throw new ReelError("E_MEDIA_INVALID", `${what}: ${input} does not exist`);
  try {
    const img = sharp(input, { failOn: "error" });
    const meta = await img.metadata();
    if (!meta.format || !(IMAGE_FORMATS as readonly string[]).includes(meta.format))
      throw new ReelError(
        "E_MEDIA_INVALID",
        `${what}: format ${meta.format ?? "unknown"} is not supported; use ${IMAGE_FORMATS.join(", ")}`,
      );
    const { data, info } = await img
      .rotate()
      .flatten({ background: "#000000" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3)
      throw new ReelError("E_MEDIA_INVALID", `${what}: expected 3 channels, got ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (e) {
    if (e instanceof ReelError) throw e;
    const name = typeof input === "string" ? input : "the given bytes";
    throw new ReelError("E_MEDIA_INVALID", `${what}: cannot read ${name} as an image (${(e as Error).message})`, {
      cause: e,
    });
  }
}

/** Writes an RGB frame as PNG. */
export async function writePng(path: string, f: RgbFrame): Promise<void> {
  await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
    .png()
    .toFile(path);
}

/** Encodes an RGB frame as PNG bytes. */
export async function pngBytes(f: RgbFrame): Promise<Buffer> {
  return sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
    .png()
    .toBuffer();
}
