/**
 * Colour names: the nearest palette colour to an object's interior mean, compared with
 * each colour's typical shaded appearance (the mean of a rendered ball and square).
 */
import { drawObject } from "./draw-object.ts";
import { renderScale } from "./shapes.ts";
import { COLOURS, type Colour, PALETTE, type Rgb } from "./vocab.ts";

let appearance: Map<Colour, Rgb> | null = null;

function meanAppearance(c: Colour): Rgb {
  const sum = [0, 0, 0];
  let n = 0;
  for (const shape of ["ball", "square"] as const) {
    const W = 48;
    const data = new Uint8Array(W * W * 3);
    const R = renderScale(shape, 0.3) * W;
    drawObject(data, W, W, shape, PALETTE[c], { cx: W / 2, cy: W / 2, radius: R, angle: 0 });
    // Interior only: skip the anti-aliased rim by sampling well inside.
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++) {
        if (Math.hypot(x + 0.5 - W / 2, y + 0.5 - W / 2) > 0.6 * R) continue;
        const k = (y * W + x) * 3;
        sum[0]! += data[k]!;
        sum[1]! += data[k + 1]!;
        sum[2]! += data[k + 2]!;
        n++;
      }
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

export function nameColour(rgb: readonly [number, number, number]): { colour: Colour; distance: number } {
  appearance ??= new Map(COLOURS.map((c) => [c, meanAppearance(c)]));
  let best: Colour = "red";
  let bd = Number.POSITIVE_INFINITY;
  for (const [c, a] of appearance) {
    const d = Math.hypot(rgb[0] - a[0], rgb[1] - a[1], rgb[2] - a[2]);
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return { colour: best, distance: bd };
}
