/**
 * Builds reel-toy's tokenizer.json: the umT5 tokenizer format (SentencePiece Unigram with the
 * Metaspace pre-tokenizer and the "$A </s>" template, read by the same code as google/umt5-xxl's),
 * with a word-level vocabulary: every word the toy world's caption grammar produces is one
 * piece, plus single characters and digits so any other text still tokenizes.
 *
 * usage: node bin/run-ts.js scripts/toy/build-tokenizer.ts OUT.json [--samples 50000]
 */
import { writeFileSync } from "node:fs";
import { scriptArgs } from "../args.ts";
import { unigramTokenizerJson } from "../../src/models/t5/tokenizer-json.ts";
import { captionScene } from "../../src/toyworld/caption.ts";
import { sampleWorld } from "../../src/toyworld/world.ts";

const USAGE = `usage: node bin/run-ts.js scripts/toy/build-tokenizer.ts OUT.json [--samples 50000]`;

const { values, positionals } = scriptArgs(USAGE, {
  allowPositionals: true,
  options: { samples: { type: "string", default: "50000" } },
});
const out = positionals[0];
if (!out) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const words = new Map<string, number>();
for (let seed = 0; seed < Number(values.samples); seed++) {
  const text = captionScene(sampleWorld(2_000_000 + seed)).text.toLowerCase();
  for (const w of text.split(/[\s,.;:!?"()]+/)) if (w) words.set(w, (words.get(w) ?? 0) + 1);
}
const sorted = [...words.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
const chars = [..."abcdefghijklmnopqrstuvwxyz0123456789,.;:!?'\"()-"];
const json = unigramTokenizerJson(sorted, chars, { lowercase: true });
writeFileSync(out, `${JSON.stringify(json)}\n`);
process.stderr.write(`wrote ${out}: ${sorted.length} words, ${sorted.length + chars.length + 4} pieces\n`);
