import { describe, expect, it } from "vitest";
import { FIXED_PROMPTS, movedAsNamed } from "./release-prompts.ts";
import { parsePrompt } from "./parse.ts";

const down = FIXED_PROMPTS.find((f) => f.direction === "down")!;

describe("release prompts", () => {
  it("name the colour and direction they are checked for", () => {
    for (const f of FIXED_PROMPTS) {
      const attrs = parsePrompt(f.prompt);
      expect(attrs.objects).toHaveLength(1);
      expect(attrs.objects[0]?.colour).toBe(f.colour);
      expect(attrs.objects[0]?.motion).toBe(`move-${f.direction}`);
    }
  });

  it("movedAsNamed: far enough, in the named compass sector, on the object of the named colour", () => {
    expect(movedAsNamed([{ colour: down.colour, dx: 0.05, dy: 0.3 }], down)).toBe(true);
    expect(movedAsNamed([{ colour: down.colour, dx: 0.3, dy: 0.3 }], down)).toBe(false); // down-right
    expect(movedAsNamed([{ colour: down.colour, dx: 0, dy: 0.05 }], down)).toBe(false); // under MOVE_MIN
    expect(movedAsNamed([{ colour: down.colour, dx: 0, dy: -0.3 }], down)).toBe(false); // up
    expect(movedAsNamed([], down)).toBe(false);
    // another object found first does not decide it when one of the named colour is there
    expect(
      movedAsNamed(
        [
          { colour: "white", dx: 0, dy: -0.3 },
          { colour: down.colour, dx: 0, dy: 0.3 },
        ],
        down,
      ),
    ).toBe(true);
    expect(movedAsNamed([{ colour: "white", dx: 0, dy: 0.3 }], down)).toBe(true); // none of that colour: the first
  });
});
