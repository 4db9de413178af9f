/**
 * Is B better than A? Paired comparison of two `reel eval --prompts` reports on the same
 * prompt file and seed (e.g. models/reel-toy/eval.json against a candidate's): the mean
 * per-prompt score difference ± one standard error, prompts up / down, accuracy deltas per
 * attribute, and the score difference on prompts that name one object and on those that name
 * more. With `--details A.jsonl --details B.jsonl` (the two runs' `reel eval --details` files)
 * also every attribute's accuracy in each of those groups. Prints a table, then the comparison
 * as one JSON line.
 */
import { readFileSync } from "node:fs";
import {
  byObjectsNamed,
  type Counts,
  comparePaired,
  type GroupAccuracy,
  groupAccuracies,
} from "../../src/toyworld/compare.ts";
import type { ScoredVideo } from "../../src/toyworld/evaluate.ts";
import { scriptArgs } from "../args.ts";

const USAGE = `usage: node bin/run-ts.js scripts/toy/compare-evals.ts A.json B.json [--details A.jsonl --details B.jsonl]
  A.json, B.json   reports of \`reel eval --prompts\` on the same prompt file and seed
  --details        the same runs' \`reel eval --details\` files (A's first): adds each attribute's
                   accuracy on prompts naming one object and on those naming more`;
const { positionals, values } = scriptArgs(USAGE, {
  options: { details: { type: "string", multiple: true } },
  allowPositionals: true,
});
if (positionals.length !== 2) {
  process.stderr.write(`expected two report files, got ${positionals.length}\n${USAGE}\n`);
  process.exit(2);
}
if (values.details && values.details.length !== 2) {
  process.stderr.write(`--details takes two files (A's, then B's), got ${values.details.length}\n${USAGE}\n`);
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
let c: ReturnType<typeof comparePaired>;
try {
  c = comparePaired(a, b, byObjectsNamed);
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
const readDetails = (f: string): ScoredVideo[] => {
  try {
    return readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  } catch (e) {
    process.stderr.write(`${f}: cannot read a \`reel eval --details\` file (${(e as Error).message})\n${USAGE}\n`);
    process.exit(2);
  }
};
let split: { a: Record<string, GroupAccuracy>; b: Record<string, GroupAccuracy> } | undefined;
if (values.details) {
  const [da, db] = values.details.map(readDetails) as [ScoredVideo[], ScoredVideo[]];
  for (const [f, d, r] of [
    [values.details[0], da, a],
    [values.details[1], db, b],
  ] as const)
    if (d.length !== r.items.length || d.some((v, i) => v.prompt !== r.items[i].prompt)) {
      process.stderr.write(`${f}: its prompts are not those of the report it goes with (same run, same order)\n`);
      process.exit(2);
    }
  split = { a: groupAccuracies(da, byObjectsNamed), b: groupAccuracies(db, byObjectsNamed) };
  const row = (name: string, x: Counts | undefined, y: Counts | undefined) =>
    x?.accuracy == null || y?.accuracy == null
      ? `    ${name.padEnd(10)} –`
      : `    ${name.padEnd(10)} ${acc(x.accuracy).padStart(5)} → ${acc(y.accuracy).padStart(5)} (${pct(y.accuracy - x.accuracy)}; B ${y.correct}/${y.total})`;
  for (const [g, x] of Object.entries(split.a)) {
    const y = split.b[g];
    lines.push(`  ${g}, accuracy A → B:`);
    for (const k of Object.keys(x.attributes) as (keyof GroupAccuracy["attributes"])[])
      lines.push(row(k, x.attributes[k], y?.attributes[k]));
    lines.push(row("direction", x.direction, y?.direction), row("binding", x.binding, y?.binding));
  }
}
process.stdout.write(`${lines.join("\n")}\n${JSON.stringify(split ? { ...c, split } : c)}\n`);
