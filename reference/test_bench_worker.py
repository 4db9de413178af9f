"""End-to-end test of reference/bench_worker.py (spawns it and speaks its JSON-lines protocol).

usage:
  /usr/bin/python3 reference/test_bench_worker.py [--fixture-dir DIR]   # dit-tiny parity, f32 + bf16
  /usr/bin/python3 reference/test_bench_worker.py --medium [--runs N] [--threads T] [--tmp DIR]
      # random-weight medium config (dim 1536, 12 heads, 2 layers, ffn 8960, text_dim 4096,
      # latent [16, 5, 30, 52] = 5x15x26 = 1950 tokens by default, --latent 16,4,30,52 for 1560);
      # prints ms per forward for f32 and bf16.
Big files go to a temporary directory under /tmp (removed afterwards).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from bench_vae_t5 import cpu_has  # noqa: E402

# OpenBLAS's AVX-512 kernels where the CPU has them (forcing them elsewhere dies with SIGILL).
ENV = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1", **({"OPENBLAS_CORETYPE": "SkylakeX"} if cpu_has("avx512f") else {}))

MEDIUM = {"model_type": "t2v", "patch_size": [1, 2, 2], "text_len": 512, "in_dim": 16, "dim": 1536,
          "ffn_dim": 8960, "freq_dim": 256, "text_dim": 4096, "out_dim": 16, "num_heads": 12, "num_layers": 2,
          "window_size": [-1, -1], "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6}


class Worker:
    def __init__(self):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "bench_worker.py")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, env=ENV, text=True, bufsize=1)

    def req(self, obj):
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("worker closed stdout")
        return json.loads(line)

    def close(self):
        r = self.req({"cmd": "quit"})
        self.p.wait(timeout=30)
        return r


def fixture_test(fixture_dir, tmp):
    io, _ = safetensors_io.load(os.path.join(fixture_dir, "dit-tiny.io.safetensors"))
    wpath = os.path.join(fixture_dir, "dit-tiny.weights.safetensors")
    _, wmeta = safetensors_io.load(wpath, names=set())
    inputs = os.path.join(tmp, "inputs.safetensors")
    safetensors_io.save(inputs, {k: io[k] for k in ("x", "t", "context", "seq_len")})
    w = Worker()
    ok = True
    try:
        print("bad request ->", w.req({"cmd": "run", "inputs": inputs}))  # no model yet: ok=false
        print("load ->", w.req({"cmd": "load", "weights": wpath, "config": json.loads(wmeta["config"]), "threads": 2}))
        want = io["out"].double()
        for prec in ("f32", "bf16"):
            out = os.path.join(tmp, f"out_{prec}.safetensors")
            r = w.req({"cmd": "run", "inputs": inputs, "precision": prec, "output": out})
            got = safetensors_io.load(out)[0]["out"].double()
            err = (got - want).abs().max().item()
            within = bool(((got - want).abs() <= 2e-5 + 1e-4 * want.abs()).all())
            print(f"run {prec} -> {r}  max_abs vs fixture {err:.3e}  rel-to-max {err / want.abs().max().item():.3e}"
                  f"  {'within fixture tolerance' if within else 'outside fixture tolerance'}")
            if prec == "f32":
                ok &= within and r["ok"]
            else:
                ok &= r["ok"] and err / want.abs().max().item() < 0.05
        print("quit ->", w.close())
    finally:
        if w.p.poll() is None:
            w.p.kill()
    return ok


def make_medium(tmp, latent=(16, 5, 30, 52), seed=0):
    """Random weights N(0, 1/fan_in), biases N(0, 0.05^2), norm weights 1 + N(0, 0.1^2),
    modulations N(0, 1/dim), written with safetensors_io (F32)."""
    from wan_model import WanModel
    g = torch.Generator().manual_seed(seed)
    model = WanModel(**MEDIUM)
    sd = {}
    for name, p in model.state_dict().items():
        if name.endswith("modulation"):
            v = torch.randn(p.shape, generator=g) / MEDIUM["dim"] ** 0.5
        elif p.dim() >= 2:
            v = torch.randn(p.shape, generator=g) / p[0].numel() ** 0.5
        elif "norm" in name and name.endswith("weight"):
            v = 1 + 0.1 * torch.randn(p.shape, generator=g)
        else:
            v = 0.05 * torch.randn(p.shape, generator=g)
        sd[name] = v
    del model
    wpath = os.path.join(tmp, "medium.safetensors")
    safetensors_io.save(wpath, sd, {"config": json.dumps(MEDIUM)})
    inputs = os.path.join(tmp, "medium_inputs.safetensors")
    safetensors_io.save(inputs, {
        "x": torch.randn(*latent, generator=g),
        "t": torch.tensor([999.0]),
        "context": torch.randn(77, 4096, generator=g) * 0.5,
        "seq_len": torch.tensor([latent[1] * (latent[2] // 2) * (latent[3] // 2)], dtype=torch.int64),
    })
    return wpath, inputs, sum(v.numel() for v in sd.values())


def medium_test(tmp, runs, threads, latent):
    wpath, inputs, n = make_medium(tmp, latent)
    tokens = latent[1] * (latent[2] // 2) * (latent[3] // 2)
    print(f"medium weights: {n} params, {os.path.getsize(wpath) / 2**20:.0f} MiB; latent {list(latent)} = {tokens} tokens")
    w = Worker()
    try:
        print("load ->", w.req({"cmd": "load", "weights": wpath, "config": MEDIUM, "threads": threads}))
        outs = {}
        for prec in ("f32", "bf16"):
            ms = []
            for i in range(runs + 1):  # first run is a warm-up
                out = os.path.join(tmp, f"m_out_{prec}.safetensors") if i == 0 else None
                r = w.req({"cmd": "run", "inputs": inputs, "precision": prec, **({"output": out} if out else {})})
                assert r["ok"], r
                print(f"  {prec} run {i}: {r}")
                if i > 0:
                    ms.append(r["ms"])
            outs[prec] = safetensors_io.load(os.path.join(tmp, f"m_out_{prec}.safetensors"))[0]["out"].double()
            print(f"medium {prec}: min {min(ms):.0f} ms, median {sorted(ms)[len(ms) // 2]:.0f} ms over {runs} runs")
        a, b = outs["f32"], outs["bf16"]
        print(f"bf16 vs f32 output: max_abs {(a - b).abs().max().item():.3e}, |f32| max {a.abs().max().item():.3e}")
        print("quit ->", w.close())
    finally:
        if w.p.poll() is None:
            w.p.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture-dir", default=os.path.normpath(os.path.join(HERE, "..", "..", "shared", "fixtures", "wan21")))
    ap.add_argument("--medium", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--latent", default="16,5,30,52", help="C,F,H,W of the medium latent")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="reel-bench-worker-", dir=a.tmp)
    try:
        if a.medium:
            medium_test(tmp, a.runs, a.threads, tuple(int(v) for v in a.latent.split(",")))
            return 0
        ok = fixture_test(a.fixture_dir, tmp)
        print("ALL OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
