"""Reference PyTorch implementation of the Wan 2.1 video VAE (`WanVAE_` of the official `vae.py`).

Written from shared/docs/wan-architecture.md, section 6 (6.1 - 6.7), and checked against the
`vae-tiny` parity fixture in shared/fixtures/wan21 (see reference/check_more_fixtures.py).
No code was copied from the official repositories; module and parameter names mirror the
official ones so that official state_dicts load with `load_state_dict(strict=True)`.

The official code encodes in chunks of frames (1 + 4 + 4 + ...) and decodes one latent frame
at a time, carrying a per-conv cache between chunks. This module implements instead the EXACT
whole-sequence formulation of 6.5: every CausalConv3d runs over the whole clip with 2 zero
frames in front, and the two special temporal steps are written for the whole sequence:
  * encoder downsample3d: out = [y_0] ++ Conv3d_valid_stride2(y_0 .. y_{n-1})
  * decoder upsample3d:   out = [x_0, a_1, b_1, ..., a_{n-1}, b_{n-1}] with (a | b) the 2C
                          channels of time_conv causally over x_1 .. x_{n-1} (zero front pad)
and frames after 1 + 4*floor((T-1)/4) are dropped before encoding, as the official loop does.
So a batch [B, 3, T, H, W] is encoded / decoded in one differentiable call (training).

Notation: B batch, C channels, T frames, H/W height/width (pixels), T' = 1 + (T-1)/4 latent
frames, h/w = H/8, W/8 latent height/width, z = z_dim latent channels (16).

Precision: convolutions follow the input dtype (float32, float64 via `.double()`, or bf16 under
`torch.autocast("cpu", torch.bfloat16)`); RMS_norm and the attention softmax are computed in
float32 (float64 for float64 inputs) and cast back.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from wan_model import attention as _attention

# 6.6: the real Wan 2.1 latent statistics (16 channels)
LATENTS_MEAN = [
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
]  # fmt: skip
LATENTS_STD = [
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160,
]  # fmt: skip

CHUNK_T = 4  # official encode chunk length (after the first single frame)


def _fp(x):
    """float32, or float64 for float64 inputs (statistics precision)."""
    return x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)


# --------------------------------------------------------------------------------------
# latent normalisation (6.6, wrapper level)
# --------------------------------------------------------------------------------------


def make_scale(mean=None, std=None, device=None):
    """-> [mean, 1/std] as float32 tensors (the official wrapper's `scale`; 1/std precomputed
    in float32). Defaults: the real Wan 2.1 constants. Pass your own statistics for a toy VAE."""
    mean = torch.as_tensor(LATENTS_MEAN if mean is None else mean, dtype=torch.float32, device=device)
    std = torch.as_tensor(LATENTS_STD if std is None else std, dtype=torch.float32, device=device)
    return [mean, 1.0 / std]


def _bcast(v, x):
    """[z] statistics -> broadcastable over [B, z, T, h, w] (or [z, T, h, w])."""
    v = torch.as_tensor(v, device=x.device)
    if v.dim() == 0:
        return v
    shape = [1] * x.dim()
    shape[x.dim() - 4] = -1  # channel axis: 1 for [B,z,T,h,w], 0 for [z,T,h,w]
    return v.reshape(shape)


def normalize(mu, mean=None, std=None, scale=None):
    """Raw mu [B, z, T', h, w] -> normalised latent (mu - mean) * (1/std) (what WanVAE.encode
    returns). `scale` = [mean, inv_std] (see make_scale) overrides mean/std; scalars also work."""
    mean, inv_std = scale if scale is not None else make_scale(mean, std, mu.device)
    return (mu - _bcast(mean, mu)) * _bcast(inv_std, mu)


def denormalize(latent, mean=None, std=None, scale=None):
    """Normalised latent -> raw z = latent / (1/std) + mean (input of WanVAE_.decode)."""
    mean, inv_std = scale if scale is not None else make_scale(mean, std, latent.device)
    return latent / _bcast(inv_std, latent) + _bcast(mean, latent)


# --------------------------------------------------------------------------------------
# primitives (6.2)
# --------------------------------------------------------------------------------------


class CausalConv3d(nn.Conv3d):
    """Conv3d with causal temporal padding: 2*p_t zero frames in FRONT only (none at the end),
    p_h / p_w on both sides of H / W. Stored `padding` is (0, 0, 0) as in the official code.

    x [B, Cin, T, H, W] -> [B, Cout, T', H', W'] (T' = T for k_t = 3, p_t = 1, stride 1).
    `cache_x` (optional, [B, Cin, <=2p_t, H, W]): real previous frames used instead of zeros
    (the official streaming interface; the whole-sequence path never needs it).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        p_t, p_h, p_w = self.padding
        self._padding = (p_w, p_w, p_h, p_h, 2 * p_t, 0)  # F.pad order (official attribute)
        self.padding = (0, 0, 0)

    def forward(self, x, cache_x=None):
        front = self._padding[4]
        if cache_x is not None and front > 0:
            cache_x = cache_x.to(x.dtype)
            x = torch.cat([cache_x, x], dim=2)
            front -= cache_x.shape[2]
        if front > 0:
            x = F.pad(x, (0, 0, 0, 0, front, 0))  # zero frames in front
        # the spatial zero padding is done inside the convolution (same math, no copy)
        return F.conv3d(x, self.weight, self.bias, self.stride, (0, self._padding[2], self._padding[0]), self.dilation, self.groups)


