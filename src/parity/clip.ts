/**
 * Parity of the CLIP vision encoder (models/clip) against a clip fixture: every tensor of
 * every case, from the raw image through preprocessing and the ViT to `clip_fea`.
 *
 * Cases are found by key prefix (`{p}_clip_fea` or `{p}_pixel_values`, e.g. `i2v_`,
 * `flf2v_`), so fixtures with other cases and sizes work. Inputs per case: the raw uint8
 * images `{p}_raw{k}` (I64 [H, W, 3]), else the ±1 images `{p}_image{k}` [3, H, W], else
 * `{p}_pixel_values`. Everything else of the case is an expected tensor, compared once.
 */
import { readTensor } from "../engine/safetensors.ts";
import type { HostTensor } from "../engine/tensor.ts";
import { ReelError } from "../errors.ts";
import { parseClipVisionConfig } from "../models/clip/config.ts";
import { ClipVisionEncoder, clipWeightMap } from "../models/clip/model.ts";
import { type Comparison, compareTensor, failedComparison } from "./compare.ts";
import type { ParityRunOptions } from "./dit.ts";
import type { Fixture } from "./fixtures.ts";

/** Case prefixes (`i2v`, `flf2v`, ...) and the keys of each, the key without its prefix. */
export function clipCases(keys: readonly string[]): Map<string, Map<string, string>> {
  const prefixes = new Set<string>();
  for (const k of keys) {
    const m = /^(.+)_(clip_fea|pixel_values)$/.exec(k);
    if (m) prefixes.add(m[1]!);
  }
  const cases = new Map<string, Map<string, string>>([...prefixes].sort().map((p) => [p, new Map()]));
  for (const k of keys) {
    // The longest prefix wins, so a case `a` never takes the keys of a case `a_b`.
    let best: string | null = null;
    for (const p of prefixes) if (k.startsWith(`${p}_`) && (best === null || p.length > best.length)) best = p;
    if (best !== null) cases.get(best)!.set(k.slice(best.length + 1), k);
  }
  return cases;
}

/** An I64 [H, W, 3] fixture image with values 0..255 as a uint8 tensor. */
function rawToUint8(fixture: string, key: string, t: HostTensor): HostTensor {
  const src = t.data as BigInt64Array;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v < 0n || v > 255n)
      throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fixture}: ${key}[${i}] = ${v} is not a uint8 value`);
    out[i] = Number(v);
  }
  return { dtype: "uint8", dims: t.dims, data: out };
}

function stack(parts: readonly HostTensor[]): Float32Array {
  const n = parts.reduce((s, p) => s + p.data.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, o);
    o += p.data.length;
  }
  return out;
}

export async function runClipFixture(fx: Fixture, o: ParityRunOptions): Promise<Comparison[]> {
  if (fx.weights === null)
    throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: no ${fx.name}.weights.safetensors`);
  const cfg = parseClipVisionConfig(fx.config, `${fx.name} __metadata__.config`);
  const cases = clipCases([...fx.io.tensors.keys()]);
  if (cases.size === 0)
    throw new ReelError(
      "E_FIXTURE_UNSUPPORTED",
      `${fx.name}: no CLIP case found (expected keys "{case}_clip_fea" or "{case}_pixel_values")`,
    );
  const encoder = new ClipVisionEncoder(cfg, clipWeightMap([fx.weights.path]), o);
  const results: Comparison[] = [];
  for (const [prefix, keys] of cases) {
    const read = (name: string) => readTensor(fx.io, keys.get(name)!);
    // Inputs: raw images, else ±1 images, else pixel values.
    const inputs = new Set<string>();
    const images: HostTensor[] = [];
    for (const kind of ["raw", "image"]) {
      for (let k = 0; keys.has(`${kind}${k}`); k++) {
        const key = `${kind}${k}`;
        images.push(kind === "raw" ? rawToUint8(fx.name, keys.get(key)!, read(key)) : read(key));
        inputs.add(key);
      }
      if (images.length > 0) break;
    }
    const got = new Map<string, HostTensor>();
    let pixelValues: HostTensor;
    if (images.length > 0) {
      const pre = encoder.preprocess(images);
      pixelValues = pre.pixelValues;
      const S = cfg.image_size;
      pre.stages.forEach((s, k) => {
        got.set(`image${k}`, s.image);
      });
      got.set("resized", {
        dtype: "float32",
        dims: [images.length, 3, S, S],
        data: stack(pre.stages.map((s) => s.resized)),
      });
      got.set("pixel_values", pixelValues);
    } else if (keys.has("pixel_values")) {
      pixelValues = read("pixel_values");
      inputs.add("pixel_values");
    } else
      throw new ReelError(
        "E_FIXTURE_UNSUPPORTED",
        `${fx.name}: case "${prefix}" has no input ("${prefix}_raw0", "${prefix}_image0" or "${prefix}_pixel_values")`,
      );
    const expected = [...keys.keys()].filter((k) => !inputs.has(k)).sort();
    const taps = new Set(expected.filter((k) => !got.has(k) && k !== "clip_fea"));
    const out = await encoder.forwardPixels(pixelValues, taps);
    for (const [k, v] of Object.entries(out)) got.set(k, v);
    for (const k of expected) {
      const key = keys.get(k)!;
      const g = got.get(k);
      if (g === undefined) {
        results.push(failedComparison(fx.name, key, "not produced"));
        continue;
      }
      results.push(compareTensor(fx.name, key, g.data, read(k).data));
    }
  }
  return results;
}
