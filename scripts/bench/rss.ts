import { readFileSync, writeFileSync } from "node:fs";

/** Resets this process's peak RSS (VmHWM) so the next reading covers only what follows. */
export function resetPeakRss(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // not Linux or not permitted: the reading then covers the whole process
  }
}

/** Peak resident set size in MiB (VmHWM), file-backed mapped weights included. */
export function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : Math.round(process.resourceUsage().maxRSS / 1024);
}
