"""Check reference/wan_vae.py and reference/umt5.py against the shared parity fixtures.

usage: /usr/bin/python3 reference/check_more_fixtures.py [fixture_dir] [--f64] [--only vae|t5]
  fixture_dir defaults to <repo>/../shared/fixtures/wan21.
  --f64 runs the models in float64 instead of float32 (diagnostics only).

vae-tiny: WanVAE_(**config) loaded strictly; for each case {f5_32x32, f9_24x40, f1_16x16,
  f7_16x16}: encode(video) -> encoder_out, conv1_out, mu = normalize(raw mu, latents_mean,
  latents_std); decode(denormalize(fixture mu)) -> conv2_out, decoded_raw, decoded (clamped).
  The decoder is fed the fixture's own mu, so encoder and decoder are checked independently.
t5-tiny: T5Encoder(**config).eval() loaded strictly; out, token_embedding_out, block{i}_out,
  block{i}_pos_bias, context_i (trimmed), seq_lens and rel_buckets (integers: exact).

Prints `fixture tensor max_abs max_rel ok|FAIL` per tensor, tolerance
|got - want| <= 2e-5 + 1e-4*|want| (integers exact); exit status 1 on any FAIL.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from check_fixtures import compare  # noqa: E402
from umt5 import T5Encoder, T5RelativeEmbedding  # noqa: E402
from wan_vae import WanVAE_, denormalize, normalize  # noqa: E402


def _load(fixture_dir, name):
    weights, wmeta = safetensors_io.load(os.path.join(fixture_dir, f"{name}.weights.safetensors"))
    io, _ = safetensors_io.load(os.path.join(fixture_dir, f"{name}.io.safetensors"))
    return weights, json.loads(wmeta["config"]), io


def _result(fx, key, got, want):
    if not want.is_floating_point():  # integer tensors must match exactly
        same = got.shape == want.shape and bool(torch.equal(got.to(want.dtype), want))
        d = (got.double().reshape(-1) - want.double().reshape(-1)).abs().max().item() if got.numel() == want.numel() else float("nan")
        return (fx, key, d, 0.0 if same else float("nan"), same, "" if same else "integers differ")
    return (fx, key) + compare(got, want)


def check_vae(fixture_dir, dtype):
    name = "vae-tiny"
    weights, config, io = _load(fixture_dir, name)
    model = WanVAE_(**config)
    model.load_state_dict(weights, strict=True)
    model = model.to(dtype).eval()
    mean, std = io["latents_mean"], io["latents_std"]
    prefixes = sorted({k.rsplit("_video", 1)[0] for k in io if k.endswith("_video")})
    results = []
    for p in prefixes:
        got = {}
        with torch.no_grad():
            inter = {}
            mu_raw, _ = model.encode(io[f"{p}_video"].to(dtype).unsqueeze(0), intermediates=inter)
            got["encoder_out"] = inter["encoder_out"][0]
            got["conv1_out"] = inter["conv1_out"][0]
            got["mu"] = normalize(mu_raw[0].float() if dtype == torch.float32 else mu_raw[0], mean, std)
            inter = {}
            z = denormalize(io[f"{p}_mu"].to(dtype).unsqueeze(0), mean, std).to(dtype)
            raw = model.decode(z, intermediates=inter)[0]
            got["conv2_out"] = inter["conv2_out"][0]
            got["decoded_raw"] = raw
            got["decoded"] = raw.clamp(-1, 1)
        for key in ("encoder_out", "conv1_out", "mu", "conv2_out", "decoded_raw", "decoded"):
            want = io.get(f"{p}_{key}")
            if want is None:
                results.append((name, f"{p}_{key}", float("nan"), float("nan"), False, "missing in fixture"))
                continue
            results.append(_result(name, f"{p}_{key}", got[key], want))
    return results


def check_t5(fixture_dir, dtype):
    name = "t5-tiny"
    weights, config, io = _load(fixture_dir, name)
    model = T5Encoder(**config)
    model.load_state_dict(weights, strict=True)
    model = model.to(dtype).eval()
    ids, mask = io["ids"], io["mask"]
    inter = {}
    with torch.no_grad():
        out = model(ids, mask, intermediates=inter)
        got = dict(inter)
        got["out"] = out
        for i, c in enumerate(model.encode(ids, mask)):
            got[f"context_{i}"] = c
        got["seq_lens"] = mask.gt(0).sum(dim=1)
        L = ids.shape[1]
        rel = model.blocks[0].pos_embedding if model.pos_embedding is None else model.pos_embedding
        got["rel_buckets"] = rel.buckets(L, L)
    results = []
    for key in sorted(io):
        if key in ("ids", "mask"):
            continue
        if key not in got:
            results.append((name, key, float("nan"), float("nan"), False, "not produced"))
            continue
        results.append(_result(name, key, got[key], io[key]))
    # the documented bucket table b(n) of 4.4 (independent of the fixture)
    table = [(0, 7, None), (8, 11, 8), (12, 15, 9), (16, 22, 10), (23, 31, 11), (32, 45, 12), (46, 63, 13), (64, 90, 14), (91, 400, 15)]
    rel = T5RelativeEmbedding(32, 1)
    ok = True
    for lo, hi, b in table:
        n = torch.arange(lo, hi + 1)
        want_neg = n if b is None else torch.full_like(n, b)
        ok &= bool(torch.equal(rel._relative_position_bucket(-n), want_neg))
        ok &= bool(torch.equal(rel._relative_position_bucket(n)[n > 0], (want_neg + 16)[n > 0]))
    results.append((name, "bucket_table_spec", 0.0 if ok else float("nan"), 0.0, ok, "" if ok else "b(n) table differs"))
    return results


def main(argv):
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
        argv = [a for a in argv if a not in ("--only", only)]
    args = [a for a in argv if not a.startswith("--")]
    dtype = torch.float64 if "--f64" in argv else torch.float32
    fixture_dir = args[0] if args else os.path.join(HERE, "..", "..", "shared", "fixtures", "wan21")
    fixture_dir = os.path.normpath(fixture_dir)
    checks = [("vae", check_vae), ("t5", check_t5)]
    all_ok = True
    worst = {}
    for tag, fn in checks:
        if only and tag != only:
            continue
        for fx, key, max_abs, max_rel, ok, note in fn(fixture_dir, dtype):
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
