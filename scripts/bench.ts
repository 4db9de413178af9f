/** Benchmarks: `npm run bench -- <name> [options]`. Each prints JSON lines on stdout. */
import { benchDit } from "./bench/dit.ts";
import { benchDitProfile } from "./bench/dit-profile.ts";
import { benchKernels } from "./bench/kernels.ts";
import { benchStory } from "./bench/story.ts";
import { benchToy } from "./bench/toy.ts";

const BENCHES: Record<string, (argv: string[]) => Promise<void>> = {
  dit: benchDit,
  "dit-profile": benchDitProfile,
  kernels: benchKernels,
  story: benchStory,
  toy: benchToy,
};

const [name, ...rest] = process.argv.slice(2);
const run = name === undefined ? undefined : BENCHES[name];
if (run === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHES).join("|")}> [options]\n`);
  process.exit(2);
}
await run(rest);
