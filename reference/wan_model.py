"""Reference PyTorch implementation of the Wan 2.1 / 2.2 DiT (`WanModel`).

Written from shared/docs/wan-architecture.md, section 3 (3.1 - 3.13), and checked against
the parity fixtures in shared/fixtures/wan21 (see reference/check_fixtures.py).
No code was copied from the official repositories; module and parameter names mirror the
official ones so that official state_dicts load with `load_state_dict(strict=True)`.

Supported:
  * Wan2.1 t2v                       (model_type 't2v')
  * Wan2.1 i2v / flf2v CLIP branch   (model_type 'i2v' / 'flf2v': img_emb, k_img, v_img,
                                       norm_k_img; flf2v adds img_emb.emb_pos)
  * Wan2.2 per-token timesteps       (any model_type, t of shape [L] / [1, L]; 'ti2v')
  * Wan2.2 i2v experts without CLIP  (model_type 'i2v', clip_branch=False)

Notation: B batch, C channels, F/H/W latent frames/height/width, f/h/w patch grid,
L = f*h*w real tokens, S = seq_len >= L (padded tokens), D = dim, n heads, d = D/n head dim.

Autograd works everywhere (the RoPE uses float64 real arithmetic, no complex tensors in the
graph), so the module can be trained. Attention is an explicit softmax attention, chunked
over queries to bound the memory of the score matrix (torch 1.13 has no SDPA).
"""

import math

import torch
import torch.nn as nn

T5_CONTEXT_TOKEN_NUMBER = 512  # the i2v cross-attention split hard-codes 512 text rows (3.5)
FIRST_LAST_FRAME_CONTEXT_TOKEN_NUMBER = 257 * 2  # flf2v img_emb.emb_pos length
CLIP_DIM = 1280  # official hard-coded CLIP width for img_emb
ROPE_MAX_POSITIONS = 1024  # official table length per axis (extended on demand here)

# Upper bound on the number of attention-score elements materialised at once
# (B * heads * query_chunk * Lk). 2**26 floats = 256 MiB.
ATTN_SCORE_BUDGET = 1 << 26


# --------------------------------------------------------------------------------------
# functional pieces
# --------------------------------------------------------------------------------------


def sinusoidal_embedding_1d(dim, position):
    """Timestep sinusoid (3.3), computed in float64, cos first.

    position: [N] (any dtype) -> [N, dim] float64 = [cos(p*w_i) | sin(p*w_i)],
    w_i = 10000^(-i/half), i = 0..half-1.
    """
    assert dim % 2 == 0
    half = dim // 2
    position = position.to(torch.float64)
    omega = torch.pow(10000.0, -torch.arange(half, dtype=torch.float64, device=position.device).div(half))
    sinusoid = torch.outer(position, omega)  # [N, half]
    return torch.cat([torch.cos(sinusoid), torch.sin(sinusoid)], dim=1)  # [N, dim]


def rope_params(max_seq_len, dim, theta=10000):
    """RoPE table for one axis with `dim` real dims (3.6).

    Returns complex128 [max_seq_len, dim/2] = exp(i * pos * theta^(-2m/dim)).
    """
    assert dim % 2 == 0
    inv = 1.0 / torch.pow(float(theta), torch.arange(0, dim, 2, dtype=torch.float64).div(dim))  # [dim/2]
    angles = torch.outer(torch.arange(max_seq_len, dtype=torch.float64), inv)  # [max_seq_len, dim/2]
    return torch.polar(torch.ones_like(angles), angles)


