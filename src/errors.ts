/**
 * One base error for all of reel, with a stable machine-readable `code`.
 * Errors cross process and persistence boundaries (queue, HTTP), so callers
 * check `err.code`, never `instanceof` alone.
 */
export const ERROR_CODES = {
  E_CONFIG_INVALID: "A configuration or option is invalid.",
  E_INPUT_INVALID: "A request or command-line input is invalid.",
  E_SHAPE_MISMATCH: "A graph op received tensors whose dtype or shape it cannot take.",
  E_SAFETENSORS_INVALID: "A safetensors file is truncated, malformed or hostile.",
  E_CHECKPOINT_INVALID: "A PyTorch .pth/.pt checkpoint is truncated, malformed, hostile or not a plain state dict.",
  E_WEIGHTS_MISMATCH: "Checkpoint tensors do not match what the model declares.",
  E_MODEL_NOT_FOUND: "A model folder or checkpoint file could not be found.",
  E_ORT_SESSION: "ONNX Runtime failed to create or run a session.",
  E_DEVICE_UNAVAILABLE: "The requested execution device is not available.",
  E_FIXTURE_UNSUPPORTED: "A parity fixture could not be recognised or run.",
  E_IO: "A file could not be read or written.",
  E_FFMPEG: "ffmpeg is missing or failed to encode or decode media.",
  E_MEDIA_INVALID: "An image, audio or video input cannot be read or has an unsupported format.",
  E_CANCELLED: "The operation was cancelled.",
  E_OUT_OF_MEMORY: "The request would need more memory than this machine has.",
  E_TTS_UNAVAILABLE: "The text-to-speech engine (espeak-ng) is missing or cannot speak the requested language.",
  E_PLANNER: "The storyboard planner's language model could not be reached or returned an invalid plan.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ReelError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ReelError";
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isReelError(e: unknown): e is ReelError {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "ReelError" && "code" in e;
}
