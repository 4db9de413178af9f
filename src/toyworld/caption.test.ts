import { describe, expect, it } from "vitest";
import { captionScene } from "./caption.ts";
import { parsePrompt } from "./parse.ts";
import { sampleWorld } from "./world.ts";

describe("captions and the prompt parser", () => {
  it("parses every caption back to the attributes it states (3000 seeds)", () => {
    const texts = new Set<string>();
    const mentioned = { size: 0, speed: 0, background: 0, camera: 0, groups: 0 };
    for (let seed = 0; seed < 3000; seed++) {
      const c = captionScene(sampleWorld(seed));
      expect(parsePrompt(c.text), c.text).toEqual(c.attrs);
      texts.add(c.text);
      mentioned.size += c.attrs.objects.some((o) => o.size) ? 1 : 0;
      mentioned.speed += c.attrs.objects.some((o) => o.speed) ? 1 : 0;
      mentioned.background += c.attrs.background ? 1 : 0;
      mentioned.camera += c.attrs.camera ? 1 : 0;
      mentioned.groups += c.attrs.objects.length > 1 ? 1 : 0;
    }
    expect(texts.size).toBeGreaterThan(2990);
    // Optional attributes are sometimes left out, sometimes stated.
    for (const n of Object.values(mentioned)) {
      expect(n).toBeGreaterThan(300);
      expect(n).toBeLessThan(2900);
    }
  });

  it("writes captions the way people write prompts", () => {
    const texts = Array.from({ length: 400 }, (_, i) => captionScene(sampleWorld(i)).text);
    for (const phrase of [/the camera zooms in/i, /\bbounces\b/, /\bslowly\b/, /sunset/, /two /, /checkered/, /grass/])
      expect(texts.some((t) => phrase.test(t))).toBe(true);
    for (const t of texts) expect(t).not.toMatch(/ {2}|undefined|null/);
  });

  it("parses simpler prompts, leaving the rest unspecified", () => {
    const cases: [string, unknown][] = [
      ["red ball moving right", { objects: [{ count: 1, colour: "red", shape: "ball", motion: "move-right" }] }],
      ["a blue circle", { objects: [{ count: 1, colour: "blue", shape: "ball" }] }],
      ["A bouncing ball.", { objects: [{ count: 1, shape: "ball", motion: "bounce" }] }],
      [
        "some yellow stars spinning fast",
        { objects: [{ colour: "yellow", shape: "star", speed: "fast", motion: "spin" }] },
      ],
      [
        "a big green square rises to the left",
        { objects: [{ count: 1, colour: "green", shape: "square", size: "large", motion: "move-up-left" }] },
      ],
      [
        "3 pink hearts on a dotted background, camera pans left",
        { objects: [{ count: 3, colour: "pink", shape: "heart" }], background: "dots", camera: "pan-left" },
      ],
      [
        "a white cross and a black ring grow on a grey background",
        {
          objects: [
            { count: 1, colour: "white", shape: "cross", motion: "grow" },
            { count: 1, colour: "black", shape: "ring", motion: "grow" },
          ],
          background: "grey",
        },
      ],
      // Colours in background phrases belong to the background, even unknown ones.
      ["a ball on a blue background", { objects: [{ count: 1, shape: "ball" }] }],
      [
        "an orange triangle over green grass",
        { objects: [{ count: 1, colour: "orange", shape: "triangle" }], background: "grass" },
      ],
      ["a cat", { objects: [] }],
      [
        "static camera, a purple diamond sits still",
        { objects: [{ count: 1, colour: "purple", shape: "diamond", motion: "stay" }], camera: "static" },
      ],
      ["something purple drifting up", { objects: [{ colour: "purple", motion: "move-up" }] }],
    ];
    for (const [text, want] of cases) expect(parsePrompt(text), text).toEqual(want);
  });
});
