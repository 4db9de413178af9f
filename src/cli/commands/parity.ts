/** `reel parity <dir>...`: runs every fixture found, one line per output tensor, non-zero exit on any FAIL. */
import { parseArgs } from "node:util";
import { ortRuntime } from "../../engine/runtime-ort.ts";
import { DEVICES, type Device } from "../../engine/runtime.ts";
import { ReelError } from "../../errors.ts";
import { formatComparison } from "../../parity/compare.ts";
import type { Component } from "../../parity/fixtures.ts";
import { parityPassed, runParity } from "../../parity/run.ts";

const COMPONENTS: readonly Component[] = ["dit", "vae", "vae22", "t5", "clip", "scheduler"];

const USAGE = `usage: reel parity <dir>... [--only dit,vae,...] [--device cpu|cuda|webgpu] [--threads N]

Runs every parity fixture (<name>.io.safetensors + <name>.weights.safetensors) found in the
folders, recognising the component from the names and __metadata__.config. Prints one line per
output tensor with max abs and max rel error (max abs / max |expected|) and ok/FAIL, using the
fixtures' tolerance |got − want| ≤ 2e-5 + 1e-4·|want|. Exits 1 on any FAIL or on a fixture reel
cannot run.
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      only: { type: "string" },
      device: { type: "string", default: "cpu" },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new ReelError("E_INPUT_INVALID", `parity needs at least one folder\n${USAGE}`);
  const device = values.device as Device;
  if (!DEVICES.includes(device))
    throw new ReelError("E_INPUT_INVALID", `--device ${values.device}: allowed are ${DEVICES.join(", ")}`);
  let only: Set<Component> | undefined;
  if (values.only !== undefined) {
    only = new Set();
    for (const c of values.only.split(",")) {
      if (!COMPONENTS.includes(c as Component))
        throw new ReelError("E_INPUT_INVALID", `--only ${c}: allowed are ${COMPONENTS.join(", ")}`);
      only.add(c as Component);
    }
  }
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0))
    throw new ReelError("E_INPUT_INVALID", `--threads ${values.threads}: must be a positive integer`);
  const reports = await runParity(positionals, {
    runtime: ortRuntime,
    device,
    ...(threads ? { threads } : {}),
    ...(only ? { only } : {}),
    onReport: (r) => {
      if (r.error !== undefined)
        process.stdout.write(`${r.fixture.name.padEnd(18)} (${r.fixture.component}) CANNOT RUN: ${r.error}\n`);
      for (const c of r.comparisons) process.stdout.write(`${formatComparison(c)}\n`);
    },
  });
  if (reports.length === 0) {
    process.stdout.write("no fixtures found\n");
    return 1;
  }
  const passed = parityPassed(reports);
  const n = reports.reduce((a, r) => a + r.comparisons.length, 0);
  const bad = reports.reduce((a, r) => a + r.comparisons.filter((c) => !c.ok).length + (r.error ? 1 : 0), 0);
  process.stdout.write(`${passed ? "PASS" : "FAIL"}: ${reports.length} fixtures, ${n} tensors, ${bad} failures\n`);
  return passed ? 0 : 1;
}