class RMS_norm(nn.Module):
    """x / max(||x||_2 over channels, 1e-12) * sqrt(C) * gamma (+ bias): an L2 normalisation
    over the channel axis (dim 1, or -1 when channel_first=False).
    gamma: [C,1,1,1] (images=False, 5-D video) or [C,1,1] (images=True, 4-D frames)."""

    def __init__(self, dim, channel_first=True, images=True, bias=False):
        super().__init__()
        broadcastable_dims = (1, 1) if images else (1, 1, 1)
        shape = (dim, *broadcastable_dims) if channel_first else (dim,)
        self.channel_first = channel_first
        self.scale = dim**0.5
        self.gamma = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape)) if bias else 0.0

    def forward(self, x):
        xf = _fp(x)
        dim = 1 if self.channel_first else -1
        # = F.normalize(xf, dim): x / max(||x||, 1e-12); written out because torch's norm
        # reduction over a non-innermost axis is ~15x slower on CPU
        # (multiplying by the small reciprocal tensor keeps the backward cheap)
        inv = xf.mul(xf).sum(dim=dim, keepdim=True).sqrt().clamp_min(1e-12).reciprocal()
        y = xf * inv * (self.gamma * self.scale)
        if isinstance(self.bias, torch.Tensor):
            y = y + self.bias
        return y.to(x.dtype)


class _NearestUpsample2x(nn.Module):
    """Nearest x2 upsampling of the last two dims (= 'nearest-exact' for factor 2).
    Written with expand/reshape so that it works for any dtype and under autograd."""

    def forward(self, x):  # [..., H, W] -> [..., 2H, 2W]
        *lead, H, W = x.shape
        return x[..., :, None, :, None].expand(*lead, H, 2, W, 2).reshape(*lead, 2 * H, 2 * W)


