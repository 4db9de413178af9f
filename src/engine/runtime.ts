/**
 * The contract between reel and an inference runtime. `runtime-ort.ts` implements it with
 * onnxruntime-node and is the only file that imports it.
 */
import type { HostTensor } from "./tensor.ts";

/** Execution devices. `cpu` is the default and always present. */
export type Device = "cpu" | "cuda" | "webgpu";
export const DEVICES: readonly Device[] = ["cpu", "cuda", "webgpu"];

export interface SessionOptions {
  readonly device: Device;
  /** Intra-op threads (CPU). Defaults to the number of cores. */
  readonly threads?: number;
  /**
   * Keep weights memory-mapped from the checkpoint instead of repacking them into
   * anonymous memory (ORT `session.disable_prepacking`). Session creation drops from
   * seconds to milliseconds per GB and the weights are never held twice; matmuls run
   * 0–15% slower. Default true.
   */
  readonly keepWeightsMapped?: boolean;
  /**
   * ORT's CPU memory arena (default off). With it, a 4-block Wan slice at 7,800 tokens peaked
   * 0.35 GB higher and grew by another 0.7 GB on the second run (the arena keeps the largest
   * blocks it ever needed); without it activations go back to malloc after each node, at no
   * measurable speed cost at that size.
   */
  readonly memArena?: boolean;
  /** Skip constant folding (keeps F16/BF16 weights mapped; a Cast runs every call). */
  readonly disableConstantFolding?: boolean;
}

export interface InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the graph; returns the requested outputs (all by default) as host tensors. */
  run(feeds: Readonly<Record<string, HostTensor>>, outputs?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export interface Runtime {
  /** Devices this build of the runtime can use (CUDA needs the opt-in install, see README). */
  availableDevices(): Device[];
  /** Creates a session from an .onnx file; external data resolves relative to its folder. */
  createSession(modelPath: string, options: SessionOptions): Promise<InferenceSession>;
}
