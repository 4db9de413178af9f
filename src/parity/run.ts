/** Runs every fixture found in some folders and reports one Comparison per output tensor. */
import { isReelError } from "../errors.ts";
import type { Comparison } from "./compare.ts";
import { runClipFixture } from "./clip.ts";
import { type ParityRunOptions, runDitFixture } from "./dit.ts";
import { runSchedulerFixture } from "./scheduler.ts";
import { runT5Fixture } from "./t5.ts";
import { runVaeFixture } from "./vae.ts";
import { type Component, type Fixture, findFixtures } from "./fixtures.ts";

export interface FixtureReport {
  readonly fixture: Fixture;
  readonly comparisons: readonly Comparison[];
  /** Set when the fixture could not be run at all. */
  readonly error?: string;
}

type Runner = (fx: Fixture, o: ParityRunOptions) => Promise<Comparison[]>;

/** Components reel can check today. The others are reported as not runnable (a failure). */
const RUNNERS: Partial<Record<Component, Runner>> = {
  dit: runDitFixture,
  clip: runClipFixture,
  t5: runT5Fixture,
  scheduler: runSchedulerFixture,
  vae: runVaeFixture,
  vae22: runVaeFixture,
};

export async function runParity(
  dirs: readonly string[],
  o: ParityRunOptions & { only?: ReadonlySet<Component>; onReport?: (r: FixtureReport) => void },
): Promise<FixtureReport[]> {
  const reports: FixtureReport[] = [];
  for (const fx of findFixtures(dirs)) {
    if (o.only && !o.only.has(fx.component)) continue;
    const runner = RUNNERS[fx.component];
    let report: FixtureReport;
    if (runner === undefined) {
      report = {
        fixture: fx,
        comparisons: [],
        error:
          fx.component === "unknown"
            ? "cannot recognise the component (no known config keys in __metadata__.config)"
            : `reel cannot run ${fx.component} fixtures yet`,
      };
    } else {
      try {
        report = { fixture: fx, comparisons: await runner(fx, o) };
      } catch (e) {
        report = { fixture: fx, comparisons: [], error: isReelError(e) ? `${e.code}: ${e.message}` : String(e) };
      }
    }
    o.onReport?.(report);
    reports.push(report);
  }
  return reports;
}

export function parityPassed(reports: readonly FixtureReport[]): boolean {
  return (
    reports.length > 0 &&
    reports.every((r) => r.error === undefined && r.comparisons.length > 0 && r.comparisons.every((c) => c.ok))
  );
}
