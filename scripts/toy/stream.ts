/**
 * Streams toy-world clips to a trainer (training/toy_data.py) on stdout:
 *   "RTW1" | u32 LE header length | header JSON | frames·height·width·3 RGB bytes
 *   [| frames·height·width mask bytes, with --masks: 1 where an object covers the pixel]
 * header = { seed, caption, ids (reel's umT5 tokenizer on the caption, EOS-terminated), frames, width, height, masks }
 *
 * usage: node bin/run-ts.js scripts/toy/stream.ts --seed S --count N [--stride K] [--frames 17]
 *          [--size 128] [--tokenizer tokenizer.json --text-len 32] [--masks]
 * Clip i has seed S + i·K (K = 1 by default): K streams from S, S+1, ..., S+K−1 together give
 * the seeds of one stream in order (training/toy_data.py's workers).
 */
import { readFileSync } from "node:fs";
import { scriptArgs } from "../args.ts";
import { UmT5Tokenizer } from "../../src/models/t5/tokenizer.ts";
import { captionScene } from "../../src/toyworld/caption.ts";
import { renderSceneWithMasks } from "../../src/toyworld/render.ts";
import { sampleWorld } from "../../src/toyworld/world.ts";

const USAGE = `usage: node bin/run-ts.js scripts/toy/stream.ts --seed S --count N [--stride K] [--frames 17]
         [--size 128] [--tokenizer tokenizer.json --text-len 32] [--masks]
Clip i has seed S + i·K (K = 1 by default): K streams from S, S+1, ..., S+K−1 together give
the seeds of one stream in order (training/toy_data.py's workers).`;

const { values } = scriptArgs(USAGE, {
  options: {
    seed: { type: "string", default: "0" },
    count: { type: "string", default: "1" },
    stride: { type: "string", default: "1" },
    frames: { type: "string", default: "17" },
    size: { type: "string", default: "128" },
    tokenizer: { type: "string" },
    "text-len": { type: "string", default: "32" },
    masks: { type: "boolean", default: false },
  },
});
const tok = values.tokenizer ? new UmT5Tokenizer(JSON.parse(readFileSync(values.tokenizer, "utf8"))) : null;
const seed0 = Number(values.seed);
const count = Number(values.count);
const stride = Number(values.stride);
const frames = Number(values.frames);
const size = Number(values.size);
const textLen = Number(values["text-len"]);
const withMasks = values.masks === true;

function write(buf: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(buf)) resolve();
    else process.stdout.once("drain", resolve);
  });
}

process.stdout.on("error", () => process.exit(0)); // the trainer closed the pipe
for (let i = 0; i < count; i++) {
  const seed = seed0 + i * stride;
  const scene = sampleWorld(seed);
  const caption = captionScene(scene, seed).text;
  const { frames: clip, masks } = renderSceneWithMasks(scene, { width: size, height: size, frames });
  const ids = tok ? tok.ids(caption, textLen) : [];
  const header = Buffer.from(
    JSON.stringify({ seed, caption, ids, frames, width: size, height: size, masks: withMasks }),
  );
  const head = Buffer.alloc(8);
  head.write("RTW1", 0, "latin1");
  head.writeUInt32LE(header.length, 4);
  await write(Buffer.concat([head, header, ...clip.map((f) => f.data), ...(withMasks ? masks : [])]));
}
