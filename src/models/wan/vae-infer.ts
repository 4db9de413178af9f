/**
 * The Wan VAE's constructor kwargs read off its weights (official key names), for files that
 * come without a config: ComfyUI's `vae/wan_2.1_vae.safetensors` and `vae/wan2.2_vae.safetensors`.
 * 2.2 is recognised by its grouped encoder (`encoder.downsamples.{s}.downsamples.{j}`).
 * Every value is read from a tensor shape or the presence of a key; attention is never used
 * inside the down/upsamples of a released VAE (attn_scales []).
 */
import { ReelError } from "../../errors.ts";
import type { WanVaeVersion } from "./vae-config.ts";

export function inferVaeConfig(
  shapes: ReadonlyMap<string, readonly number[]>,
  where: string,
): {
  version: WanVaeVersion;
  config: Record<string, unknown>;
} {
  const shape = (k: string): readonly number[] => {
    const s = shapes.get(k);
    if (!s) throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: not a Wan VAE (no "${k}" tensor)`);
    return s;
  };
  const dim = shape("encoder.conv1.weight")[0]!;
  const z_dim = shape("conv2.weight")[0]!;
  const v22 = [...shapes.keys()].some((k) => k.startsWith("encoder.downsamples.0.downsamples."));
  const idx = (re: RegExp) => new Set([...shapes.keys()].flatMap((k) => (re.exec(k) ? [Number(re.exec(k)![1])] : [])));
  const dim_mult: number[] = [];
  const temperal_downsample: boolean[] = [];
  let nrb: number;
  if (v22) {
    const stages = idx(/^encoder\.downsamples\.(\d+)\./).size;
    nrb = idx(/^encoder\.downsamples\.0\.downsamples\.(\d+)\.residual\./).size;
    for (let s = 0; s < stages; s++) {
      dim_mult.push(shape(`encoder.downsamples.${s}.downsamples.0.residual.2.weight`)[0]! / dim);
      if (s < stages - 1)
        temperal_downsample.push(shapes.has(`encoder.downsamples.${s}.downsamples.${nrb}.time_conv.weight`));
    }
  } else {
    const all = idx(/^encoder\.downsamples\.(\d+)\./);
    const resamples = [...all]
      .filter((i) => shapes.has(`encoder.downsamples.${i}.resample.1.weight`))
      .sort((a, b) => a - b);
    const stages = resamples.length + 1;
    nrb = (all.size - resamples.length) / stages;
    if (!Number.isInteger(nrb))
      throw new ReelError("E_WEIGHTS_MISMATCH", `${where}: encoder blocks do not form ${stages} equal stages`);
    for (let s = 0; s < stages; s++) {
      dim_mult.push(shape(`encoder.downsamples.${s * (nrb + 1)}.residual.2.weight`)[0]! / dim);
      if (s < stages - 1)
        temperal_downsample.push(shapes.has(`encoder.downsamples.${s * (nrb + 1) + nrb}.time_conv.weight`));
    }
  }
  const decOut = shape("decoder.head.2.weight")[1]! / dim_mult[0]!;
  return {
    version: v22 ? "2.2" : "2.1",
    config: {
      dim,
      z_dim,
      dim_mult,
      num_res_blocks: nrb,
      attn_scales: [],
      temperal_downsample,
      ...(v22 ? { dec_dim: decOut } : {}),
    },
  };
}
