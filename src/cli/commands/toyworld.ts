/**
 * `reel toyworld sample --seed N --count K --out DIR`: clips of the procedural toy world with
 * their captions (captions.jsonl), reproducibly.
 * `reel toyworld prompts --seed N --count K`: captions only, one per line (e.g. held-out
 * evaluation prompts: seeds below 1,000,000 are never used for training).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ReelError } from "../../errors.ts";
import { intFlag } from "../flags.ts";
import { captionScene, sampleWorld, writeSamples } from "../../toyworld/index.ts";

const USAGE = `usage:
  reel toyworld sample --seed N --count K --out DIR [--format mp4|png|npy] [--size S] [--frames T] [--fps F]
  reel toyworld prompts --seed N --count K [-o FILE]
`;

export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      seed: { type: "string" },
      count: { type: "string" },
      out: { type: "string" },
      output: { type: "string", short: "o" },
      format: { type: "string", default: "mp4" },
      size: { type: "string" },
      frames: { type: "string" },
      fps: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || sub === undefined) {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  const seed = intFlag("seed", values.seed, 0, 0, Number.MAX_SAFE_INTEGER);
  const count = intFlag("count", values.count, 1, 1, 1_000_000);
  if (sub === "prompts") {
    const lines = Array.from({ length: count }, (_, i) => captionScene(sampleWorld(seed + i), seed + i).text);
    const text = `${lines.join("\n")}\n`;
    if (values.output) writeFileSync(values.output, text);
    else process.stdout.write(text);
    return 0;
  }
  if (sub !== "sample")
    throw new ReelError("E_INPUT_INVALID", `toyworld ${sub}: commands are sample, prompts\n${USAGE}`);
  if (!values.out) throw new ReelError("E_INPUT_INVALID", `toyworld sample needs --out DIR\n${USAGE}`);
  const format = values.format;
  if (format !== "mp4" && format !== "png" && format !== "npy")
    throw new ReelError("E_INPUT_INVALID", `--format ${format}: allowed are mp4, png, npy`);
  const size = intFlag("size", values.size, 128, 8, 4096);
  const r = await writeSamples({
    seed,
    count,
    out: values.out,
    width: size,
    height: size,
    frames: intFlag("frames", values.frames, 17, 1, 1024),
    fps: intFlag("fps", values.fps, 16, 1, 240),
    format,
    onSample: (done, total) => {
      if (done % 10 === 0 || done === total) process.stderr.write(`sampled ${done}/${total}\n`);
    },
  });
  process.stdout.write(`wrote ${r.count} samples to ${r.out} (captions: ${r.captions})\n`);
  return 0;
}
