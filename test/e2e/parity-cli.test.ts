/**
 * End to end: the real `reel` CLI (bin/reel.js) on the shared fixtures, on fixture folders it
 * has never seen (other names, sizes and variants, written by the PyTorch reference), and on
 * a fixture whose expected output was tampered with.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadAll, writeSafetensors } from "../../src/engine/safetensors.ts";
import { missingFixtures, WAN21_FIXTURES } from "../helpers/fixtures.ts";
import { tempDir } from "../helpers/tmp.ts";
import { TORCH_PY, torchMissing } from "../helpers/torch.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const tmp = tempDir();
afterAll(tmp.cleanup);

function reel(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/reel.js"), ...args], { encoding: "utf8", timeout: 300_000 });
}

describe("reel parity (CLI)", () => {
  it("explains bad arguments with exit code 2", () => {
    const none = reel("parity");
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/E_INPUT_INVALID: parity needs at least one folder/);
    const dev = reel("parity", ".", "--device", "tpu");
    expect(dev.status).toBe(2);
    expect(dev.stderr).toMatch(/--device tpu: allowed are cpu, cuda, webgpu/);
    expect(reel("frobnicate").status).toBe(2);
  });

  const skip = missingFixtures("dit-tiny.io.safetensors", "vae-tiny.io.safetensors", "scheduler.io.safetensors");
  it.skipIf(skip !== null)(skip ?? "passes on every shared fixture (DiT, VAE 2.1/2.2, umT5, CLIP, samplers)", () => {
    const all = reel("parity", WAN21_FIXTURES);
    expect(all.status, all.stdout + all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^dit-tiny-i2v\s+img_emb_out\s+max_abs\s+\S+\s+max_rel\s+\S+\s+ok$/m);
    for (const name of ["vae-tiny", "vae22-tiny", "t5-tiny", "clip-tiny", "scheduler", "dit22-tiny-ti2v"])
      expect(all.stdout).toMatch(new RegExp(`^${name}\\s+\\S+\\s+max_abs .* ok$`, "m"));
    expect(all.stdout).toMatch(/^PASS: 8 fixtures/m);
    const dit = reel("parity", WAN21_FIXTURES, "--only", "dit");
    expect(dit.stdout).toMatch(/^PASS: 3 fixtures/m);
  });

  it("exits 1 on a fixture it cannot recognise", () => {
    const dir = join(tmp.dir, "unknown");
    spawnSync("mkdir", ["-p", dir]);
    writeSafetensors(join(dir, "mystery.io.safetensors"), {
      a: { dtype: "float32", dims: [1], data: new Float32Array(1) },
    });
    const r = reel("parity", dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/mystery\s+\(unknown\) CANNOT RUN: cannot recognise the component/);
  });

  const noTorch = torchMissing();
  it.skipIf(noTorch !== null)(noTorch ?? "works on unseen folders and sizes, and FAILs a tampered output", () => {
    const dir = join(tmp.dir, "unseen");
    const make = (name: string, ...args: string[]) => {
      const r = spawnSync(TORCH_PY, [join(ROOT, "reference/make_fixture.py"), dir, name, ...args], {
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
    };
    make("odd-t2v", "--layers", "3", "--latent", "16,2,6,10", "--dim", "48", "--heads", "2");
    make("small-ti2v", "--model-type", "ti2v", "--latent", "48,3,4,6", "--dim", "32", "--heads", "2");
    make("my-flf2v", "--model-type", "flf2v", "--dim", "40", "--heads", "2", "--layers", "1");
    const ok = reel("parity", dir);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^odd-t2v\s+block2_ffn_out .* ok$/m);
    expect(ok.stdout).toMatch(/^my-flf2v\s+img_emb_out .* ok$/m);

    // Tamper with one expected value: that tensor must FAIL and the exit code must be 1.
    const bad = join(tmp.dir, "tampered");
    spawnSync("mkdir", ["-p", bad]);
    copyFileSync(join(dir, "odd-t2v.weights.safetensors"), join(bad, "odd-t2v.weights.safetensors"));
    const { header, tensors } = loadAll(join(dir, "odd-t2v.io.safetensors"));
    const out = tensors.get("out")!.data as Float32Array;
    out[17] = out[17]! + 1e-3;
    writeSafetensors(join(bad, "odd-t2v.io.safetensors"), tensors, { ...header.metadata });
    const r = reel("parity", bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^odd-t2v\s+out\s+max_abs\s+1\.00e-3 .* FAIL$/m);
    expect(r.stdout).toMatch(/^odd-t2v\s+head_out .* ok$/m);
  });
});
