/**
 * Locates ../shared/fixtures. Where it is absent (someone else's clone) the fixture tests
 * skip with a visible reason; under CI (CI=true) a missing fixture is a failure.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const SHARED = resolve(import.meta.dirname, "../../../shared");
export const WAN21_FIXTURES = join(SHARED, "fixtures/wan21");

export function fixturePath(name: string): string | null {
  const p = join(WAN21_FIXTURES, name);
  if (existsSync(p)) return p;
  if (process.env.CI === "true") throw new Error(`fixture ${p} is missing (CI=true: shared fixtures are required)`);
  return null;
}

/** Reason to skip, printed by the test name, or null when all fixtures are present. */
export function missingFixtures(...names: string[]): string | null {
  const missing = names.filter((n) => fixturePath(n) === null);
  return missing.length ? `SKIPPED: shared fixtures not found at ${WAN21_FIXTURES} (${missing.join(", ")})` : null;
}
