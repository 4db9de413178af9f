/**
 * Environment that gives the PyTorch peer OpenBLAS's best kernels on this CPU. Debian's
 * OpenBLAS detects AVX-512 Zen/EPYC hosts as "Haswell" (AVX2, about half the speed), so
 * `OPENBLAS_CORETYPE=SkylakeX` is forced where the CPU has AVX-512F; on a CPU without it that
 * core type dies with SIGILL ("Illegal instruction"), so there OpenBLAS keeps its own choice.
 */
import { cpuFlags } from "../../src/engine/cpu.ts";

export const cpuHasAvx512 = (): boolean => cpuFlags().has("avx512f");

/** Native bf16 dot products (AVX512_BF16): without them torch's bf16 autocast is emulated, ~9× slower than f32. */
export const cpuHasBf16 = (): boolean => cpuFlags().has("avx512_bf16");

export function openblasEnv(): Record<string, string> {
  return cpuHasAvx512() ? { OPENBLAS_CORETYPE: "SkylakeX" } : {};
}
