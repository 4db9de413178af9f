/**
 * Wan 2.2 TI2V's image input, as the official code prepares it (Wan-Video/Wan2.2
 * wan/textimage2video.py `i2v`, wan/utils/utils.py `best_output_size`):
 *
 *   ow, oh = best_output_size(iw, ih, dw, dh, max_area)     # dw = dh = patch·vae stride (32)
 *   scale = max(ow / iw, oh / ih)
 *   img = img.resize((round(iw·scale), round(ih·scale)), Image.LANCZOS)
 *   x1, y1 = (img.width − ow) // 2, (img.height − oh) // 2; img = img.crop((x1, y1, x1+ow, y1+oh))
 *
 * where max_area is the requested size's area (the official `--size` names an area for TI2V:
 * the video takes the image's aspect ratio). Python's float semantics are kept: `//` on floats
 * (fmod-based floor division), `**0.5` (correctly rounded, as Math.sqrt), and round() half to
 * even. Deviation: where the official code would divide by zero (a branch yields 0 at tiny
 * areas), the other branch is used, and if both fail the request is refused.
 */
import { ReelError } from "../errors.ts";
import type { RgbFrame } from "../media/frames.ts";
import { cropFrame, resizeLanczosPil } from "../media/pil-resize.ts";

/** CPython's float floor division (float_divmod). */
export function pyFloorDiv(a: number, b: number): number {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  }
  if (!div) return Math.sign(a / b) < 0 ? -0 : 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/** Python's round() of a float to an integer: half to even. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** `best_output_size(w, h, dw, dh, expected_area)` → [ow, oh]. */
export function bestOutputSize(w: number, h: number, dw: number, dh: number, area: number): [number, number] {
  const ratio = w / h;
  const ow = Math.sqrt(area * ratio);
  const oh = area / ow;
  const cands: [number, number][] = [];
  const ow1 = Math.trunc(pyFloorDiv(ow, dw) * dw);
  if (ow1 > 0) {
    const oh1 = Math.trunc(pyFloorDiv(area / ow1, dh) * dh);
    if (oh1 > 0) cands.push([ow1, oh1]);
  }
  const oh2 = Math.trunc(pyFloorDiv(oh, dh) * dh);
  if (oh2 > 0) {
    const ow2 = Math.trunc(pyFloorDiv(area / oh2, dw) * dw);
    if (ow2 > 0) cands.push([ow2, oh2]);
  }
  if (cands.length === 0)
    throw new ReelError(
      "E_INPUT_INVALID",
      `image ${w}x${h}: an area of ${area} pixels is too small for its aspect ratio on this model's ${dw}-pixel grid`,
    );
  if (cands.length === 1) return cands[0]!;
  const off = ([a, b]: [number, number]) => Math.max(ratio / (a / b), a / b / ratio);
  return off(cands[0]!) < off(cands[1]!) ? cands[0]! : cands[1]!;
}

/** The image resized (Pillow LANCZOS) and centre-cropped to ow × oh, as the official TI2V. */
export function ti2vImage(img: RgbFrame, ow: number, oh: number): RgbFrame {
  const scale = Math.max(ow / img.width, oh / img.height);
  const r = resizeLanczosPil(img, pyRound(img.width * scale), pyRound(img.height * scale));
  return cropFrame(r, Math.floor((r.width - ow) / 2), Math.floor((r.height - oh) / 2), ow, oh);
}
