/**
 * Is B better than A? Paired comparison of two `reel eval --prompts` reports on the same
 * prompt file and seed (e.g. models/reel-toy/eval.json against a candidate's): the mean
 * per-prompt score difference ± one standard error, prompts up / down, accuracy deltas per
 * attribute, and the score difference on prompts that name one object and on those that name
 * more. Prints a table, then the comparison as one JSON line.
 */
import { readFileSync } from "node:fs";
import { comparePaired } from "../../src/toyworld/compare.ts";
import { parsePrompt } from "../../src/toyworld/parse.ts";
import { namedObjectCount } from "../../src/toyworld/prompt.ts";
import { scriptArgs } from "../args.ts";

const USAGE =
  "usage: node bin/run-ts.js scripts/toy/compare-evals.ts A.json B.json   (reports of `reel eval --prompts`)";
const { positionals } = scriptArgs(USAGE, { options: {}, allowPositionals: true });
if (positionals.length !== 2) {
  process.stderr.write(`expected two report files, got ${positionals.length}\n${USAGE}\n`);
  process.exit(2);
}
const [fa, fb] = positionals as [string, string];
const read = (f: string) => {
  try {
    return JSON.parse(readFileSync(f, "utf8"));
  } catch (e) {
    process.stderr.write(`${f}: cannot read a JSON report (${(e as Error).message})\n${USAGE}\n`);
    process.exit(2);
  }
};
const a = read(fa);
const b = read(fb);
for (const [f, r] of [
  [fa, a],
  [fb, b],
] as const)
  if (!Array.isArray(r?.items) || typeof r?.attributes !== "object") {
    process.stderr.write(`${f}: not a \`reel eval --prompts\` report (it has no items or attributes)\n`);
    process.exit(2);
  }
/** "one object", "2+ objects", or "count not stated" (none named, or a bare plural), as the evaluator parses the prompt. */
function objectsNamed(prompt: string): string {
  const n = namedObjectCount(parsePrompt(prompt));
  return n === undefined ? "count not stated" : n === 1 ? "one object" : "2+ objects";
}
let c: ReturnType<typeof comparePaired>;
try {
  c = comparePaired(a, b, objectsNamed);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
const pct = (x: number | null) => (x === null ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`);
const acc = (x: number | null) => (x === null ? "–" : (100 * x).toFixed(1));
const lines = [
  `A ${fa}: overall ${acc(c.overall.a)}%`,
  `B ${fb}: overall ${acc(c.overall.b)}%`,
  `paired per-prompt score B − A: ${c.meanDiff >= 0 ? "+" : ""}${c.meanDiff.toFixed(3)} ± ${c.standardError.toFixed(3)} (1 SE; ${c.pairs} prompts: ${c.up} up, ${c.down} down, ${c.same} same)`,
  ...Object.entries(c.attributes).map(([k, d]) => `  ${k.padEnd(10)} ${pct(d)} points`),
];
// Report-only direction (not in overall); reports written before it existed have none.
const dirA: number | null | undefined = a.direction?.accuracy;
const dirB: number | null | undefined = b.direction?.accuracy;
if (dirA != null && dirB != null)
  lines.push(`  direction  ${pct(dirB - dirA)} points (report-only: A ${acc(dirA)}%, B ${acc(dirB)}%)`);
// Report-only binding (prompts of 2+ colours showing every one); older reports have none.
const bindA: { correct: number; total: number; accuracy: number | null } | undefined = a.binding;
const bindB: { correct: number; total: number; accuracy: number | null } | undefined = b.binding;
if (bindA?.accuracy != null && bindB?.accuracy != null)
  lines.push(
    `  binding    ${pct(bindB.accuracy - bindA.accuracy)} points (report-only, every named colour shown: A ${bindA.correct}/${bindA.total}, B ${bindB.correct}/${bindB.total})`,
  );
for (const [g, d] of Object.entries(c.groups))
  lines.push(
    `  ${g}: ${d.pairs} prompts, mean score A ${d.a.toFixed(3)}, B ${d.b.toFixed(3)}, B − A ${d.meanDiff >= 0 ? "+" : ""}${d.meanDiff.toFixed(3)} ± ${d.standardError.toFixed(3)}`,
  );
process.stdout.write(`${lines.join("\n")}\n${JSON.stringify(c)}\n`);
