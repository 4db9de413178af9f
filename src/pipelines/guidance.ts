/** Classifier-free guidance: v = v_uncond + g·(v_cond − v_uncond) (wan-architecture.md §8.4). */
export function guide(cond: Float32Array, uncond: Float32Array, scale: number): Float32Array {
  if (scale === 1) return cond;
  const out = new Float32Array(cond.length);
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i]! + scale * (cond[i]! - uncond[i]!);
  return out;
}