def rope_freqs(head_dim, max_seq_len=ROPE_MAX_POSITIONS):
    """The model's concatenated table [max_seq_len, d/2] complex128: f | h | w groups."""
    d = head_dim
    assert d % 2 == 0
    return torch.cat(
        [
            rope_params(max_seq_len, d - 4 * (d // 6)),
            rope_params(max_seq_len, 2 * (d // 6)),
            rope_params(max_seq_len, 2 * (d // 6)),
        ],
        dim=1,
    )


_ROPE_CACHE = {}


def _rope_tables(f, h, w, freqs, device):
    """Per-token rotation tables for grid (f, h, w), float64 [f*h*w, 1, d] each:
    cos2 = cos interleaved twice, sin2 = (-sin, +sin) interleaved, so that
    rope(x) = x * cos2 + pairswap(x) * sin2 (cached per grid/table/device)."""
    key = (f, h, w, freqs.data_ptr(), tuple(freqs.shape), str(device))
    hit = _ROPE_CACHE.get(key)
    if hit is not None:
        return hit
    c = freqs.shape[1]
    c_h = c // 3
    c_f = c - 2 * c_h
    ff, fh, fw = freqs.split([c_f, c_h, c_h], dim=1)
    table = torch.cat(
        [
            ff[:f].view(f, 1, 1, -1).expand(f, h, w, c_f),
            fh[:h].view(1, h, 1, -1).expand(f, h, w, c_h),
            fw[:w].view(1, 1, w, -1).expand(f, h, w, c_h),
        ],
        dim=-1,
    ).reshape(f * h * w, 1, c)  # complex128 [L, 1, d/2]
    cos, sin = table.real, table.imag
    cos2 = torch.stack([cos, cos], dim=-1).flatten(2).to(device)  # [L, 1, d]
    sin2 = torch.stack([-sin, sin], dim=-1).flatten(2).to(device)  # [L, 1, d]
    if len(_ROPE_CACHE) >= 16:
        _ROPE_CACHE.clear()
    _ROPE_CACHE[key] = (cos2, sin2)
    return cos2, sin2


def rope_apply(x, grid_sizes, freqs):
    """Interleaved-pair complex 3D RoPE (3.6).

    x: [B, S, n, d]; grid_sizes: [B, 3] int (f, h, w); freqs: complex128 [>=max(f,h,w), d/2].
    Token j < f*h*w of sample i is rotated in float64: the pair (a, b) = (x[2j], x[2j+1])
    becomes (a*cos - b*sin, a*sin + b*cos); tokens beyond f*h*w pass through.
    Returns float32 [B, S, n, d] (as the official code; float64 stays float64).
    """
    B, S, n, d = x.shape
    grids = [tuple(int(v) for v in g) for g in grid_sizes]
    out_dtype = _fp(x[:0]).dtype
    if all(g == grids[0] for g in grids):
        groups = [(grids[0], slice(0, B))]  # one grid for the whole batch
    else:
        groups = [(g, slice(i, i + 1)) for i, g in enumerate(grids)]
    out = []
    for (f, h, w), sl in groups:
        L = f * h * w
        cos2, sin2 = _rope_tables(f, h, w, freqs, x.device)  # [L, 1, d]
        xi = x[sl, :L].to(torch.float64)  # [b, L, n, d]
        swapped = xi.unflatten(-1, (d // 2, 2)).flip(-1).flatten(-2)  # (b, a) pairs
        rot = (xi * cos2 + swapped * sin2).to(out_dtype)
        if S > L:
            rot = torch.cat([rot, x[sl, L:].to(out_dtype)], dim=1)
        out.append(rot)
    return out[0] if len(out) == 1 else torch.cat(out, dim=0)


def attention(q, k, v, k_len=None, score_budget=ATTN_SCORE_BUDGET):
    """Plain softmax attention, scale 1/sqrt(d), no mask except a key-length limit.

    q: [B, Lq, n, d], k/v: [B, Lk, n, d]  ->  [B, Lq, n, d].
    Keys/values beyond `k_len` (int) are ignored. Queries are processed in chunks so that at
    most `score_budget` score elements exist at once.
    """
    if k_len is not None:
        k = k[:, :k_len]
        v = v[:, :k_len]
    B, Lq, n, d = q.shape
    Lk = k.shape[1]
    scale = 1.0 / math.sqrt(d)
    qh = q.transpose(1, 2).reshape(B * n, Lq, d)  # [B*n, Lq, d]
    khT = k.permute(0, 2, 3, 1).reshape(B * n, d, Lk)  # [B*n, d, Lk]
    vh = v.transpose(1, 2).reshape(B * n, Lk, d)  # [B*n, Lk, d]
    chunk = max(1, min(Lq, score_budget // max(1, B * n * Lk)))
    outs = []
    for s in range(0, Lq, chunk):
        qc = qh[:, s : s + chunk]
        # scores = scale * q k^T, the scale applied inside the GEMM (alpha)
        scores = torch.baddbmm(qc.new_empty(()).expand(B * n, qc.shape[1], Lk), qc, khT, beta=0.0, alpha=scale)
        p = torch.softmax(scores, dim=-1, dtype=torch.float32)  # [B*n, c, Lk]
        outs.append(torch.bmm(p.to(vh.dtype), vh))  # [B*n, c, d]
    o = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
    return o.view(B, n, Lq, d).transpose(1, 2)  # [B, Lq, n, d]


def _fp(x, ref=None):
    """Cast to float32 (what the official code does with .float()), or keep float64 when
    `ref` (default x) is float64, so that the model also runs in double precision."""
    r = x if ref is None else ref
    return x.to(torch.float64 if r.dtype == torch.float64 else torch.float32)


def _no_autocast(t):
    """Context that disables autocast on t's device (the official fp32 sections)."""
    return torch.autocast(device_type=t.device.type, enabled=False)


# --------------------------------------------------------------------------------------
# modules
# --------------------------------------------------------------------------------------


class WanRMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * weight over the last dim (computed in float32)."""

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):  # [..., dim] -> [..., dim]
        xf = _fp(x)
        y = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


class WanLayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32; no affine by default (norm1, norm2, head.norm)."""

    def __init__(self, dim, eps=1e-6, elementwise_affine=False):
        super().__init__(dim, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x):  # [..., dim] -> [..., dim]
        return super().forward(_fp(x)).type_as(x)


class WanSelfAttention(nn.Module):
    def __init__(self, dim, num_heads, window_size=(-1, -1), qk_norm=True, eps=1e-6):
        assert dim % num_heads == 0
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.window_size = tuple(window_size)
        if self.window_size != (-1, -1):
            raise NotImplementedError("only global attention (window_size = (-1, -1)) is supported")
        self.qk_norm = qk_norm
        self.eps = eps
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        # RMSNorm over the FULL dim (all heads together), before the head split
        self.norm_q = WanRMSNorm(dim, eps=eps) if qk_norm else nn.Identity()
        self.norm_k = WanRMSNorm(dim, eps=eps) if qk_norm else nn.Identity()

    def forward(self, x, seq_lens, grid_sizes, freqs):
        """x [B, S, D]; seq_lens: int, number of real tokens (keys limited to them);
        grid_sizes [B, 3]; freqs complex128 table.  -> [B, S, D] (after `o`)."""
        B, S, _ = x.shape
        n, d = self.num_heads, self.head_dim
        q = self.norm_q(self.q(x)).view(B, S, n, d)
        k = self.norm_k(self.k(x)).view(B, S, n, d)
        v = self.v(x).view(B, S, n, d)
        a = attention(rope_apply(q, grid_sizes, freqs), rope_apply(k, grid_sizes, freqs), v, k_len=seq_lens)
        return self.o(a.flatten(2))


class WanT2VCrossAttention(WanSelfAttention):
    def forward(self, x, context, context_lens=None):
        """x [B, S, D], context [B, 512, D] -> [B, S, D]. No mask (context_lens unused)."""
        B = x.shape[0]
        n, d = self.num_heads, self.head_dim
        q = self.norm_q(self.q(x)).view(B, -1, n, d)
        k = self.norm_k(self.k(context)).view(B, -1, n, d)
        v = self.v(context).view(B, -1, n, d)
        return self.o(attention(q, k, v).flatten(2))


class WanI2VCrossAttention(WanSelfAttention):
    def __init__(self, dim, num_heads, window_size=(-1, -1), qk_norm=True, eps=1e-6):
        super().__init__(dim, num_heads, window_size, qk_norm, eps)
        self.k_img = nn.Linear(dim, dim)
        self.v_img = nn.Linear(dim, dim)
        self.norm_k_img = WanRMSNorm(dim, eps=eps) if qk_norm else nn.Identity()

    def forward(self, x, context, context_lens=None):
        """x [B, S, D], context [B, n_img + 512, D] (image tokens first) -> [B, S, D]."""
        B = x.shape[0]
        n, d = self.num_heads, self.head_dim
        n_img = context.shape[1] - T5_CONTEXT_TOKEN_NUMBER
        context_img = context[:, :n_img]
        context = context[:, n_img:]
        q = self.norm_q(self.q(x)).view(B, -1, n, d)
        k = self.norm_k(self.k(context)).view(B, -1, n, d)
        v = self.v(context).view(B, -1, n, d)
        k_img = self.norm_k_img(self.k_img(context_img)).view(B, -1, n, d)
        v_img = self.v_img(context_img).view(B, -1, n, d)
        a_img = attention(q, k_img, v_img).flatten(2)  # [B, S, D]
        a = attention(q, k, v).flatten(2)  # [B, S, D]
        return self.o(a + a_img)


WAN_CROSSATTENTION_CLASSES = {
    "t2v_cross_attn": WanT2VCrossAttention,
    "i2v_cross_attn": WanI2VCrossAttention,
}


class WanAttentionBlock(nn.Module):
    def __init__(
        self,
        cross_attn_type,
        dim,
        ffn_dim,
        num_heads,
        window_size=(-1, -1),
        qk_norm=True,
        cross_attn_norm=False,
        eps=1e-6,
    ):
        super().__init__()
        self.dim = dim
        self.ffn_dim = ffn_dim
        self.num_heads = num_heads
        self.eps = eps
        # call order: norm1 (self-attn, no affine), norm3 (cross-attn, affine), norm2 (FFN)
        self.norm1 = WanLayerNorm(dim, eps)
        self.self_attn = WanSelfAttention(dim, num_heads, window_size, qk_norm, eps)
        self.norm3 = WanLayerNorm(dim, eps, elementwise_affine=True) if cross_attn_norm else nn.Identity()
        self.cross_attn = WAN_CROSSATTENTION_CLASSES[cross_attn_type](dim, num_heads, (-1, -1), qk_norm, eps)
        self.norm2 = WanLayerNorm(dim, eps)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn_dim), nn.GELU(approximate="tanh"), nn.Linear(ffn_dim, dim))
        self.modulation = nn.Parameter(torch.randn(1, 6, dim) / dim**0.5)  # [1, 6, D]

    def forward(self, x, e, seq_lens, grid_sizes, freqs, context, context_lens=None, intermediates=None, prefix=""):
        """x [B, S, D] float32; e = e0 [B, Lt, 6, D] float32 with Lt in {1, S};
        context [B, (n_img +) 512, D] -> [B, S, D]."""
        rec = intermediates is not None
        with _no_autocast(x):
            m = self.modulation.unsqueeze(0) + e  # [B, Lt, 6, D]
        shift1, scale1, gate1, shift2, scale2, gate2 = (m[:, :, j] for j in range(6))  # [B, Lt, D]

        # self-attention
        h = _fp(self.norm1(x)) * (1 + scale1) + shift1  # [B, S, D]
        y = self.self_attn(h, seq_lens, grid_sizes, freqs)
        if rec:
            intermediates[prefix + "self_attn_in"] = h.detach()
            intermediates[prefix + "self_attn_out"] = y.detach()
        with _no_autocast(x):
            x = x + _fp(y) * gate1

        # cross-attention (no modulation, no gate)
        y = self.cross_attn(self.norm3(x), context, context_lens)
        if rec:
            intermediates[prefix + "cross_attn_out"] = y.detach()
        x = x + _fp(y)

        # feed-forward
        h2 = _fp(self.norm2(x)) * (1 + scale2) + shift2
        y = self.ffn(h2)
        if rec:
            intermediates[prefix + "ffn_in"] = h2.detach()
            intermediates[prefix + "ffn_out"] = y.detach()
        with _no_autocast(x):
            x = x + _fp(y) * gate2
        return x


class Head(nn.Module):
    def __init__(self, dim, out_dim, patch_size, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.out_dim = out_dim
        self.patch_size = tuple(patch_size)
        self.eps = eps
        self.norm = WanLayerNorm(dim, eps)
        self.head = nn.Linear(dim, math.prod(self.patch_size) * out_dim)
        self.modulation = nn.Parameter(torch.randn(1, 2, dim) / dim**0.5)  # [1, 2, D]

    def forward(self, x, e):
        """x [B, S, D]; e [B, Lt, D] (time_embedding output, no SiLU) -> [B, S, prod(p)*C]."""
        with _no_autocast(x):
            hm = self.modulation.unsqueeze(0) + e.unsqueeze(2)  # [B, Lt, 2, D]
            shift, scale = hm[:, :, 0], hm[:, :, 1]
            return self.head(self.norm(_fp(x)) * (1 + scale) + shift)


class MLPProj(nn.Module):
    """CLIP token projection (img_emb): LN(1e-5) -> Linear -> GELU(erf) -> Linear -> LN(1e-5)."""

    def __init__(self, in_dim, out_dim, flf_pos_emb=False):
        super().__init__()
        self.proj = nn.Sequential(
            nn.LayerNorm(in_dim),
            nn.Linear(in_dim, in_dim),
            nn.GELU(),
            nn.Linear(in_dim, out_dim),
            nn.LayerNorm(out_dim),
        )
        if flf_pos_emb:
            self.emb_pos = nn.Parameter(torch.zeros(1, FIRST_LAST_FRAME_CONTEXT_TOKEN_NUMBER, in_dim))

    def forward(self, image_embeds):
        """[B, n, 1280] (flf2v: [2B, n, 1280], first/last frames) -> [B, n (2n), D]."""
        if hasattr(self, "emb_pos"):
            b, n, d = image_embeds.shape
            image_embeds = image_embeds.reshape(-1, 2 * n, d) + self.emb_pos
        return self.proj(image_embeds)


class WanModel(nn.Module):
    def __init__(
        self,
        model_type="t2v",
        patch_size=(1, 2, 2),
        text_len=512,
        in_dim=16,
        dim=2048,
        ffn_dim=8192,
        freq_dim=256,
        text_dim=4096,
        out_dim=16,
        num_heads=16,
        num_layers=32,
        window_size=(-1, -1),
        qk_norm=True,
        cross_attn_norm=True,
        eps=1e-6,
        clip_branch=None,
    ):
        """Constructor kwargs as the official WanModel config. `clip_branch` (extension):
        whether i2v/flf2v have the Wan2.1 CLIP branch; default True for 'i2v'/'flf2v'
        (Wan2.1). Pass False for the Wan2.2 i2v experts."""
        super().__init__()
        assert model_type in ("t2v", "i2v", "flf2v", "ti2v")
        self.model_type = model_type
        self.patch_size = tuple(patch_size)
        self.text_len = text_len
        self.in_dim = in_dim
        self.dim = dim
        self.ffn_dim = ffn_dim
        self.freq_dim = freq_dim
        self.text_dim = text_dim
        self.out_dim = out_dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.window_size = tuple(window_size)
        self.qk_norm = qk_norm
        self.cross_attn_norm = cross_attn_norm
        self.eps = eps
        if clip_branch is None:
            clip_branch = model_type in ("i2v", "flf2v")
        self.clip_branch = bool(clip_branch)

        self.patch_embedding = nn.Conv3d(in_dim, dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.text_embedding = nn.Sequential(nn.Linear(text_dim, dim), nn.GELU(approximate="tanh"), nn.Linear(dim, dim))
        self.time_embedding = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.time_projection = nn.Sequential(nn.SiLU(), nn.Linear(dim, dim * 6))

        cross_attn_type = "i2v_cross_attn" if self.clip_branch else "t2v_cross_attn"
        self.blocks = nn.ModuleList(
            [
                WanAttentionBlock(cross_attn_type, dim, ffn_dim, num_heads, window_size, qk_norm, cross_attn_norm, eps)
                for _ in range(num_layers)
            ]
        )
        self.head = Head(dim, out_dim, self.patch_size, eps)

        assert dim % num_heads == 0 and (dim // num_heads) % 2 == 0
        # RoPE table: a plain attribute (not a buffer), so not part of the state_dict.
        self.freqs = rope_freqs(dim // num_heads)  # complex128 [1024, d/2]

        if self.clip_branch:
            self.img_emb = MLPProj(CLIP_DIM, dim, flf_pos_emb=model_type == "flf2v")

        self.init_weights()

    # ----------------------------------------------------------------------------------

    def init_weights(self):
        """Training init: xavier-uniform Linear weights, zero biases, small normal for the
        text/time embedders, zero output head (the model starts by predicting 0)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.xavier_uniform_(self.patch_embedding.weight.flatten(1))
        nn.init.zeros_(self.patch_embedding.bias)
        for seq in (self.text_embedding, self.time_embedding):
            for m in seq.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=0.02)
        nn.init.zeros_(self.head.head.weight)
        nn.init.zeros_(self.head.head.bias)

    def _freqs_for(self, grid):
        need = max(grid)
        if self.freqs.shape[0] < need:
            self.freqs = rope_freqs(self.dim // self.num_heads, need)
        return self.freqs

    def unpatchify(self, x, grid):
        """x [B, L, prod(p)*C] (column = ((pt*ph_n + ph)*pw_n + pw)*C + c) -> [B, C, f*pt, h*ph, w*pw]."""
        B = x.shape[0]
        f, h, w = grid
        pt, ph, pw = self.patch_size
        c = self.out_dim
        x = x.reshape(B, f, h, w, pt, ph, pw, c)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)  # [B, C, f, pt, h, ph, w, pw]
        return x.reshape(B, c, f * pt, h * ph, w * pw)

    def forward(self, x, t, context, seq_len, clip_fea=None, y=None, intermediates=None):
        """Wan DiT forward.

        Unbatched (batch 1):
          x [C, F, H, W]; t: [1] (or scalar) for one timestep, or [L]/[1, L] per token
          (Wan2.2; length seq_len, or >= L and padded with its last value);
          context [Lc, text_dim] (Lc <= text_len; zero-padded, no mask); seq_len int;
          clip_fea [1, n, 1280] (i2v) or [2, n, 1280] (flf2v); y [20, F, H, W].
          -> [out_dim, F, H, W] float32.
        Batched (one grid for all samples):
          x [B, C, F, H, W]; t [B] or [B, L]; context [B, Lc, text_dim];
          clip_fea [B, n, 1280] (flf2v [2B, n, 1280]); y [B, 20, F, H, W]
          -> [B, out_dim, F, H, W].
        `intermediates`: optional dict, filled with the fixture tensor names.
        """
        rec = intermediates is not None
        batched = x.dim() == 5
        t = torch.as_tensor(t, device=x.device)
        if not batched:
            x = x.unsqueeze(0)
            context = context.unsqueeze(0)
            if y is not None:
                y = y.unsqueeze(0)
            t = t.reshape(1, -1)  # [1, 1] or [1, L]
        else:
            t = t.reshape(x.shape[0], -1)  # [B, 1] or [B, L]
        B = x.shape[0]
        seq_len = int(seq_len)
        if self.clip_branch and clip_fea is None:
            raise ValueError("this model has a CLIP branch: clip_fea is required")

        # 3.2 patch embedding -------------------------------------------------------
        if y is not None:
            x = torch.cat([x, y.to(x.dtype)], dim=1)  # [B, in_dim, F, H, W]
        x = self.patch_embedding(x)  # [B, D, f, h, w]
        if rec:
            intermediates["patch_embedding_out"] = x.detach()
        grid = tuple(x.shape[2:])
        L = grid[0] * grid[1] * grid[2]
        if seq_len < L:
            raise ValueError(f"seq_len {seq_len} < number of tokens {L}")
        grid_sizes = torch.tensor([grid] * B, dtype=torch.long)
        x = _fp(x.flatten(2).transpose(1, 2))  # [B, L, D], token n = (i_f*h + i_h)*w + i_w
        if seq_len > L:
            x = torch.cat([x, x.new_zeros(B, seq_len - L, self.dim)], dim=1)  # [B, S, D]

        # 3.3 time embedding (float32, like the official amp.autocast(float32) section) ----
        with _no_autocast(x):
            if t.shape[1] == 1:  # one timestep per sample (Wan2.1)
                s = _fp(sinusoidal_embedding_1d(self.freq_dim, t[:, 0]), x)  # [B, freq_dim]
                e = self.time_embedding(s)  # [B, D]
                e0 = self.time_projection(e).unflatten(1, (6, self.dim))  # [B, 6, D]
                if rec:
                    intermediates["time_sinusoid"] = s.detach()
                    intermediates["time_embedding_out"] = e.detach()
                    intermediates["time_projection_out"] = e0.flatten(1).detach()
                e = e.unsqueeze(1)  # [B, 1, D]
                e0 = e0.unsqueeze(1)  # [B, 1, 6, D]
            else:  # per-token timesteps (Wan2.2)
                if t.shape[1] < L:
                    raise ValueError(f"per-token t has {t.shape[1]} entries, need >= {L}")
                if t.shape[1] < seq_len:
                    t = torch.cat([t, t[:, -1:].expand(B, seq_len - t.shape[1])], dim=1)
                t = t[:, :seq_len]  # [B, S]
                s = _fp(sinusoidal_embedding_1d(self.freq_dim, t.flatten()), x)  # [B*S, freq_dim]
                e = self.time_embedding(s).unflatten(0, (B, seq_len))  # [B, S, D]
                e0 = self.time_projection(e).unflatten(2, (6, self.dim))  # [B, S, 6, D]
                if rec:
                    intermediates["time_sinusoid"] = s.detach()
                    intermediates["time_embedding_out"] = e.detach()
                    intermediates["time_projection_out"] = e0.flatten(2).detach()

        # 3.4 text embedding: zero-pad to text_len, NO mask ---------------------------
        Lc = context.shape[1]
        if Lc > self.text_len:
            raise ValueError(f"context has {Lc} rows > text_len {self.text_len}")
        ctx = context.to(x.dtype)
        if Lc < self.text_len:
            ctx = torch.cat([ctx, ctx.new_zeros(B, self.text_len - Lc, ctx.shape[2])], dim=1)
        context = self.text_embedding(ctx)  # [B, 512, D]
        if rec:
            intermediates["text_embedding_out"] = context.detach()

        # 3.5 image embedding ------------------------------------------------------------
        if self.clip_branch:
            context_clip = self.img_emb(clip_fea.to(x.dtype))  # [B, n_img, D]
            if rec:
                intermediates["img_emb_out"] = context_clip.detach()
            context = torch.cat([context_clip, context.to(context_clip.dtype)], dim=1)  # [B, n_img+512, D]

        # 3.7 blocks ---------------------------------------------------------------------
        freqs = self._freqs_for(grid)
        for i, block in enumerate(self.blocks):
            x = block(x, e0, L, grid_sizes, freqs, context, None, intermediates, f"block{i}_")
            if rec:
                intermediates[f"block{i}_out"] = x.detach()

        # 3.8 head + unpatchify ----------------------------------------------------------
        x = self.head(x, e)  # [B, S, prod(p)*C]
        if rec:
            intermediates["head_out"] = x.detach()
        out = _fp(self.unpatchify(x[:, :L], grid))  # [B, C, F, H, W]
        return out if batched else out[0]
