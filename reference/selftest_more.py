"""Quick self-consistency tests of reference/wan_vae.py and reference/umt5.py (a few seconds).

usage: /usr/bin/python3 reference/selftest_more.py
VAE: batched == per-sample, unbatched API, trailing frames dropped, temporal causality of
encoder and decoder, normalize/denormalize round trip (default and custom statistics),
autograd reaches every parameter, bf16 autocast forward+backward.
umT5: the trimmed context of a prompt does not depend on how much padding follows it,
shared_pos variant, autograd, bf16 autocast.
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import wan_vae  # noqa: E402
from umt5 import T5Encoder  # noqa: E402
from wan_vae import WanVAE_, denormalize, make_scale, normalize  # noqa: E402

torch.manual_seed(0)


def randomize(m, std=0.2):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("gamma") or name.endswith("norm.weight") or ".norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0, std)
    return m


def close(a, b, tol=1e-9):
    err = (a - b).abs().max().item()
    assert err <= tol * (1 + b.abs().max().item()), err
    return err


def test_vae():
    vae = WanVAE_(dim=4, z_dim=4, dim_mult=[1, 2, 2, 2], num_res_blocks=1).double().eval()
    randomize(vae, 0.3)
    for m in vae.modules():  # fan-in scaled weights keep activations O(1)
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d)):
            with torch.no_grad():
                m.weight.mul_(1.0 / (0.3 * m.weight[0].numel() ** 0.5))
    v = torch.rand(2, 3, 9, 16, 24, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        mu, lv = vae.encode(v)
        assert mu.shape == (2, 4, 3, 2, 3) and lv.shape == mu.shape, mu.shape
        mu1, _ = vae.encode(v[1])  # unbatched
        close(mu1, mu[1])
        out = vae.decode(mu)
        assert out.shape == (2, 3, 9, 16, 24), out.shape
        close(vae.decode(mu[0]), out[0])
        # T = 11 -> frames 9, 10 dropped
        mu11, _ = vae.encode(torch.cat([v, torch.randn(2, 3, 2, 16, 24, dtype=v.dtype)], dim=2))
        close(mu11, mu, 0)
        # encoder causality: frames 5..8 only affect latent frame 2
        v2 = v.clone()
        v2[:, :, 5:] = torch.rand_like(v2[:, :, 5:])
        mu2, _ = vae.encode(v2)
        close(mu2[:, :, :2], mu[:, :, :2], 0)
        assert (mu2[:, :, 2] - mu[:, :, 2]).abs().max() > 1e-6
        # decoder causality: latent frame 2 only affects video frames 5..8
        z2 = mu.clone()
        z2[:, :, 2] += 1
        out2 = vae.decode(z2)
        close(out2[:, :, :5], out[:, :, :5], 0)
        assert (out2[:, :, 5:] - out[:, :, 5:]).abs().max() > 1e-6
    # normalisation helpers
    z = torch.randn(2, 16, 3, 2, 2)
    close(denormalize(normalize(z)), z, 1e-6)
    mean = torch.tensor(wan_vae.LATENTS_MEAN)
    std = torch.tensor(wan_vae.LATENTS_STD)
    close(normalize(z), (z - mean.view(1, 16, 1, 1, 1)) / std.view(1, 16, 1, 1, 1), 1e-6)
    close(normalize(z[0]), normalize(z)[0], 0)  # unbatched [z, T, h, w]
    sc = make_scale([0.5] * 4, [2.0] * 4)
    close(normalize(mu.float(), scale=sc), (mu.float() - 0.5) / 2, 1e-6)
    close(normalize(mu.float(), 0.5, 2.0), (mu.float() - 0.5) / 2, 1e-6)

    # autograd (float32) and bf16 autocast
    vae = vae.float().train()
    v = v.float()
    recon, mu, lv = vae(v)
    loss = (recon - v[:, :, : recon.shape[2]]).pow(2).mean() + 1e-3 * (mu.pow(2) + lv.exp() - lv).mean()
    loss.backward()
    missing = [n for n, p in vae.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing
    zero = [n for n, p in vae.named_parameters() if p.grad.abs().max() == 0]
    assert not zero, zero
    vae.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        recon_bf, mu_bf, lv_bf = vae(v, sample=False)
    with torch.no_grad():
        recon32, _, _ = vae(v, sample=False)
    recon_bf.float().pow(2).mean().backward()
    assert all(p.grad is not None for p in vae.parameters())
    err = (recon_bf.float() - recon32).abs().max().item()
    assert err <= 0.05 * recon32.abs().max().item(), err
    print(f"vae ok (bf16 vs f32 recon max_abs {err:.2e}, max |recon| {recon32.abs().max().item():.2f})")


def test_t5():
    cfg = dict(vocab=64, dim=32, dim_attn=32, dim_ffn=48, num_heads=4, num_layers=2, num_buckets=32, shared_pos=False)
    m = T5Encoder(**cfg, dropout=0.1).double().eval()
    ids = torch.randint(2, 64, (2, 20))
    mask = torch.ones(2, 20, dtype=torch.long)
    ids[1, 7] = 1
    ids[1, 8:] = 0
    mask[1, 8:] = 0
    with torch.no_grad():
        ctx = m.encode(ids, mask)
        assert [tuple(c.shape) for c in ctx] == [(20, 32), (8, 32)]
        alone = m(ids[1:, :8], mask[1:, :8])[0]  # no padding at all
        close(ctx[1], alone, 1e-12)
        close(m(ids[1:, :12], mask[1:, :12])[0, :8], alone, 1e-12)
    ms = T5Encoder(**dict(cfg, shared_pos=True)).eval()
    assert "pos_embedding.embedding.weight" in ms.state_dict() and "blocks.0.pos_embedding.embedding.weight" not in ms.state_dict()
    with torch.no_grad():
        assert ms(ids, mask).shape == (2, 20, 32)
    m = m.float().train()
    out = m(ids, mask)
    out.pow(2).mean().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing
    m.eval()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ob = m(ids, mask)
    with torch.no_grad():
        o32 = m(ids, mask)
    err = (ob.float() - o32).abs().max().item()
    assert err <= 0.05 * o32.abs().max().item(), err
    ob.float().sum().backward()
    print(f"umt5 ok (bf16 vs f32 max_abs {err:.2e}, max |out| {o32.abs().max().item():.2f})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    test_vae()
    test_t5()
    print("ALL OK")
