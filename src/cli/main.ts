/**
 * The `reel` command. Wires subcommands and lazy-imports each, so `reel --help` never loads
 * onnxruntime. Errors print as `code: message` and map to exit codes.
 */
import { readFileSync } from "node:fs";
import { isReelError } from "../errors.ts";

const HELP = `reel: open video generation (Wan 2.1 / 2.2 on ONNX Runtime)

usage: reel <command> [options]

commands:
  generate "<prompt>" -o out.mp4   make a video (the embedded model by default)
  story "<p1>" "<p2>" -o out.mp4   a multi-shot film with narration (plan, render, re-render)
  serve             the HTTP video API (Seedance/Ark and OpenAI compatible) with a job queue
  worker --queue URL   generation workers on a shared (distributed) queue
  eval              score videos against their prompts (toy-world evaluator)
  toyworld          sample clips and captions of the procedural toy world
  models            list the video models found on this machine
  doctor            show what reel runs on here (devices, ffmpeg, caches, models)
  parity <dir>...   check reel against parity fixtures (official Wan outputs) in folders
  version           print the version
  help              this text

Run \`reel <command> --help\` for a command's options.
`;

const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  generate: () => import("./commands/generate.ts"),
  story: () => import("./commands/story.ts"),
  serve: () => import("./commands/serve.ts"),
  worker: () => import("./commands/worker.ts"),
  parity: () => import("./commands/parity.ts"),
  models: () => import("./commands/models.ts"),
  eval: () => import("./commands/eval.ts"),
  toyworld: () => import("./commands/toyworld.ts"),
  doctor: () => import("./commands/doctor.ts"),
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "version" || cmd === "--version") {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    process.stdout.write(`reel ${pkg.version}\n`);
    return 0;
  }
  const load = COMMANDS[cmd];
  if (load === undefined) {
    process.stderr.write(
      `reel: unknown command "${cmd}". Commands: ${Object.keys(COMMANDS).join(", ")}, version, help\n`,
    );
    return 2;
  }
  return (await load()).run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (isReelError(e)) {
    process.stderr.write(`reel: ${e.code}: ${e.message}\n`);
    process.exitCode = e.code === "E_INPUT_INVALID" || e.code === "E_CONFIG_INVALID" ? 2 : 1;
  } else {
    process.stderr.write(`reel: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  }
}
