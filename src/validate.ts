/**
 * zod at the edge: parses input with a schema and turns a failure into a ReelError whose
 * message names every bad field and what is allowed ("seed: Too big: expected number to be
 * <=4294967295"), with the issues also in `details` for API clients.
 */
import { z } from "zod";
import { type ErrorCode, ReelError } from "./errors.ts";

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

const pathOf = (i: Issue) => i.path.map(String).join(".");

/** "a.b: message; c: message" ("(root)" for the whole value). */
export function describeIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${pathOf(i) || "(root)"}: ${i.message}`).join("; ");
}

/** The parsed value, or a ReelError(code) "`prefix`: <every issue>". */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, code: ErrorCode, prefix: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success)
    throw new ReelError(code, `${prefix}: ${describeIssues(r.error.issues)}`, {
      details: { issues: r.error.issues.map((i) => ({ path: pathOf(i), message: i.message })) },
    });
  return r.data;
}

/** The largest seed: seeds are unsigned 32-bit, as in Wan's generator and the APIs reel speaks. */
export const SEED_MAX = 2 ** 32 - 1;

/** A seed field: an integer in 0…SEED_MAX. */
export const seedSchema = () => z.number().int().min(0).max(SEED_MAX);