class Resample(nn.Module):
    """mode: 'upsample2d' | 'upsample3d' | 'downsample2d' | 'downsample3d' | 'none'.

    The 2-D part (`resample`, a Sequential whose index 1 is the Conv2d) is applied per frame;
    it is run here as a Conv3d with a (1, kh, kw) view of the Conv2d weight (identical math,
    no (b t) reshuffle). Temporal parts are the whole-sequence forms of 6.5.
    """

    def __init__(self, dim, mode):
        assert mode in ("none", "upsample2d", "upsample3d", "downsample2d", "downsample3d")
        super().__init__()
        self.dim = dim
        self.mode = mode
        if mode in ("upsample2d", "upsample3d"):
            # the channel count HALVES in the Wan 2.1 upsampler
            self.resample = nn.Sequential(_NearestUpsample2x(), nn.Conv2d(dim, dim // 2, 3, padding=1))
            if mode == "upsample3d":
                self.time_conv = CausalConv3d(dim, dim * 2, (3, 1, 1), padding=(1, 0, 0))
        elif mode in ("downsample2d", "downsample3d"):
            self.resample = nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(dim, dim, 3, stride=(2, 2)))
            if mode == "downsample3d":
                self.time_conv = CausalConv3d(dim, dim, (3, 1, 1), stride=(2, 1, 1), padding=(0, 0, 0))
        else:
            self.resample = nn.Identity()

    def _spatial(self, x):
        """Per-frame 2-D op. x [B, C, T, H, W] -> [B, C', T, H', W']."""
        conv = self.resample[1]
        w = conv.weight.unsqueeze(2)  # [C', C, 1, 3, 3]
        if self.mode.startswith("up"):
            x = self.resample[0](x)  # [B, C, T, 2H, 2W]
            return F.conv3d(x, w, conv.bias, 1, (0, 1, 1))  # [B, C/2, T, 2H, 2W]
        x = F.pad(x, (0, 1, 0, 1))  # right 1, bottom 1
        return F.conv3d(x, w, conv.bias, (1, 2, 2))  # [B, C, T, H/2, W/2] (even H, W)

    def forward(self, x):
        if self.mode == "none":
            return x
        if self.mode == "upsample3d":
            # frame 0 passes through (not duplicated); frames 1..n-1 -> 2 frames each
            B, C, n, H, W = x.shape
            if n > 1:
                t = self.time_conv(x[:, :, 1:])  # [B, 2C, n-1, H, W], zero (not x_0) left context
                t = t.view(B, 2, C, n - 1, H, W).permute(0, 2, 3, 1, 4, 5)  # [B, C, n-1, 2, H, W]
                x = torch.cat([x[:, :, :1], t.reshape(B, C, 2 * (n - 1), H, W).to(x.dtype)], dim=2)
            # x [B, C, 1 + 2(n-1), H, W]
        x = self._spatial(x)
        if self.mode == "downsample3d":
            # out_0 = y_0 (no time conv), out_k = time_conv(y_{2k-2}, y_{2k-1}, y_{2k})
            n = x.shape[2]
            if n >= 3:
                x = torch.cat([x[:, :, :1], self.time_conv(x).to(x.dtype)], dim=2)  # [B, C, 1+(n-1)//2, h, w]
            else:
                x = x[:, :, :1]
        return x


class ResidualBlock(nn.Module):
    """residual = [RMS, SiLU, CC3(in->out), RMS, SiLU, Dropout, CC3(out->out)];
    out = residual(x) + shortcut(x), shortcut a 1x1x1 CausalConv3d when in != out."""

    def __init__(self, in_dim, out_dim, dropout=0.0):
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.residual = nn.Sequential(
            RMS_norm(in_dim, images=False),
            nn.SiLU(),
            CausalConv3d(in_dim, out_dim, 3, padding=1),
            RMS_norm(out_dim, images=False),
            nn.SiLU(),
            nn.Dropout(dropout),
            CausalConv3d(out_dim, out_dim, 3, padding=1),
        )
        self.shortcut = CausalConv3d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()

    def forward(self, x):  # [B, in, T, H, W] -> [B, out, T, H, W]
        return self.residual(x) + self.shortcut(x)


class AttentionBlock(nn.Module):
    """Single-head spatial self-attention per frame, scale 1/sqrt(C):
    x + proj(attn(to_qkv(RMS(x)))) with q/k/v = channels [0,C) / [C,2C) / [2C,3C)."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.norm = RMS_norm(dim)  # gamma [C, 1, 1]
        self.to_qkv = nn.Conv2d(dim, dim * 3, 1)
        self.proj = nn.Conv2d(dim, dim, 1)
        nn.init.zeros_(self.proj.weight)  # the block starts as the identity

    def forward(self, x):  # [B, C, T, H, W] -> same
        B, C, T, H, W = x.shape
        identity = x
        h = x.transpose(1, 2).reshape(B * T, C, H, W)  # per frame
        h = self.norm(h)
        qkv = self.to_qkv(h).flatten(2).transpose(1, 2)  # [B*T, HW, 3C]
        q, k, v = (t.unsqueeze(2) for t in qkv.chunk(3, dim=-1))  # [B*T, HW, 1, C] each
        a = _attention(q, k, v).squeeze(2)  # [B*T, HW, C]
        a = a.transpose(1, 2).reshape(B * T, C, H, W)
        a = self.proj(a)
        return identity + a.view(B, T, C, H, W).transpose(1, 2).to(identity.dtype)


# --------------------------------------------------------------------------------------
# encoder / decoder (6.3, 6.4)
# --------------------------------------------------------------------------------------


class Encoder3d(nn.Module):
    """[B, 3, T, H, W] (T = 1 + 4m) -> [B, z_dim, 1 + m, H/8, W/8] (z_dim here = 2 * latent z)."""

    def __init__(
        self,
        dim=128,
        z_dim=4,
        dim_mult=(1, 2, 4, 4),
        num_res_blocks=2,
        attn_scales=(),
        temperal_downsample=(True, True, False),
        dropout=0.0,
    ):
        super().__init__()
        self.dim = dim
        self.z_dim = z_dim
        self.dim_mult = list(dim_mult)
        self.num_res_blocks = num_res_blocks
        self.attn_scales = list(attn_scales)
        self.temperal_downsample = list(temperal_downsample)

        dims = [dim * u for u in [1] + self.dim_mult]  # e.g. [96, 96, 192, 384, 384]
        scale = 1.0
        self.conv1 = CausalConv3d(3, dims[0], 3, padding=1)
        downsamples = []
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            for _ in range(num_res_blocks):
                downsamples.append(ResidualBlock(in_dim, out_dim, dropout))
                if scale in self.attn_scales:
                    downsamples.append(AttentionBlock(out_dim))
                in_dim = out_dim
            if i != len(self.dim_mult) - 1:
                mode = "downsample3d" if self.temperal_downsample[i] else "downsample2d"
                downsamples.append(Resample(out_dim, mode=mode))
                scale /= 2.0
        self.downsamples = nn.Sequential(*downsamples)
        self.middle = nn.Sequential(
            ResidualBlock(out_dim, out_dim, dropout), AttentionBlock(out_dim), ResidualBlock(out_dim, out_dim, dropout)
        )
        self.head = nn.Sequential(RMS_norm(out_dim, images=False), nn.SiLU(), CausalConv3d(out_dim, z_dim, 3, padding=1))

    def forward(self, x):
        x = self.conv1(x)
        x = self.downsamples(x)
        x = self.middle(x)
        return self.head(x)


class Decoder3d(nn.Module):
    """[B, z_dim, n, h, w] -> [B, 3, 1 + 4(n-1), 8h, 8w] (for temperal_upsample [T, T, F])."""

    def __init__(
        self,
        dim=128,
        z_dim=4,
        dim_mult=(1, 2, 4, 4),
        num_res_blocks=2,
        attn_scales=(),
        temperal_upsample=(False, True, True),
        dropout=0.0,
    ):
        super().__init__()
        self.dim = dim
        self.z_dim = z_dim
        self.dim_mult = list(dim_mult)
        self.num_res_blocks = num_res_blocks
        self.attn_scales = list(attn_scales)
        self.temperal_upsample = list(temperal_upsample)

        dims = [dim * u for u in [self.dim_mult[-1]] + self.dim_mult[::-1]]  # e.g. [384, 384, 384, 192, 96]
        scale = 1.0 / 2 ** (len(self.dim_mult) - 2)
        self.conv1 = CausalConv3d(z_dim, dims[0], 3, padding=1)
        self.middle = nn.Sequential(
            ResidualBlock(dims[0], dims[0], dropout), AttentionBlock(dims[0]), ResidualBlock(dims[0], dims[0], dropout)
        )
        upsamples = []
        for i, (in_dim, out_dim) in enumerate(zip(dims[:-1], dims[1:])):
            if i in (1, 2, 3):
                in_dim = in_dim // 2  # the previous upsampler halved the channels
            for _ in range(num_res_blocks + 1):
                upsamples.append(ResidualBlock(in_dim, out_dim, dropout))
                if scale in self.attn_scales:
                    upsamples.append(AttentionBlock(out_dim))
                in_dim = out_dim
            if i != len(self.dim_mult) - 1:
                mode = "upsample3d" if self.temperal_upsample[i] else "upsample2d"
                upsamples.append(Resample(out_dim, mode=mode))
                scale *= 2.0
        self.upsamples = nn.Sequential(*upsamples)
        self.head = nn.Sequential(RMS_norm(out_dim, images=False), nn.SiLU(), CausalConv3d(out_dim, 3, 3, padding=1))

    def forward(self, x):
        x = self.conv1(x)
        x = self.middle(x)
        x = self.upsamples(x)
        return self.head(x)


class WanVAE_(nn.Module):
    """The Wan 2.1 VAE. Defaults are the released Wan 2.1 configuration (6.1).

    encode(video [B, 3, T, H, W] in [-1, 1]) -> (mu, log_var), each [B, z, T', H/8, W/8], RAW
        (not normalised; use `normalize` for the DiT latent). T' = 1 + (T-1)//4; frames after
        1 + 4*((T-1)//4) are dropped as in the official chunk loop.
    decode(z [B, z, n, h, w] RAW, i.e. denormalised) -> video [B, 3, 1 + 4(n-1), 8h, 8w], unclamped.
    forward(video) -> (recon, mu, log_var) with a reparameterised sample (training).
    Unbatched [3, T, H, W] / [z, n, h, w] inputs are accepted and give unbatched outputs.
    """

    def __init__(
        self,
        dim=96,
        z_dim=16,
        dim_mult=(1, 2, 4, 4),
        num_res_blocks=2,
        attn_scales=(),
        temperal_downsample=(False, True, True),
        dropout=0.0,
    ):
        super().__init__()
        self.dim = dim
        self.z_dim = z_dim
        self.dim_mult = list(dim_mult)
        self.num_res_blocks = num_res_blocks
        self.attn_scales = list(attn_scales)
        self.temperal_downsample = list(temperal_downsample)
        self.temperal_upsample = self.temperal_downsample[::-1]

        self.encoder = Encoder3d(
            dim, z_dim * 2, self.dim_mult, num_res_blocks, self.attn_scales, self.temperal_downsample, dropout
        )
        self.conv1 = CausalConv3d(z_dim * 2, z_dim * 2, 1)
        self.conv2 = CausalConv3d(z_dim, z_dim, 1)
        self.decoder = Decoder3d(dim, z_dim, self.dim_mult, num_res_blocks, self.attn_scales, self.temperal_upsample, dropout)

    @property
    def spatial_stride(self):
        return 2 ** (len(self.dim_mult) - 1)

    @property
    def temporal_stride(self):
        return 2 ** sum(bool(t) for t in self.temperal_downsample)

    def encode(self, video, intermediates=None):
        """video [B, 3, T, H, W] (or [3, T, H, W]) -> (mu, log_var) [B, z, T', h, w].
        `intermediates` (dict) receives encoder_out and conv1_out ([B, 2z, T', h, w])."""
        batched = video.dim() == 5
        if not batched:
            video = video.unsqueeze(0)
        T = video.shape[2]
        keep = 1 + CHUNK_T * ((T - 1) // CHUNK_T)  # the official loop drops the rest
        x = self.encoder(video[:, :, :keep])  # [B, 2z, T', h, w]
        y = self.conv1(x)  # [B, 2z, T', h, w]
        if intermediates is not None:
            intermediates["encoder_out"] = x.detach()
            intermediates["conv1_out"] = y.detach()
        mu, log_var = y.chunk(2, dim=1)
        return (mu, log_var) if batched else (mu[0], log_var[0])

    def decode(self, z, intermediates=None):
        """z [B, z, n, h, w] raw (or [z, n, h, w]) -> [B, 3, 1 + 4(n-1), 8h, 8w], unclamped.
        `intermediates` (dict) receives conv2_out."""
        batched = z.dim() == 5
        if not batched:
            z = z.unsqueeze(0)
        x = self.conv2(z)
        if intermediates is not None:
            intermediates["conv2_out"] = x.detach()
        out = self.decoder(x)
        return out if batched else out[0]

    @staticmethod
    def reparameterize(mu, log_var):
        return mu + torch.randn_like(mu) * torch.exp(0.5 * log_var)

    def forward(self, video, sample=True):
        """-> (recon [B, 3, T_kept, H, W] unclamped, mu, log_var) (raw latents)."""
        mu, log_var = self.encode(video)
        z = self.reparameterize(mu, log_var) if sample else mu
        return self.decode(z), mu, log_var

    def init_weights(self):
        """Training init: kaiming-uniform convs (torch default) with zero biases, unit gammas,
        zero attention output projections."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                m.reset_parameters()
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, RMS_norm):
                nn.init.ones_(m.gamma)
        for m in self.modules():
            if isinstance(m, AttentionBlock):
                nn.init.zeros_(m.proj.weight)


class WanVAE:
    """Thin wrapper as the official one: normalised latents, clamped decode.
    encode(video) -> (mu - mean) / std; decode(latent) -> clamp(WanVAE_.decode(denorm), -1, 1).
    `scale` = [mean, inv_std] (make_scale), default the real Wan 2.1 statistics."""

    def __init__(self, model, scale=None):
        self.model = model
        self.scale = scale if scale is not None else make_scale()

    def encode(self, video):
        mu, _ = self.model.encode(video)
        return normalize(mu, scale=self.scale)

    def decode(self, latent):
        return self.model.decode(denormalize(latent, scale=self.scale)).float().clamp(-1, 1)
