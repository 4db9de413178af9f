/** Progress reports from pipelines, and the helper that times phases and estimates the rest. */

export type Phase = "load" | "encode_text" | "encode_image" | "sample" | "decode" | "write";

export interface Progress {
  readonly phase: Phase;
  /** 1-based step within the phase (sampling steps, decoded chunks). */
  readonly step: number;
  readonly total: number;
  /** Since the pipeline started. */
  readonly elapsedMs: number;
  /** Estimated time left in this phase (null until a step has been timed). */
  readonly etaMs: number | null;
  /** A PNG written for this step (latent previews), when asked for. */
  readonly preview?: string;
}

export type ProgressFn = (p: Progress) => void;

export class ProgressTracker {
  private readonly t0 = performance.now();
  private phaseStart = performance.now();
  private phase: Phase = "load";

  constructor(private readonly fn: ProgressFn | undefined) {}

  start(phase: Phase, total: number): void {
    this.phase = phase;
    this.phaseStart = performance.now();
    this.fn?.({ phase, step: 0, total, elapsedMs: performance.now() - this.t0, etaMs: null });
  }

  step(step: number, total: number, extra: { preview?: string } = {}): void {
    const now = performance.now();
    const per = (now - this.phaseStart) / step;
    this.fn?.({
      phase: this.phase,
      step,
      total,
      elapsedMs: now - this.t0,
      etaMs: per * (total - step),
      ...extra,
    });
  }

  get elapsedMs(): number {
    return performance.now() - this.t0;
  }
}

/** Throws E_CANCELLED if the signal fired. Pipelines call it between steps. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal);
}

import { ReelError } from "../errors.ts";

export function cancelled(signal: AbortSignal): ReelError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
  return new ReelError("E_CANCELLED", `cancelled: ${reason}`);
}
