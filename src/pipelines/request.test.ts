import { describe, expect, it } from "vitest";
import { checkAgainstModel, parseRequest } from "./request.ts";

const rules = { name: "wan", sizeMultiple: 16, frameStep: 4, supportsImage: false, supportsLastImage: false };

describe("generation request", () => {
  it("parses a minimal request and trims the prompt", () => {
    expect(parseRequest({ prompt: "  a red ball " })).toEqual({ prompt: "a red ball" });
  });

  it("names every bad field and what is allowed", () => {
    expect(() => parseRequest({ prompt: "", steps: 0, sampler: "ddim", extra: 1 })).toThrow(
      /prompt: prompt must not be empty;.*steps: .*>=1.*sampler: .*"unipc"\|"dpm\+\+"\|"euler".*Unrecognized key/,
    );
    expect(() => parseRequest({ prompt: "x", last_image: "b.png" })).toThrow(
      /last_image: a last frame needs a first frame/,
    );
  });

  it("checks sizes, frame counts and conditioning against the model, suggesting valid values", () => {
    expect(() => checkAgainstModel({ width: 832, height: 480, frames: 81 }, rules)).not.toThrow();
    expect(() => checkAgainstModel({ width: 830, height: 480, frames: 80, image: "x" }, rules)).toThrow(
      /multiples of 16 \(e\.g\. 832x480\); frames 80: must be 4n \+ 1 \(e\.g\. 81\); model wan does not take a first-frame image/,
    );
  });
});
