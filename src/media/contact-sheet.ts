/** A storyboard contact sheet: one tile per shot with a caption, in a grid, as PNG (sharp). */
import sharp, { type OverlayOptions } from "sharp";
import type { RgbFrame } from "./frames.ts";

export interface SheetTile {
  readonly frame: RgbFrame;
  /** One or two short lines under the tile. */
  readonly caption: readonly string[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export async function writeContactSheet(
  path: string,
  tiles: readonly SheetTile[],
  o: { title?: string; columns?: number; tileWidth?: number } = {},
): Promise<void> {
  if (tiles.length === 0) return;
  const cols = Math.min(o.columns ?? 4, tiles.length);
  const rows = Math.ceil(tiles.length / cols);
  const first = tiles[0]!.frame;
  const tw = o.tileWidth ?? Math.max(256, Math.min(480, first.width));
  const th = Math.round((tw * first.height) / first.width);
  const gap = 12;
  const capH = 40;
  const titleH = o.title ? 36 : 0;
  const W = cols * tw + (cols + 1) * gap;
  const H = titleH + rows * (th + capH) + (rows + 1) * gap;
  const layers: OverlayOptions[] = [];
  const text: string[] = [];
  if (o.title)
    text.push(
      `<text x="${gap}" y="26" font-size="20" font-weight="bold" fill="#eee">${esc(o.title.slice(0, 90))}</text>`,
    );
  for (let i = 0; i < tiles.length; i++) {
    const t = tiles[i]!;
    const x = gap + (i % cols) * (tw + gap);
    const y = titleH + gap + Math.floor(i / cols) * (th + capH + gap);
    const img = await sharp(t.frame.data, { raw: { width: t.frame.width, height: t.frame.height, channels: 3 } })
      .resize(tw, th, { fit: "contain", background: "#000" })
      .png()
      .toBuffer();
    layers.push({ input: img, left: x, top: y });
    t.caption.slice(0, 2).forEach((line, k) => {
      const max = Math.floor(tw / 7);
      const s = line.length > max ? `${line.slice(0, max - 1)}…` : line;
      text.push(
        `<text x="${x}" y="${y + th + 16 + k * 16}" font-size="13" fill="${k ? "#aaa" : "#eee"}">${esc(s)}</text>`,
      );
    });
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><g font-family="DejaVu Sans, sans-serif">${text.join("")}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  await sharp({ create: { width: W, height: H, channels: 3, background: "#1b1b1b" } })
    .composite(layers)
    .png()
    .toFile(path);
}
