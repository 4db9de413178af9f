/**
 * Builds reel-toy's tokenizer.json: the umT5 tokenizer format (SentencePiece Unigram with the
 * Metaspace pre-tokenizer and the "$A </s>" template, read by the same code as google/umt5-xxl's),
 * with a word-level vocabulary: every word the toy world's caption grammar produces is one
 * piece, plus single characters and digits so any other text still tokenizes.
 *
 * usage: node bin/run-ts.js scripts/toy/build-tokenizer.ts OUT.json [--samples 50000]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { captionScene } from "../../src/toyworld/caption.ts";
import { sampleWorld } from "../../src/toyworld/world.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { samples: { type: "string", default: "50000" } },
});
const out = positionals[0];
if (!out) {
  process.stderr.write("usage: build-tokenizer.ts OUT.json [--samples N]\n");
  process.exit(2);
}
const words = new Map<string, number>();
for (let seed = 0; seed < Number(values.samples); seed++) {
  const text = captionScene(sampleWorld(2_000_000 + seed)).text.toLowerCase();
  for (const w of text.split(/[\s,.;:!?"()]+/)) if (w) words.set(w, (words.get(w) ?? 0) + 1);
}
const sorted = [...words.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
const chars = [..."abcdefghijklmnopqrstuvwxyz0123456789,.;:!?'\"()-"];
const vocab: [string, number][] = [
  ["<pad>", 0],
  ["</s>", 0],
  ["<unk>", 0],
  ["▁", -4],
  ...sorted.map((w) => [`▁${w}`, -1] as [string, number]),
  ...chars.map((c) => [c, -6] as [string, number]),
];
const special = (id: number, content: string) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special: true,
});
const json = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [special(0, "<pad>"), special(1, "</s>"), special(2, "<unk>")],
  normalizer: {
    type: "Sequence",
    normalizers: [{ type: "Lowercase" }, { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }],
  },
  pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [
      { Sequence: { id: "A", type_id: 0 } },
      { SpecialToken: { id: "</s>", type_id: 0 } },
      { Sequence: { id: "B", type_id: 0 } },
      { SpecialToken: { id: "</s>", type_id: 0 } },
    ],
    special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
  },
  decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  model: { type: "Unigram", unk_id: 2, vocab, byte_fallback: false },
};
writeFileSync(out, `${JSON.stringify(json)}\n`);
process.stderr.write(`wrote ${out}: ${sorted.length} words, ${vocab.length} pieces\n`);
