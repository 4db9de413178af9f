/**
 * The Runtime on onnxruntime-node: the ONLY module in reel that imports onnxruntime.
 * ORT failures are wrapped here once, with the cause kept.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { ReelError } from "../errors.ts";
import type { DType } from "./dtype.ts";
import type { Device, InferenceSession, Runtime, SessionOptions } from "./runtime.ts";
import type { HostTensor, TypedData } from "./tensor.ts";

const EP: Record<Device, string> = { cpu: "cpu", cuda: "cuda", webgpu: "webgpu" };

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: "float32",
  float16: "float16",
  int64: "int64",
  int32: "int32",
  int8: "int8",
  uint8: "uint8",
  bool: "bool",
  float64: "float64",
};

function toOrt(name: string, t: HostTensor): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (type === undefined)
    throw new ReelError("E_INPUT_INVALID", `input "${name}": dtype ${t.dtype} cannot be fed to ONNX Runtime`);
  return new ort.Tensor(type, t.data as ort.Tensor.DataType, [...t.dims]);
}

/** ORT's type name -> reel's dtype: the inverse of ORT_TYPE. */
const FROM_ORT = new Map(Object.entries(ORT_TYPE).map(([dtype, type]) => [type as string, dtype as DType]));

function fromOrt(t: ort.Tensor): HostTensor {
  const dtype = FROM_ORT.get(t.type);
  if (dtype === undefined) throw new ReelError("E_ORT_SESSION", `output of unsupported type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as TypedData };
}

class OrtSession implements InferenceSession {
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly path: string,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(
    feeds: Readonly<Record<string, HostTensor>>,
    outputs?: readonly string[],
  ): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(k, v);
    let result: ort.InferenceSession.ReturnType;
    try {
      result =
        outputs === undefined ? await this.session.run(ortFeeds) : await this.session.run(ortFeeds, [...outputs]);
    } catch (e) {
      throw new ReelError("E_ORT_SESSION", `running ${this.path} failed: ${(e as Error).message}`, { cause: e });
    }
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(result)) out[k] = fromOrt(v);
    return out;
  }

  async release(): Promise<void> {
    // REEL_ORT_PROFILE=prefix: ORT's per-node profile of every run (chrome trace JSON) is written on release.
    if (process.env.REEL_ORT_PROFILE) this.session.endProfiling();
    await this.session.release();
  }
}

export const ortRuntime: Runtime = {
  availableDevices(): Device[] {
    // Backends not bundled in the npm tarball (CUDA) exist only once their provider library
    // has been installed next to the binding (`npm run gpu:cuda`).
    const bindingDir = dirname(
      createRequire(import.meta.url).resolve("onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node"),
    );
    const present = (b: { name: string; bundled: boolean }) =>
      b.bundled || existsSync(join(bindingDir, `libonnxruntime_providers_${b.name}.so`));
    const names = new Set(
      ort
        .listSupportedBackends()
        .filter(present)
        .map((b) => b.name),
    );
    return (Object.keys(EP) as Device[]).filter((d) => names.has(EP[d]));
  },

  async createSession(modelPath: string, o: SessionOptions): Promise<InferenceSession> {
    if (!this.availableDevices().includes(o.device))
      throw new ReelError(
        "E_DEVICE_UNAVAILABLE",
        `device "${o.device}" is not available in this onnxruntime-node build (available: ${this.availableDevices().join(", ")}). ` +
          (o.device === "cuda"
            ? "Install the CUDA provider with `npm run gpu:cuda` (see README, GPU)."
            : "See README, GPU."),
      );
    const session: Record<string, string> = {};
    if (o.keepWeightsMapped ?? true) session.disable_prepacking = "1";
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: [EP[o.device]],
      intraOpNumThreads: o.threads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      enableCpuMemArena: o.memArena ?? false,
      ...(process.env.REEL_ORT_PROFILE
        ? { enableProfiling: true, profileFilePrefix: process.env.REEL_ORT_PROFILE }
        : {}),
      extra: {
        session,
        ...(o.disableConstantFolding ? { optimization: { disable_specified_optimizers: "ConstantFolding" } } : {}),
      },
    };
    try {
      return new OrtSession(await ort.InferenceSession.create(modelPath, opts), modelPath);
    } catch (e) {
      throw new ReelError("E_ORT_SESSION", `ONNX Runtime could not load ${modelPath}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  },
};
