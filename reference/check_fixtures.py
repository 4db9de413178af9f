"""Check reference/wan_model.py against the shared DiT parity fixtures.

usage: /usr/bin/python3 reference/check_fixtures.py [fixture_dir] [--f64]
  fixture_dir defaults to <repo>/../shared/fixtures/wan21.
  --f64 runs the model in float64 instead of float32 (diagnostics only).

For each of dit-tiny, dit-tiny-i2v, dit22-tiny-ti2v: builds WanModel from the weights'
__metadata__["config"], loads the weights strictly, runs the forward on the io inputs and
compares `out` and every intermediate present (flattened when the element counts match),
plus rope_out / rope2_out via rope_apply(rope_in, rope_grid). Prints one line per tensor:
  fixture tensor max_abs max_rel ok|FAIL
with the tolerance |got - want| <= 2e-5 + 1e-4*|want| elementwise. Exit status 1 on any FAIL.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from wan_model import WanModel, rope_apply, rope_freqs  # noqa: E402

FIXTURES = ["dit-tiny", "dit-tiny-i2v", "dit22-tiny-ti2v"]
ATOL, RTOL = 2e-5, 1e-4
INPUTS = {"x", "t", "context", "seq_len", "y", "clip_fea", "rope_in", "rope_grid", "rope2_in", "rope2_grid"}


def compare(got, want):
    """-> (max_abs, max_rel, ok, note). Flattened comparison when element counts match."""
    got = got.detach().to(torch.float64).reshape(-1)
    want = want.detach().to(torch.float64).reshape(-1)
    if got.numel() != want.numel():
        return float("nan"), float("nan"), False, f"numel {got.numel()} != {want.numel()}"
    diff = (got - want).abs()
    max_abs = diff.max().item() if diff.numel() else 0.0
    max_rel = (diff / want.abs().clamp_min(1e-12)).max().item() if diff.numel() else 0.0
    ok = bool((diff <= ATOL + RTOL * want.abs()).all())
    return max_abs, max_rel, ok, ""


def check_fixture(fixture_dir, name, dtype):
    weights, wmeta = safetensors_io.load(os.path.join(fixture_dir, f"{name}.weights.safetensors"))
    io, _ = safetensors_io.load(os.path.join(fixture_dir, f"{name}.io.safetensors"))
    config = json.loads(wmeta["config"])
    model = WanModel(**config)
    model.load_state_dict(weights, strict=True)
    model = model.to(dtype).eval()

    def inp(k):
        v = io.get(k)
        return None if v is None else v.to(dtype) if v.is_floating_point() else v

    inter = {}
    with torch.no_grad():
        out = model(
            inp("x"),
            inp("t"),
            inp("context"),
            int(io["seq_len"].reshape(-1)[0]),
            clip_fea=inp("clip_fea"),
            y=inp("y"),
            intermediates=inter,
        )
        got = dict(inter)
        got["out"] = out
        head_dim = config["dim"] // config["num_heads"]
        freqs = rope_freqs(head_dim)
        for r in ("rope", "rope2"):
            if f"{r}_in" in io:
                got[f"{r}_out"] = rope_apply(io[f"{r}_in"].to(dtype), io[f"{r}_grid"], freqs)

    results = []
    for key in sorted(io):
        if key in INPUTS:
            continue
        if key not in got:
            results.append((name, key, float("nan"), float("nan"), False, "not produced"))
            continue
        results.append((name, key) + compare(got[key], io[key]))
    return results


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    dtype = torch.float64 if "--f64" in argv else torch.float32
    fixture_dir = args[0] if args else os.path.join(HERE, "..", "..", "shared", "fixtures", "wan21")
    fixture_dir = os.path.normpath(fixture_dir)
    all_ok = True
    worst = {}
    for name in FIXTURES:
        for fx, key, max_abs, max_rel, ok, note in check_fixture(fixture_dir, name, dtype):
            all_ok &= ok
            print(f"{fx} {key} {max_abs:.3e} {max_rel:.3e} {'ok' if ok else 'FAIL'}{'  ' + note if note else ''}")
            if max_abs == max_abs and max_abs >= worst.get(fx, (-1.0, ""))[0]:
                worst[fx] = (max_abs, key)
    for fx, (max_abs, key) in worst.items():
        print(f"# worst {fx}: max_abs {max_abs:.3e} ({key})", file=sys.stderr)
    print("ALL OK" if all_ok else "SOME FAILED", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
