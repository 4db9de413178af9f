/**
 * Parity of the samplers (src/schedulers) against a scheduler fixture (shared/fixtures/wan21
 * README, section `scheduler`): official FlowUniPCMultistepScheduler and
 * FlowDPMSolverMultistepScheduler runs and schedule-only tables.
 *
 * Recognised by key names, so files with other N and shift values work too:
 * - a run `<prefix>` has `<prefix>_timesteps`, `_sigmas`, `_sample_in`, `_model_output` and
 *   `_prev_sample`. Its solver and shift come from `__metadata__.runs[<prefix>]`
 *   ({solver, steps, shift}) or else from the prefix `unipc|dpmpp|dpm++|euler _<N>_s<shift>`
 *   (shift written `5`, `5p0` or `5.0`). Reported: `<prefix>_timesteps`, `<prefix>_sigmas`,
 *   `<prefix>_prev_sample` (step k fed with the fixture's `_sample_in[k]`, all steps stacked)
 *   and `<prefix>_chained` (step k fed with reel's own output of step k − 1).
 * - a table `sched_<solver>_<N>_<shift>_timesteps` / `_sigmas` (shift `3p0` = 3.0).
 */
import type { HostTensor } from "../engine/tensor.ts";
import { readTensor } from "../engine/safetensors.ts";
import { ReelError } from "../errors.ts";
import { createSampler, SOLVER_KINDS, type Schedule, type SolverKind, scheduleFor } from "../schedulers/index.ts";
import { type Comparison, compareTensor } from "./compare.ts";
import type { ParityRunOptions } from "./dit.ts";
import type { Fixture } from "./fixtures.ts";

const RUN_PARTS = ["timesteps", "sigmas", "sample_in", "model_output", "prev_sample"] as const;

interface RunSpec {
  readonly prefix: string;
  readonly kind: SolverKind;
  readonly shift: number;
}

interface TableSpec {
  readonly prefix: string;
  readonly kind: SolverKind;
  readonly steps: number;
  readonly shift: number;
}

/** "unipc" | "dpm++" | "dpmpp" | "euler" → kind, or null. */
function solverKind(s: string): SolverKind | null {
  if (s === "dpmpp") return "dpm++";
  return (SOLVER_KINDS as readonly string[]).includes(s) ? (s as SolverKind) : null;
}

/** "5" | "5p0" | "5.0" | "3p5" → number, or null. */
function shiftValue(s: string): number | null {
  if (!/^\d+(?:[p.]\d+)?$/.test(s)) return null;
  return Number(s.replace("p", "."));
}

function metadataRuns(fx: Fixture): Record<string, { solver?: unknown; shift?: unknown }> {
  const raw = fx.io.metadata.runs;
  if (raw === undefined) return {};
  try {
    const r = JSON.parse(raw) as unknown;
    return typeof r === "object" && r !== null ? (r as Record<string, { solver?: unknown; shift?: unknown }>) : {};
  } catch {
    return {};
  }
}

function findRuns(fx: Fixture): RunSpec[] {
  const meta = metadataRuns(fx);
  const runs: RunSpec[] = [];
  for (const key of fx.io.tensors.keys()) {
    if (!key.endsWith("_prev_sample")) continue;
    const prefix = key.slice(0, -"_prev_sample".length);
    if (!RUN_PARTS.every((p) => fx.io.tensors.has(`${prefix}_${p}`))) continue;
    const m = meta[prefix];
    const named = /^(unipc|dpmpp|dpm\+\+|euler)_\d+_s(\d+(?:[p.]\d+)?)$/.exec(prefix);
    const kind = typeof m?.solver === "string" ? solverKind(m.solver) : named ? solverKind(named[1]!) : null;
    const shift = typeof m?.shift === "number" ? m.shift : named ? shiftValue(named[2]!) : null;
    if (kind === null || shift === null)
      throw new ReelError(
        "E_FIXTURE_UNSUPPORTED",
        `${fx.name}: run "${prefix}" names no known solver and shift (metadata runs.${prefix} or a prefix like unipc_10_s5)`,
      );
    runs.push({ prefix, kind, shift });
  }
  return runs.sort((a, b) => a.prefix.localeCompare(b.prefix));
}

