/**
 * Parity of the umT5 encoder against a T5 fixture (t5-tiny and unseen ones of other sizes):
 * out, the trimmed contexts, seq_lens (exact), the token embedding, every block output and
 * position bias, and the host bucket table (exact). Sizes come from `__metadata__.config` and
 * the tensor shapes only.
 */
import { readTensor } from "../engine/safetensors.ts";
import { type HostTensor, i64 } from "../engine/tensor.ts";
import { weightMapFromFiles } from "../engine/weights.ts";
import { ReelError } from "../errors.ts";
import { relativePositionBuckets } from "../models/t5/buckets.ts";
import { parseT5Config } from "../models/t5/config.ts";
import { UMT5Encoder } from "../models/t5/model.ts";
import { type Comparison, compareTensor, failedComparison } from "./compare.ts";
import type { ParityRunOptions } from "./dit.ts";
import type { Fixture } from "./fixtures.ts";

const INPUTS = new Set(["ids", "mask"]);
const TAP = /^(token_embedding_out|block\d+_out|block\d+_pos_bias)$/;

export async function runT5Fixture(fx: Fixture, o: ParityRunOptions): Promise<Comparison[]> {
  if (fx.weights === null)
    throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: no ${fx.name}.weights.safetensors`);
  const cfg = parseT5Config(fx.config, `${fx.name} __metadata__.config`);
  if (!fx.io.tensors.has("ids")) throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: input "ids" is missing`);
  const ids = readTensor(fx.io, "ids");
  // T5Encoder(ids, mask=None) masks nothing: the same as a mask of ones.
  const mask = fx.io.tensors.has("mask")
    ? readTensor(fx.io, "mask")
    : i64(ids.dims, new Array<number>(ids.data.length).fill(1));
  const model = new UMT5Encoder(cfg, weightMapFromFiles([fx.weights.path]), o);
  const expected = [...fx.io.tensors.keys()].filter((k) => !INPUTS.has(k));
  const r = await model.encode(ids, mask, new Set(expected.filter((k) => TAP.test(k))));

  const produce = (k: string, want: HostTensor): HostTensor | undefined => {
    if (k === "out") return r.out;
    if (k === "seq_lens") return i64([r.seqLens.length], r.seqLens);
    if (k === "rel_buckets") {
      const [lq, lk] = want.dims as [number, number];
      return { dtype: "int64", dims: [lq, lk], data: relativePositionBuckets(lq, lk, cfg.num_buckets) };
    }
    const ctx = /^context_(\d+)$/.exec(k);
    if (ctx !== null) return r.contexts[Number(ctx[1])];
    return r.taps[k];
  };

  const results: Comparison[] = [];
  for (const k of expected) {
    const want = readTensor(fx.io, k);
    const got = produce(k, want);
    if (got === undefined) {
      results.push(failedComparison(fx.name, k, "not produced"));
      continue;
    }
    if (got.dims.join() !== want.dims.join()) {
      results.push(failedComparison(fx.name, k, `shape [${got.dims}], expected [${want.dims}]`));
      continue;
    }
    results.push(compareTensor(fx.name, k, got.data, want.data));
  }
  return results;
}
