/**
 * CPU features that change how the engine must lay out its kernels' inputs.
 *
 * int8 range: ORT's x86 int8 GEMM (MLAS, used by DynamicQuantizeMatMul) multiplies uint8
 * activations by int8 weights. With VNNI (AVX512_VNNI or AVX_VNNI) the products accumulate
 * straight into int32. Without it (plain AVX2 / AVX-512F hosts) pairs of products are summed
 * in int16 first (vpmaddubsw), which saturates once |w| > 64: 255·127·2 > 32,767. Measured on
 * an AVX2 EPYC: full-range int8 weights gave a relative L2 error of 0.15 on a small Linear,
 * 7-bit weights (±63, ORT's own "reduce_range") the usual ~1e-2.
 */
import { readFileSync } from "node:fs";

let flags: Set<string> | null = null;

/** The CPU flags /proc/cpuinfo lists (empty off Linux), read once. */
export function cpuFlags(): Set<string> {
  if (flags === null) {
    try {
      const line = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
      flags = new Set((line?.[1] ?? "").trim().split(/\s+/));
    } catch {
      flags = new Set();
    }
  }
  return flags;
}

/** Largest |q| for int8 Linear weights on this machine: 127 with VNNI or off x86, 63 otherwise. */
export function int8WeightMax(): number {
  if (process.env.REEL_INT8_WEIGHT_MAX) return Number(process.env.REEL_INT8_WEIGHT_MAX);
  if (process.arch !== "x64") return 127;
  const f = cpuFlags();
  return f.has("avx512_vnni") || f.has("avx_vnni") ? 127 : 63;
}
