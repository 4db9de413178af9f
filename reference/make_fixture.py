"""Write a DiT parity fixture in the shared format with the PyTorch reference.

usage: /usr/bin/python3 reference/make_fixture.py OUT_DIR NAME [--model-type t2v|i2v|flf2v|ti2v]
           [--dim 48] [--heads 2] [--layers 3] [--ffn 96] [--text-dim 24] [--freq-dim 16]
           [--latent C,F,H,W] [--context-len 5] [--seed 7]

Produces OUT_DIR/NAME.weights.safetensors (state_dict with the official names and
__metadata__.config = the WanModel kwargs) and OUT_DIR/NAME.io.safetensors (inputs x, t,
context, seq_len [, y, clip_fea], the expected `out`, the intermediates under the fixture
names, and a standalone RoPE case rope_in / rope_grid / rope_out). Used by reel's tests to
check that `reel parity` handles fixture folders and sizes it has never seen. The reference
itself is checked against the official fixtures by check_fixtures.py.
"""

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from wan_model import WanModel, rope_apply, rope_freqs  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("name")
    ap.add_argument("--model-type", default="t2v", choices=["t2v", "i2v", "flf2v", "ti2v"])
    ap.add_argument("--dim", type=int, default=48)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--ffn", type=int, default=96)
    ap.add_argument("--text-dim", type=int, default=24)
    ap.add_argument("--freq-dim", type=int, default=16)
    ap.add_argument("--latent", default="16,2,6,10")
    ap.add_argument("--context-len", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)

    torch.manual_seed(a.seed)
    C, F, H, W = (int(v) for v in a.latent.split(","))
    y_ch = 20 if a.model_type in ("i2v", "flf2v") else 0
    config = {
        "model_type": a.model_type, "patch_size": [1, 2, 2], "text_len": 512,
        "in_dim": C + y_ch, "dim": a.dim, "ffn_dim": a.ffn, "freq_dim": a.freq_dim,
        "text_dim": a.text_dim, "out_dim": C, "num_heads": a.heads, "num_layers": a.layers,
        "window_size": [-1, -1], "qk_norm": True, "cross_attn_norm": True, "eps": 1e-6,
    }
    model = WanModel(**config).eval()
    with torch.no_grad():  # random values everywhere, so that every parameter matters
        for p in model.parameters():
            p.copy_(torch.randn_like(p) * (0.5 / max(1, p.shape[-1]) ** 0.5 if p.dim() > 1 else 0.1)
                    + (1.0 if p.dim() == 1 and p.numel() == a.dim else 0.0))
    L = F * (H // 2) * (W // 2)
    x = torch.randn(C, F, H, W)
    if a.model_type == "ti2v":  # per-token t, latent frame 0 at t = 0 (textimage2video i2v path)
        per_frame = (H // 2) * (W // 2)
        t = torch.full((1, L), 750.0)
        t[0, :per_frame] = 0.0
    else:
        t = torch.tensor([613.0])
    context = torch.randn(a.context_len, a.text_dim)
    io = {"x": x, "t": t, "context": context, "seq_len": torch.tensor([L], dtype=torch.int64)}
    kw = {}
    if y_ch:
        y = torch.randn(y_ch, F, H, W)
        io["y"] = y
        kw["y"] = y
        n = 2 if a.model_type == "flf2v" else 1
        clip = torch.randn(n, 257 if n == 2 else 9, 1280)  # flf2v: emb_pos is fixed at 2×257
        io["clip_fea"] = clip
        kw["clip_fea"] = clip
    inter = {}
    with torch.no_grad():
        out = model(x, t, context, L, intermediates=inter, **kw)
        head_dim = a.dim // a.heads
        grid = torch.tensor([[F, H // 2 + 1, W // 2]], dtype=torch.int64)
        rope_in = torch.randn(1, int(grid.prod()), a.heads, head_dim)
        rope_out = rope_apply(rope_in, grid, rope_freqs(head_dim))
    io.update({k: v.contiguous() for k, v in inter.items()})
    io.update({"out": out.contiguous(), "rope_in": rope_in, "rope_grid": grid, "rope_out": rope_out.contiguous()})
    os.makedirs(a.out_dir, exist_ok=True)
    meta = {"config": json.dumps(config), "seed": str(a.seed), "generator": "reel reference/make_fixture.py"}
    safetensors_io.save(os.path.join(a.out_dir, f"{a.name}.weights.safetensors"),
                        {k: v.contiguous() for k, v in model.state_dict().items()}, meta)
    safetensors_io.save(os.path.join(a.out_dir, f"{a.name}.io.safetensors"), io, meta)
    print(f"wrote {a.name}: {len(model.state_dict())} weights, {len(io)} io tensors, {L} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
