/**
 * Writes training/word_classes.json: the caption words of each attribute value, grouped by
 * attribute (src/toyworld/word-classes.ts), for `train_toy.py dit --dit-text-aux`.
 *
 * usage: node bin/run-ts.js scripts/toy/word-classes.ts [OUT.json]   (default: stdout)
 */
import { writeFileSync } from "node:fs";
import { wordClasses } from "../../src/toyworld/word-classes.ts";
import { scriptArgs } from "../args.ts";

const USAGE = "usage: node bin/run-ts.js scripts/toy/word-classes.ts [OUT.json]";
const { positionals } = scriptArgs(USAGE, { allowPositionals: true, options: {} });
const text = `${JSON.stringify(wordClasses(), null, 1)}\n`;
if (positionals[0]) writeFileSync(positionals[0], text);
else process.stdout.write(text);
