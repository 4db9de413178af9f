/** Element types the engine knows, with their ONNX TensorProto enum and byte size. */
export type DType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float8e4m3fn"
  | "float64"
  | "int64"
  | "int32"
  | "int8"
  | "uint8"
  | "bool";

export const DTYPES: Record<DType, { onnx: number; bytes: number }> = {
  float32: { onnx: 1, bytes: 4 },
  uint8: { onnx: 2, bytes: 1 },
  int8: { onnx: 3, bytes: 1 },
  int32: { onnx: 6, bytes: 4 },
  int64: { onnx: 7, bytes: 8 },
  bool: { onnx: 9, bytes: 1 },
  float16: { onnx: 10, bytes: 2 },
  float64: { onnx: 11, bytes: 8 },
  bfloat16: { onnx: 16, bytes: 2 },
  float8e4m3fn: { onnx: 17, bytes: 1 },
};

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float16" || d === "bfloat16" || d === "float8e4m3fn" || d === "float64";
}

/** Safetensors dtype names (the subset reel reads and writes). */
export const SAFETENSORS_DTYPES: Record<string, DType> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  F8_E4M3: "float8e4m3fn",
  F64: "float64",
  I64: "int64",
  I32: "int32",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

export function safetensorsName(d: DType): string {
  for (const [k, v] of Object.entries(SAFETENSORS_DTYPES)) if (v === d) return k;
  throw new Error(`no safetensors name for ${d}`);
}
