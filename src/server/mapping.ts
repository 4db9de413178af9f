/**
 * How API fields map to what a model makes (the rules the README documents):
 *
 * - **resolution** (Ark, `480p`...): `Np` picks the model's native size whose short side is N;
 *   a model offers only its own native short sides (reel-toy: `128p`). Omitted: the first native size.
 * - **ratio** (Ark): `16:9 4:3 1:1 3:4 9:16 21:9` keep the chosen size's pixel area A and shape it:
 *   width = round_m(√(A·r)), height = round_m(√(A/r)), m the model's size multiple.
 *   `adaptive` takes r from the first frame (else the native size). Omitted: the native size as is.
 * - **size** (OpenAI, `WxH`): used as given; both sides multiples of m and W·H at most the largest
 *   native area.
 * - **duration** (Ark, whole seconds) / **seconds** (OpenAI, a string): frames =
 *   s·round(seconds·fps / s) + 1 with s the model's frame step (4 for Wan), at the model's fps;
 *   at most the model's frame limit. Omitted: the model's default frame count.
 * - **frames** (Ark): used as given; must be s·n + 1 and within the limit; not with duration.
 * - **framespersecond** (Ark `--fps`): the MP4's frame rate (1–60); default the model's.
 */
export interface ModelShape {
  readonly name: string;
  /** Native sizes [width, height], the default first. */
  readonly sizes: readonly (readonly [number, number])[];
  readonly frames: number;
  readonly fps: number;
  readonly sizeMultiple: number;
  readonly frameStep: number;
  readonly maxFrames: number;
  readonly supportsImage: boolean;
  readonly supportsLastImage: boolean;
  /** Image-to-video only (Wan 2.1 I2V, 2.2 I2V-A14B): a first frame is required. */
  readonly requiresImage?: boolean;
}

/** A request field the model cannot take: `field` and what is allowed. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export const RATIOS = ["16:9", "4:3", "1:1", "3:4", "9:16", "21:9"] as const;

const roundTo = (x: number, m: number) => Math.max(m, Math.round(x / m) * m);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function ratioOf(w: number, h: number): string {
  const g = gcd(w, h);
  return `${w / g}:${h / g}`;
}

export function resolutions(m: ModelShape): string[] {
  return [...new Set(m.sizes.map(([w, h]) => `${Math.min(w, h)}p`))];
}

export function framesFor(seconds: number, fps: number, m: ModelShape, field: string): number {
  const frames = m.frameStep * Math.round((seconds * fps) / m.frameStep) + 1;
  if (frames > m.maxFrames)
    throw new FieldError(
      field,
      `${seconds} s at ${fps} fps is ${frames} frames; model ${m.name} makes at most ${m.maxFrames} frames (${Math.floor((m.maxFrames - 1) / fps)} s at ${fps} fps)`,
    );
  return frames;
}

function checkFrames(frames: number, m: ModelShape, field: string): number {
  if (!Number.isInteger(frames) || frames < 1 || (frames - 1) % m.frameStep !== 0 || frames > m.maxFrames)
    throw new FieldError(
      field,
      `${frames}: model ${m.name} takes ${m.frameStep}n + 1 frames from 1 to ${m.maxFrames} (e.g. ${m.frames})`,
    );
  return frames;
}

export const secondsOf = (frames: number, fps: number) => Math.max(1, Math.round((frames - 1) / fps));

export interface Shape {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly fps: number;
}

export interface ArkShapeInput {
  readonly ratio?: string;
  readonly resolution?: string;
  readonly duration?: number;
  readonly frames?: number;
  readonly fps?: number;
  /** First frame's aspect (width / height), for ratio `adaptive`. */
  readonly imageAspect?: number;
}

export function arkShape(
  i: ArkShapeInput,
  m: ModelShape,
): Shape & { ratio: string; resolution: string; duration: number } {
  const [w0, h0] = m.sizes[0]!;
  let base: readonly [number, number] = [w0, h0];
  if (i.resolution !== undefined) {
    const n = /^(\d+)p$/.exec(i.resolution);
    const hit = n ? m.sizes.find(([w, h]) => Math.min(w, h) === Number(n[1])) : undefined;
    if (!hit)
      throw new FieldError("resolution", `${i.resolution}: model ${m.name} offers ${resolutions(m).join(", ")}`);
    base = hit;
  }
  let [width, height] = base;
  if (i.ratio !== undefined) {
    let r: number;
    if (i.ratio === "adaptive") r = i.imageAspect ?? width / height;
    else if ((RATIOS as readonly string[]).includes(i.ratio)) {
      const [a, b] = i.ratio.split(":").map(Number) as [number, number];
      r = a / b;
    } else throw new FieldError("ratio", `${i.ratio}: allowed are ${[...RATIOS, "adaptive"].join(", ")}`);
    const area = width * height;
    width = roundTo(Math.sqrt(area * r), m.sizeMultiple);
    height = roundTo(Math.sqrt(area / r), m.sizeMultiple);
  }
  const fps = i.fps ?? m.fps;
  if (!Number.isInteger(fps) || fps < 1 || fps > 60)
    throw new FieldError("framespersecond", `${fps}: a whole number from 1 to 60`);
  if (i.frames !== undefined && i.duration !== undefined)
    throw new FieldError("frames", "give frames or duration, not both");
  let frames = m.frames;
  if (i.frames !== undefined) frames = checkFrames(i.frames, m, "frames");
  else if (i.duration !== undefined) {
    if (!Number.isInteger(i.duration) || i.duration < 1)
      throw new FieldError("duration", `${i.duration}: whole seconds, at least 1`);
    frames = framesFor(i.duration, fps, m, "duration");
  }
  return {
    width,
    height,
    frames,
    fps,
    ratio: i.ratio === undefined || i.ratio === "adaptive" ? ratioOf(width, height) : i.ratio,
    resolution: `${Math.min(...base)}p`,
    duration: i.duration ?? secondsOf(frames, fps),
  };
}

export function openaiShape(
  i: { seconds?: string; size?: string },
  m: ModelShape,
): Shape & { seconds: string; size: string } {
  const [w0, h0] = m.sizes[0]!;
  let width = w0;
  let height = h0;
  const maxArea = Math.max(...m.sizes.map(([w, h]) => w * h));
  if (i.size !== undefined) {
    const s = /^(\d+)x(\d+)$/.exec(i.size);
    const examples = m.sizes.map(([w, h]) => `${w}x${h}`).join(", ");
    if (!s) throw new FieldError("size", `${i.size}: use WIDTHxHEIGHT, e.g. ${examples}`);
    width = Number(s[1]);
    height = Number(s[2]);
    if (width % m.sizeMultiple || height % m.sizeMultiple || width === 0 || height === 0)
      throw new FieldError(
        "size",
        `${i.size}: model ${m.name} needs width and height in multiples of ${m.sizeMultiple} (e.g. ${examples})`,
      );
    if (width * height > maxArea)
      throw new FieldError(
        "size",
        `${i.size}: model ${m.name} makes at most ${maxArea} pixels per frame (e.g. ${examples})`,
      );
  }
  let frames = m.frames;
  if (i.seconds !== undefined) {
    const n = Number(i.seconds);
    if (!/^\d+$/.test(i.seconds) || n < 1)
      throw new FieldError("seconds", `"${i.seconds}": whole seconds as a string, e.g. "4"`);
    frames = framesFor(n, m.fps, m, "seconds");
  }
  return {
    width,
    height,
    frames,
    fps: m.fps,
    seconds: i.seconds ?? String(secondsOf(frames, m.fps)),
    size: `${width}x${height}`,
  };
}
