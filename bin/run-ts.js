#!/usr/bin/env node
// Runs a TypeScript script of this repository: node bin/run-ts.js scripts/bench.ts [args...]
import { resolve } from "node:path";
import { launch } from "./launch.js";

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node bin/run-ts.js <script.ts> [args...]");
  process.exit(2);
}
await launch(resolve(script), args);
