/** Every error code is documented in docs/errors.md and raised somewhere in src/. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isReelError, ReelError } from "./errors.ts";

const ROOT = resolve(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith("errors.ts") ? [p] : [];
  });
}

describe("error codes", () => {
  const docs = readFileSync(join(ROOT, "docs/errors.md"), "utf8");
  const code = sources(join(ROOT, "src"))
    .map((p) => readFileSync(p, "utf8"))
    .join("\n");
  for (const c of Object.keys(ERROR_CODES)) {
    it(`${c} is documented and used`, () => {
      expect(docs).toContain(`\`${c}\``);
      expect(code).toContain(`"${c}"`);
    });
  }

  it("serialises and is recognised by name across boundaries", () => {
    const e = new ReelError("E_INPUT_INVALID", "bad", { details: { field: "x" } });
    const copy = { ...JSON.parse(JSON.stringify(e)), name: "ReelError" };
    expect(copy).toMatchObject({ code: "E_INPUT_INVALID", message: "bad", details: { field: "x" } });
    expect(isReelError(copy)).toBe(true);
    expect(isReelError(new Error("x"))).toBe(false);
  });
});
