/**
 * The scripts' flags: node's parseArgs, plus `--help` (prints the usage, exits 0) and, for a
 * flag the script does not know or a value it lacks, one line saying what was wrong followed
 * by the usage (exit 2) instead of node's stack trace.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

export function scriptArgs<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> {
  const argv = config.args ?? process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS")) throw e;
    process.stderr.write(`${(e as Error).message}\n${usage.trim()}\n`);
    process.exit(2);
  }
}
