/** Command-line flag values shared by the commands: parsed at the edge, with errors that name the flag. */
import { ReelError } from "../errors.ts";

/** A numeric flag's value (undefined when the flag was not given). */
export function numberFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ReelError("E_INPUT_INVALID", `--${flag} ${v}: not a number`);
  return n;
}

/** A whole-number flag in [min, max], `def` when not given; the error names the flag and the range. */
export function intFlag(flag: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = v.trim() === "" ? Number.NaN : Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ReelError("E_INPUT_INVALID", `--${flag} ${v}: a whole number from ${min} to ${max}`);
  return n;
}

export const PRECISIONS = ["f32", "int8"] as const;
export type Precision = (typeof PRECISIONS)[number];

/** `--precision`: f32 or int8 (undefined when not given). */
export function precisionFlag(v: string | undefined): Precision | undefined {
  if (v === undefined) return undefined;
  if (!(PRECISIONS as readonly string[]).includes(v))
    throw new ReelError("E_INPUT_INVALID", `--precision ${v}: allowed are ${PRECISIONS.join(", ")}`);
  return v as Precision;
}
