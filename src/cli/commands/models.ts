/** `reel models`: the video models reel can see, and what each one lacks. */
import { parseArgs } from "node:util";
import { discoverModels, searchPaths } from "../../models/discovery.ts";

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write(
      "usage: reel models [--json]\n\nLists models (Wan-AI and diffusers folders, ComfyUI models/ roots) found in REEL_MODELS, the Hugging Face cache and ~/.cache/reel/models.\n",
    );
    return 0;
  }
  const models = discoverModels();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ searched: searchPaths(), models }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`searched: ${searchPaths().join(", ")}\n`);
  if (models.length === 0) {
    process.stdout.write("no models found (set REEL_MODELS=/path/to/folders)\n");
    return 0;
  }
  for (const m of models) {
    const status =
      m.missing.length === 0 ? "ready" : `incomplete: missing ${m.missing.map((x) => x.component).join(", ")}`;
    // A ComfyUI model is its DiT file (the models/ root is shared).
    const where = m.layout === "comfyui" ? (m.components.dit ?? m.root) : m.root;
    const hints = m.missing.flatMap((x) => (x.hint ? [`  ${x.hint}\n`] : [])).join("");
    process.stdout.write(`${m.name.padEnd(32)} ${m.layout.padEnd(10)} ${status}\n  ${where}\n${hints}`);
  }
  return 0;
}
