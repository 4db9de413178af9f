/** Nearest-neighbour classification against rendered reference descriptors (shapes, backgrounds). */

export interface Described {
  /** The descriptor, of the same length as the one it is compared with. */
  readonly v: ArrayLike<number>;
}

/** The reference nearest to `v` (Euclidean) and its distance; `refs` must not be empty. */
export function nearest<R extends Described>(v: ArrayLike<number>, refs: readonly R[]): { ref: R; distance: number } {
  let best = refs[0];
  if (best === undefined) throw new Error("nearest: no references");
  let bd = Number.POSITIVE_INFINITY;
  for (const r of refs) {
    let d = 0;
    for (let i = 0; i < v.length; i++) d += (v[i]! - r.v[i]!) ** 2;
    if (d < bd) {
      bd = d;
      best = r;
    }
  }
  return { ref: best, distance: Math.sqrt(bd) };
}
