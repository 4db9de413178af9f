/**
 * Debian's python3-torch for the tests that run the PyTorch reference or the trainer. Where it
 * is missing those tests skip with a visible reason; under CI=true that is a failure.
 */
import { spawnSync } from "node:child_process";

export const TORCH_PY = process.env.REEL_TORCH_PYTHON ?? "/usr/bin/python3";

/** null when torch imports, else the reason to skip (throws under CI=true). */
export function torchMissing(): string | null {
  const r = spawnSync(TORCH_PY, ["-c", "import torch, numpy"], { encoding: "utf8" });
  if (r.status === 0) return null;
  if (process.env.CI === "true") throw new Error(`CI=true but ${TORCH_PY} cannot import torch: ${r.stderr}`);
  return `SKIPPED: ${TORCH_PY} has no torch (apt install python3-torch python3-numpy)`;
}
