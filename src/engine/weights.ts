/**
 * Weight maps: checkpoint tensors by canonical key, and the one-pass check of a model's
 * declared params against them (every missing, unexpected and mis-shaped key in one error).
 */
import { ReelError } from "../errors.ts";
import type { DType } from "./dtype.ts";
import type { Graph } from "./graph.ts";
import { isPthPath, readPthHeader } from "./pth.ts";
import { readHeader, type SafetensorsHeader, type TensorEntry } from "./safetensors.ts";

export interface WeightSource {
  readonly file: SafetensorsHeader;
  readonly entry: TensorEntry;
}

/** Canonical checkpoint key → where its bytes are. */
export type WeightMap = ReadonlyMap<string, WeightSource>;

/** All tensors of some safetensors (or torch.save `.pth`/`.pt`) files, keys optionally renamed (null drops a key). */
export function weightMapFromFiles(
  paths: readonly string[],
  rename: (key: string) => string | null = (k) => k,
): WeightMap {
  const map = new Map<string, WeightSource>();
  for (const path of paths) {
    const file = isPthPath(path) ? readPthHeader(path) : readHeader(path);
    if (file.tensors.has("scaled_fp8"))
      throw new ReelError(
        "E_WEIGHTS_MISMATCH",
        `${path} is a "scaled" fp8 checkpoint (per-tensor scale_weight factors), which reel does not apply yet; ` +
          "use the plain fp8_e4m3fn, bf16 or fp16 file of the same model",
      );
    for (const entry of file.tensors.values()) {
      const key = rename(entry.name);
      if (key === null) continue;
      const prev = map.get(key);
      if (prev !== undefined)
        throw new ReelError(
          "E_WEIGHTS_MISMATCH",
          `tensor "${key}" appears twice: in ${prev.file.path} ("${prev.entry.name}") and ${path} ("${entry.name}")`,
        );
      map.set(key, { file, entry });
    }
  }
  return map;
}

export interface DeclaredParam {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export function declaredParams(g: Graph): Map<string, DeclaredParam> {
  const out = new Map<string, DeclaredParam>();
  for (const p of g.params.values()) {
    if (p.derive) out.set(p.derive.from, { shape: p.derive.fromShape, dtype: "float32" });
    else out.set(p.key, { shape: p.value.shape, dtype: p.value.dtype });
  }
  return out;
}

const FLOATS: ReadonlySet<DType> = new Set(["float32", "float16", "bfloat16", "float8e4m3fn"]);

/**
 * Checks declared params against a weight map. Throws one E_WEIGHTS_MISMATCH listing all
 * problems. `ignore` names checkpoint keys a model legitimately does not use.
 */
export function checkWeights(
  what: string,
  declared: ReadonlyMap<string, DeclaredParam>,
  weights: WeightMap,
  ignore: (key: string) => boolean = () => false,
): void {
  const missing: string[] = [];
  const misShaped: string[] = [];
  const badType: string[] = [];
  for (const [key, d] of declared) {
    const w = weights.get(key);
    if (w === undefined) {
      missing.push(`${key} [${d.shape.join(", ")}]`);
      continue;
    }
    if (w.entry.shape.join() !== d.shape.join())
      misShaped.push(`${key}: checkpoint [${w.entry.shape.join(", ")}], model expects [${d.shape.join(", ")}]`);
    if (d.dtype !== w.entry.dtype && !(FLOATS.has(d.dtype) && FLOATS.has(w.entry.dtype)))
      badType.push(`${key}: checkpoint ${w.entry.dtype}, model expects ${d.dtype}`);
  }
  const unexpected = [...weights.keys()].filter((k) => !declared.has(k) && !ignore(k));
  if (missing.length + misShaped.length + badType.length + unexpected.length === 0) return;
  const parts: string[] = [];
  const list = (title: string, xs: string[]) => {
    if (xs.length === 0) return;
    const shown = xs.slice(0, 200).map((x) => `    ${x}`);
    if (xs.length > 200) shown.push(`    ... and ${xs.length - 200} more`);
    parts.push(`  ${title} (${xs.length}):\n${shown.join("\n")}`);
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("wrong shape", misShaped);
  list("wrong dtype", badType);
  throw new ReelError("E_WEIGHTS_MISMATCH", `${what}: the checkpoint does not match the model\n${parts.join("\n")}`, {
    details: { missing, unexpected, misShaped, badType },
  });
}