function findTables(fx: Fixture): TableSpec[] {
  const tables: TableSpec[] = [];
  for (const key of fx.io.tensors.keys()) {
    const m = /^sched_([a-z+]+)_(\d+)_(\d+(?:[p.]\d+)?)_timesteps$/.exec(key);
    if (!m) continue;
    const prefix = key.slice(0, -"_timesteps".length);
    const kind = solverKind(m[1]!);
    const shift = shiftValue(m[3]!);
    if (kind === null || shift === null)
      throw new ReelError("E_FIXTURE_UNSUPPORTED", `${fx.name}: table "${prefix}" names an unknown solver "${m[1]}"`);
    tables.push({ prefix, kind, steps: Number(m[2]), shift });
  }
  return tables.sort((a, b) => a.prefix.localeCompare(b.prefix));
}

function compareSchedule(fx: Fixture, prefix: string, s: Schedule): Comparison[] {
  const out: Comparison[] = [];
  const gotT = BigInt64Array.from(s.timesteps, (t) => BigInt(t));
  out.push(compareTensor(fx.name, `${prefix}_timesteps`, gotT, readTensor(fx.io, `${prefix}_timesteps`).data));
  if (fx.io.tensors.has(`${prefix}_sigmas`))
    out.push(compareTensor(fx.name, `${prefix}_sigmas`, s.sigmas, readTensor(fx.io, `${prefix}_sigmas`).data));
  return out;
}

/** Row k of a [N, …] float32 tensor. */
function row(t: HostTensor, k: number): Float32Array {
  const n = t.data.length / t.dims[0]!;
  return (t.data as Float32Array).subarray(k * n, (k + 1) * n);
}

function runOne(fx: Fixture, r: RunSpec): Comparison[] {
  const read = (p: (typeof RUN_PARTS)[number]) => readTensor(fx.io, `${r.prefix}_${p}`);
  const steps = read("timesteps").data.length;
  const sampleIn = read("sample_in");
  const modelOutput = read("model_output");
  const want = read("prev_sample");
  const sampler = createSampler(r.kind, { steps, shift: r.shift });
  const results = compareSchedule(fx, r.prefix, sampler.schedule);
  for (const t of [sampleIn, modelOutput, want])
    if (t.dtype !== "float32" || t.dims[0] !== steps)
      throw new ReelError(
        "E_FIXTURE_UNSUPPORTED",
        `${fx.name}: run "${r.prefix}" tensors must be float32 [${steps}, …], got ${t.dtype} [${t.dims.join(", ")}]`,
      );
  const fed = new Float32Array(want.data.length);
  const chained = new Float32Array(want.data.length);
  const n = fed.length / steps;
  for (let k = 0; k < steps; k++) fed.set(sampler.step(row(modelOutput, k), k, row(sampleIn, k)), k * n);
  sampler.reset();
  let x: Float32Array = row(sampleIn, 0);
  for (let k = 0; k < steps; k++) {
    x = sampler.step(row(modelOutput, k), k, x);
    chained.set(x, k * n);
  }
  results.push(compareTensor(fx.name, `${r.prefix}_prev_sample`, fed, want.data));
  results.push(compareTensor(fx.name, `${r.prefix}_chained`, chained, want.data));
  return results;
}

export async function runSchedulerFixture(fx: Fixture, _o: ParityRunOptions): Promise<Comparison[]> {
  const runs = findRuns(fx);
  const tables = findTables(fx);
  if (runs.length === 0 && tables.length === 0)
    throw new ReelError(
      "E_FIXTURE_UNSUPPORTED",
      `${fx.name}: no scheduler run (<prefix>_{${RUN_PARTS.join(",")}}) or table (sched_<solver>_<N>_<shift>_timesteps)`,
    );
  const results: Comparison[] = [];
  for (const r of runs) results.push(...runOne(fx, r));
  for (const t of tables)
    results.push(...compareSchedule(fx, t.prefix, scheduleFor(t.kind, { steps: t.steps, shift: t.shift })));
  return results;
}
