/** The documented field-mapping rules: resolution/ratio/duration/frames (Ark), size/seconds (OpenAI), text flags. */
import { describe, expect, it } from "vitest";
import { parseTextFlags } from "./ark.ts";
import { arkShape, FieldError, type ModelShape, openaiShape } from "./mapping.ts";

const toy: ModelShape = {
  name: "reel-toy",
  sizes: [[128, 128]],
  frames: 17,
  fps: 16,
  sizeMultiple: 16,
  frameStep: 4,
  maxFrames: 121,
  supportsImage: false,
  supportsLastImage: false,
};
const wan: ModelShape = {
  ...toy,
  name: "wan",
  sizes: [
    [832, 480],
    [480, 832],
    [1280, 720],
  ],
  frames: 81,
  fps: 16,
};

const field = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof FieldError) return e.field;
    throw e;
  }
  return null;
};

describe("Ark field mapping", () => {
  it("defaults to the model's native size, frames and fps", () => {
    expect(arkShape({}, toy)).toMatchObject({
      width: 128,
      height: 128,
      frames: 17,
      fps: 16,
      ratio: "1:1",
      resolution: "128p",
      duration: 1,
    });
  });
  it("resolution picks the native size with that short side; ratio keeps its area on the size grid", () => {
    expect(arkShape({ resolution: "720p" }, wan)).toMatchObject({ width: 1280, height: 720 });
    expect(arkShape({ resolution: "480p", ratio: "16:9" }, wan)).toMatchObject({ width: 848, height: 480 });
    expect(arkShape({ ratio: "9:16" }, toy)).toMatchObject({ width: 96, height: 176, ratio: "9:16" });
    expect(arkShape({ ratio: "adaptive", imageAspect: 2 }, toy)).toMatchObject({ width: 176, height: 96 });
  });
  it("duration gives 4n+1 frames at the fps; frames are taken as given", () => {
    expect(arkShape({ duration: 5 }, wan)).toMatchObject({ frames: 81, duration: 5 });
    expect(arkShape({ duration: 2, fps: 24 }, toy)).toMatchObject({ frames: 49, fps: 24 });
    expect(arkShape({ frames: 29 }, toy)).toMatchObject({ frames: 29 });
  });
  it("rejects what the model cannot make, naming the field", () => {
    expect(field(() => arkShape({ resolution: "1080p" }, wan))).toBe("resolution");
    expect(field(() => arkShape({ resolution: "480p" }, toy))).toBe("resolution");
    expect(field(() => arkShape({ ratio: "2:1" }, toy))).toBe("ratio");
    expect(field(() => arkShape({ duration: 10 }, toy))).toBe("duration");
    expect(field(() => arkShape({ duration: 0 }, toy))).toBe("duration");
    expect(field(() => arkShape({ frames: 20 }, toy))).toBe("frames");
    expect(field(() => arkShape({ frames: 125 }, toy))).toBe("frames");
    expect(field(() => arkShape({ frames: 17, duration: 1 }, toy))).toBe("frames");
    expect(field(() => arkShape({ fps: 0 }, toy))).toBe("framespersecond");
  });
});

describe("OpenAI field mapping", () => {
  it("size is used as given within the model's grid and area; seconds map like duration", () => {
    expect(openaiShape({}, toy)).toMatchObject({ width: 128, height: 128, frames: 17, seconds: "1", size: "128x128" });
    expect(openaiShape({ size: "160x96", seconds: "4" }, toy)).toMatchObject({ width: 160, height: 96, frames: 65 });
    expect(field(() => openaiShape({ size: "720x1280" }, toy))).toBe("size");
    expect(field(() => openaiShape({ size: "130x128" }, toy))).toBe("size");
    expect(field(() => openaiShape({ size: "big" }, toy))).toBe("size");
    expect(field(() => openaiShape({ seconds: "12" }, toy))).toBe("seconds");
    expect(field(() => openaiShape({ seconds: "1.5" }, toy))).toBe("seconds");
  });
});

describe("Ark inline text commands", () => {
  it("splits long and short flags off the prompt", () => {
    expect(
      parseTextFlags("A kitten yawning. --rs 720p --rt 16:9 --dur 5 --fps 24 --wm false --seed -1 --cf true"),
    ).toEqual({
      prompt: "A kitten yawning.",
      flags: {
        resolution: "720p",
        ratio: "16:9",
        duration: 5,
        framespersecond: 24,
        watermark: false,
        seed: -1,
        camera_fixed: true,
      },
    });
    expect(parseTextFlags("no flags here")).toEqual({ prompt: "no flags here", flags: {} });
  });
  it("names unknown or malformed flags", () => {
    expect(() => parseTextFlags("x --foo 1")).toThrow(/unknown text command --foo/);
    expect(() => parseTextFlags("x --dur five")).toThrow(/--dur five: a whole number/);
    expect(() => parseTextFlags("x --cf maybe")).toThrow(/true or false/);
    expect(() => parseTextFlags("x --seed")).toThrow(/needs a value/);
  });
});
