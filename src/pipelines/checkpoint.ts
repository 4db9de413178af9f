/**
 * Sampling checkpoints: the latent after step k plus the sampler's multistep state, so that a
 * job stopped after step k (worker killed, server restarted) continues from step k and ends
 * with the same latent, bit for bit, as a run that was never stopped. Serialised as bytes:
 * a 4-byte little-endian header length, a JSON header (step, sampler kind, dims, scalar state,
 * array lengths) and the float32 arrays, each 4-byte aligned.
 */
import { ReelError } from "../errors.ts";
import type { DpmppState, EulerState, SolverKind, UniPCState } from "../schedulers/index.ts";

export type SamplerState = UniPCState | DpmppState | EulerState;

export interface SamplingCheckpoint {
  /** Steps done: sampling continues with step index `step`. */
  readonly step: number;
  readonly steps: number;
  readonly sampler: SolverKind;
  readonly dims: readonly number[];
  readonly latent: Float32Array;
  readonly state: SamplerState;
}

type ArrayKey = "modelOutputs.0" | "modelOutputs.1" | "lastSample";

function arraysOf(s: SamplerState): [ArrayKey, Float32Array][] {
  const out: [ArrayKey, Float32Array][] = [];
  if ("modelOutputs" in s) {
    if (s.modelOutputs[0]) out.push(["modelOutputs.0", s.modelOutputs[0]]);
    if (s.modelOutputs[1]) out.push(["modelOutputs.1", s.modelOutputs[1]]);
  }
  if ("lastSample" in s && s.lastSample) out.push(["lastSample", s.lastSample]);
  return out;
}

export function encodeCheckpoint(c: SamplingCheckpoint): Uint8Array {
  const arrays: [string, Float32Array][] = [["latent", c.latent], ...arraysOf(c.state)];
  const scalars = Object.fromEntries(
    Object.entries(c.state).filter(([k]) => k !== "modelOutputs" && k !== "lastSample"),
  ) as Record<string, number>;
  const header = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      step: c.step,
      steps: c.steps,
      sampler: c.sampler,
      dims: c.dims,
      scalars,
      hasModelOutputs: "modelOutputs" in c.state,
      hasLastSample: "lastSample" in c.state,
      arrays: arrays.map(([k, a]) => [k, a.length]),
    }),
  );
  const headPad = (4 + header.length + 3) & ~3;
  const total = headPad + arrays.reduce((n, [, a]) => n + a.byteLength, 0);
  const buf = new Uint8Array(total);
  new DataView(buf.buffer).setUint32(0, header.length, true);
  buf.set(header, 4);
  let off = headPad;
  for (const [, a] of arrays) {
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength;
  }
  return buf;
}

export function decodeCheckpoint(bytes: Uint8Array): SamplingCheckpoint {
  const bad = (why: string) => new ReelError("E_CHECKPOINT_INVALID", `sampling checkpoint: ${why}`);
  if (bytes.length < 4) throw bad("truncated");
  const hl = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (4 + hl > bytes.length) throw bad("truncated header");
  let h: {
    v: number;
    step: number;
    steps: number;
    sampler: SolverKind;
    dims: number[];
    scalars: Record<string, number>;
    hasModelOutputs: boolean;
    hasLastSample: boolean;
    arrays: [string, number][];
  };
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + hl)));
  } catch {
    throw bad("header is not JSON");
  }
  if (h.v !== 1) throw bad(`version ${String(h.v)} (expected 1)`);
  let off = (4 + hl + 3) & ~3;
  const arrays = new Map<string, Float32Array>();
  for (const [k, n] of h.arrays) {
    if (off + n * 4 > bytes.length) throw bad(`array ${k} truncated`);
    // copy: the result must not alias the caller's buffer, and must be aligned
    arrays.set(k, new Float32Array(bytes.slice(off, off + n * 4).buffer));
    off += n * 4;
  }
  const latent = arrays.get("latent");
  if (!latent) throw bad("no latent");
  const state: Record<string, unknown> = { ...h.scalars };
  if (h.hasModelOutputs)
    state.modelOutputs = [arrays.get("modelOutputs.0") ?? null, arrays.get("modelOutputs.1") ?? null];
  if (h.hasLastSample) state.lastSample = arrays.get("lastSample") ?? null;
  return {
    step: h.step,
    steps: h.steps,
    sampler: h.sampler,
    dims: h.dims,
    latent,
    state: state as unknown as SamplerState,
  };
}
