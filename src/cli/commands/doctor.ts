/** `reel doctor`: what reel runs on here (Node, ONNX Runtime devices, ffmpeg, caches, models). */
import { availableParallelism, freemem, totalmem } from "node:os";
import { defaultCacheDir } from "../../engine/compile.ts";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { isReelError } from "../../errors.ts";
import { findFfmpeg } from "../../media/ffmpeg.ts";
import { discoverModels, searchPaths } from "../../models/discovery.ts";

export async function run(_args: string[]): Promise<number> {
  const lines: [string, string][] = [];
  let ok = true;
  lines.push(["node", process.version]);
  lines.push([
    "cpu",
    `${availableParallelism()} threads, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free)`,
  ]);
  lines.push(["GLIBC_TUNABLES", process.env.GLIBC_TUNABLES ?? "(unset: large buffers will page-fault on every call)"]);
  try {
    lines.push(["onnxruntime devices", ortRuntime.availableDevices().join(", ")]);
  } catch (e) {
    ok = false;
    lines.push(["onnxruntime", `NOT LOADABLE: ${(e as Error).message}`]);
  }
  try {
    const f = findFfmpeg();
    lines.push(["ffmpeg", `${f.path} (${f.source}, ${f.version})`]);
  } catch (e) {
    ok = false;
    lines.push(["ffmpeg", isReelError(e) ? e.message : String(e)]);
  }
  lines.push(["cache", defaultCacheDir()]);
  lines.push(["model search paths", searchPaths().join(", ")]);
  const models = discoverModels();
  lines.push([
    "models",
    models.length ? models.map((m) => `${m.name}${m.missing.length ? " (incomplete)" : ""}`).join(", ") : "none",
  ]);
  for (const [k, v] of lines) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
  return ok ? 0 : 1;
}
