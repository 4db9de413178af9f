"""Faster stand-ins for two of the reference DiT's kernels, for training on CPU only.

The reference modules (reference/wan_model.py) stay exactly as they are for the parity
fixtures; `use_training_kernels(dit)` swaps in, for one training process:

- GELU computed in float32. Under bf16 autocast the FFN's GELU gets bf16 input, and torch
  1.13's bf16 tanh-GELU on CPU is slow: fwd+bwd of a [5120, 768] tensor takes 32 ms in bf16 and
  19 ms through float32 (measured on this 2-core host). The result is cast back to the input's
  dtype, so the next Linear sees what it saw before, computed more precisely.
- RoPE in float32 instead of float64: the same rotation tables (cast once), for grids of a few
  dozen positions the angle error is ~1e-7. The output dtype is float32, as the reference's.

Together about 7% off a batch-16 step of the 9-block reel-toy DiT (1.38 -> 1.28 s).
"""

import torch
from torch import nn

import wan_model


class GELUFloat32(nn.GELU):
    """nn.GELU computed in float32, returned in the input's dtype."""

    def forward(self, x):
        return super().forward(x.float()).to(x.dtype)


def rope_apply_f32(x, grid_sizes, freqs):
    """wan_model.rope_apply in float32: x [B, S, n, d] -> float32 [B, S, n, d]. Batches whose
    samples have different grids fall back to the reference."""
    B, S, n, d = x.shape
    grids = [tuple(int(v) for v in g) for g in grid_sizes]
    if any(g != grids[0] for g in grids) or x.dtype == torch.float64:
        return _REFERENCE_ROPE(x, grid_sizes, freqs)
    f, h, w = grids[0]
    L = f * h * w
    cos2, sin2 = wan_model._rope_tables(f, h, w, freqs, x.device)  # float64 [L, 1, d]
    xi = x[:, :L].float()  # [B, L, n, d]
    swapped = xi.unflatten(-1, (d // 2, 2)).flip(-1).flatten(-2)  # (b, a) pairs
    rot = xi * cos2.float() + swapped * sin2.float()
    if S > L:
        rot = torch.cat([rot, x[:, L:].float()], dim=1)
    return rot


_REFERENCE_ROPE = wan_model.rope_apply


def use_training_kernels(model):
    """Swaps model's GELUs for GELUFloat32 (same `approximate`) in place and wan_model's
    rope_apply for rope_apply_f32 (process-wide: every WanModel in this process). Returns model."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child) is nn.GELU:
                setattr(module, name, GELUFloat32(approximate=child.approximate))
    wan_model.rope_apply = rope_apply_f32
    return model
