/**
 * Environment that gives the PyTorch peer OpenBLAS's best kernels on this CPU. Debian's
 * OpenBLAS detects AVX-512 Zen/EPYC hosts as "Haswell" (AVX2, about half the speed), so
 * `OPENBLAS_CORETYPE=SkylakeX` is forced where the CPU has AVX-512F; on a CPU without it that
 * core type dies with SIGILL ("Illegal instruction"), so there OpenBLAS keeps its own choice.
 */
import { readFileSync } from "node:fs";

export function cpuHasAvx512(): boolean {
  try {
    return /^flags\s*:.*\bavx512f\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

/** Native bf16 dot products (AVX512_BF16): without them torch's bf16 autocast is emulated, ~9× slower than f32. */
export function cpuHasBf16(): boolean {
  try {
    return /^flags\s*:.*\bavx512_bf16\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

export function openblasEnv(): Record<string, string> {
  return cpuHasAvx512() ? { OPENBLAS_CORETYPE: "SkylakeX" } : {};
}
