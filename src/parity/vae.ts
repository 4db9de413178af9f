/**
 * Parity of the Wan VAE (2.1 `vae`, 2.2 `vae22`) against its fixtures: for every case
 * `f{T}_{H}x{W}_*` found in the io file, encode `_video` (expected: `_encoder_out`,
 * `_conv1_out`, `_mu`) and decode the fixture's `_mu` (expected: `_conv2_out`,
 * `_decoded_raw`, `_decoded`), streaming chunk by chunk as the official code does; plus the
 * latent statistics `latents_mean` / `latents_std` against reel's constants. One Comparison
 * per expected tensor; a tensor reel does not know is reported as a failure.
 */
import { readTensor } from "../engine/safetensors.ts";
import type { HostTensor } from "../engine/tensor.ts";
import { weightMapFromFiles } from "../engine/weights.ts";
import { ReelError } from "../errors.ts";
import { defaultLatentStats, type LatentStats, parseWanVaeConfig } from "../models/wan/vae-config.ts";
import { type DecodeTap, type EncodeTap, WanVAE } from "../models/wan/vae-runner.ts";
import { type Comparison, compareTensor, failedComparison } from "./compare.ts";
import type { ParityRunOptions } from "./dit.ts";
import type { Fixture } from "./fixtures.ts";

const CASE = /^(f(\d+)_(\d+)x(\d+))_([a-z0-9_]+)$/;
const ENCODE_TAPS: Record<string, EncodeTap | "latent"> = {
  encoder_out: "encoder_out",
  conv1_out: "conv1_out",
  mu: "latent",
};
const DECODE_TAPS: Record<string, DecodeTap | "video"> = {
  conv2_out: "conv2_out",
  decoded_raw: "decoded_raw",
  decoded: "video",
};

/** reel's latent statistics when they exist for this z_dim; otherwise the fixture's (then they are inputs). */
function stats(fx: Fixture, cfg: ReturnType<typeof parseWanVaeConfig>): { stats: LatentStats; builtIn: boolean } {
  try {
    return { stats: defaultLatentStats(cfg), builtIn: true };
  } catch {
    if (!fx.io.tensors.has("latents_mean") || !fx.io.tensors.has("latents_std"))
      throw new ReelError(
        "E_FIXTURE_UNSUPPORTED",
        `${fx.name}: z_dim ${cfg.z_dim} has no built-in latent statistics and the fixture has no latents_mean/latents_std`,
      );
    const mean = readTensor(fx.io, "latents_mean").data as Float32Array;
    const std = readTensor(fx.io, "latents_std").data as Float32Array;
    return { stats: { mean, std }, builtIn: false };
  }
}

export async function runVaeFixture(fx: Fixture, o: ParityRunOptions): Promise<Comparison[]> {
  if (fx.component !== "vae" && fx.component !== "vae22")
    throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: not a VAE fixture (component ${fx.component})`);
  if (fx.weights === null)
    throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: no ${fx.name}.weights.safetensors`);
  const cfg = parseWanVaeConfig(fx.config, fx.component === "vae" ? "2.1" : "2.2", `${fx.name} __metadata__.config`);
  const st = stats(fx, cfg);
  const vae = new WanVAE(cfg, weightMapFromFiles([fx.weights.path]), {
    ...o,
    latentsMean: st.stats.mean,
    latentsStd: st.stats.std,
  });
  const results: Comparison[] = [];
  const cases = new Map<string, { size: [number, number, number]; tensors: Map<string, string> }>(); // by prefix
  for (const key of fx.io.tensors.keys()) {
    if (key === "latents_mean" || key === "latents_std") {
      if (st.builtIn) {
        const ours = key === "latents_mean" ? st.stats.mean : st.stats.std;
        results.push(compareTensor(fx.name, key, ours, readTensor(fx.io, key).data));
      }
      continue;
    }
    const m = CASE.exec(key);
    if (m === null) {
      results.push(failedComparison(fx.name, key, "not a VAE case tensor (f{T}_{H}x{W}_<name>) reel knows"));
      continue;
    }
    const [, prefix, T, H, W, suffix] = m as unknown as [string, string, string, string, string, string];
    if (!cases.has(prefix)) cases.set(prefix, { size: [Number(T), Number(H), Number(W)], tensors: new Map() });
    cases.get(prefix)!.tensors.set(suffix, key);
  }
  for (const { size, tensors } of cases.values()) {
    const [T, H, W] = size;
    const known = new Set(["video", ...Object.keys(ENCODE_TAPS), ...Object.keys(DECODE_TAPS)]);
    for (const [suffix, key] of tensors)
      if (!known.has(suffix)) results.push(failedComparison(fx.name, key, `unknown VAE tensor suffix "_${suffix}"`));
    const compare = (suffix: string, got: HostTensor | undefined) => {
      const key = tensors.get(suffix);
      if (key === undefined) return;
      const want = readTensor(fx.io, key);
      if (got === undefined) results.push(failedComparison(fx.name, key, "not produced"));
      else if (got.dims.join() !== want.dims.join())
        results.push(failedComparison(fx.name, key, `shape [${got.dims}], expected [${want.dims}]`));
      else results.push(compareTensor(fx.name, key, got.data, want.data));
    };
    // Encode the case's video, when it has one.
    let mu: HostTensor | undefined;
    const videoKey = tensors.get("video");
    if (videoKey !== undefined) {
      const video = readTensor(fx.io, videoKey);
      if (video.dims.join() !== [3, T, H, W].join())
        throw new ReelError(
          "E_FIXTURE_UNSUPPORTED",
          `${fx.name}: ${videoKey} is [${video.dims}], its name says [3, ${T}, ${H}, ${W}]`,
        );
      const taps = new Set(
        Object.keys(ENCODE_TAPS)
          .filter((s) => s !== "mu" && tensors.has(s))
          .map((s) => ENCODE_TAPS[s] as EncodeTap),
      );
      const enc = await vae.encodeWithTaps(video, taps);
      for (const [suffix, name] of Object.entries(ENCODE_TAPS)) compare(suffix, enc[name]);
      mu = enc.latent;
    }
    // Decode the fixture's mu (the reference decodes exactly that), else ours.
    const muKey = tensors.get("mu");
    const latent = muKey !== undefined ? readTensor(fx.io, muKey) : mu;
    const wantsDecode = Object.keys(DECODE_TAPS).some((s) => tensors.has(s));
    if (!wantsDecode) continue;
    if (latent === undefined) {
      for (const s of Object.keys(DECODE_TAPS))
        if (tensors.has(s)) results.push(failedComparison(fx.name, tensors.get(s)!, "no _mu or _video to decode"));
      continue;
    }
    const taps = new Set(
      Object.keys(DECODE_TAPS)
        .filter((s) => s !== "decoded" && tensors.has(s))
        .map((s) => DECODE_TAPS[s] as DecodeTap),
    );
    const dec = await vae.decodeWithTaps(latent, taps);
    for (const [suffix, name] of Object.entries(DECODE_TAPS)) compare(suffix, dec[name]);
  }
  return results;
}
