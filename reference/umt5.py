"""Reference PyTorch implementation of the umT5 encoder used by Wan (`T5Encoder` of the official `t5.py`).

Written from shared/docs/wan-architecture.md, section 4 (4.1 - 4.6), and checked against the
`t5-tiny` parity fixture in shared/fixtures/wan21 (see reference/check_more_fixtures.py).
No code was copied from the official repositories; module and parameter names mirror the
official ones so that official state_dicts load with `load_state_dict(strict=True)`
(`token_embedding.weight`, `blocks.{i}.norm1.weight`, `blocks.{i}.attn.{q,k,v,o}.weight`,
`blocks.{i}.pos_embedding.embedding.weight`, `blocks.{i}.norm2.weight`,
`blocks.{i}.ffn.{gate.0,fc1,fc2}.weight`, `norm.weight`).

Math (4.3): no biases, no 1/sqrt(d) attention scaling, a relative-position bias per layer
(shared_pos=False, umT5) or one shared table (shared_pos=True, classic T5), masked key scores
replaced by float32.min, gated-GELU(tanh) FFN, RMSNorm eps 1e-6 in float32, final norm.

Notation: B batch, L tokens, D = dim, A = dim_attn, n heads, d = A / n head dim, F = dim_ffn.
Autograd works; under `torch.autocast("cpu", torch.bfloat16)` the linears and score/value
products run in bf16 while norms, position bias, masking and softmax stay float32.
"""

import math

import torch
import torch.nn as nn


def _fp(x):
    return x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)


def fp16_clamp(x):
    """The official guard against fp16 overflow in the residual stream (no-op otherwise)."""
    if x.dtype == torch.float16 and torch.isinf(x).any():
        clamp = torch.finfo(x.dtype).max - 1000
        x = torch.clamp(x, min=-clamp, max=clamp)
    return x


class GELU(nn.Module):
    """gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class T5LayerNorm(nn.Module):
    """RMSNorm: x / sqrt(mean(x^2) + eps) * weight (statistics in float32; for half-precision
    weights the normalised x is cast to the weight dtype first, as the official code)."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):  # [..., D] -> [..., D]
        xf = _fp(x)
        y = xf * torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            y = y.type_as(self.weight)
        return self.weight * y


class T5Attention(nn.Module):
    """Multi-head attention without biases and WITHOUT 1/sqrt(d) scaling."""

    def __init__(self, dim, dim_attn, num_heads, dropout=0.1):
        assert dim_attn % num_heads == 0
        super().__init__()
        self.dim = dim
        self.dim_attn = dim_attn
        self.num_heads = num_heads
        self.head_dim = dim_attn // num_heads
        self.q = nn.Linear(dim, dim_attn, bias=False)
        self.k = nn.Linear(dim, dim_attn, bias=False)
        self.v = nn.Linear(dim, dim_attn, bias=False)
        self.o = nn.Linear(dim_attn, dim, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, context=None, mask=None, pos_bias=None):
        """x [B, Lq, D]; context [B, Lk, D] (default x); mask [B, Lk] or [B, Lq, Lk] (0 = masked
        key); pos_bias [1 or B, n, Lq, Lk] -> [B, Lq, D]."""
        context = x if context is None else context
        B, Lq, _ = x.shape
        Lk = context.shape[1]
        n, d = self.num_heads, self.head_dim
        q = self.q(x).view(B, Lq, n, d).transpose(1, 2)  # [B, n, Lq, d]
        k = self.k(context).view(B, Lk, n, d).permute(0, 2, 3, 1)  # [B, n, d, Lk]
        v = self.v(context).view(B, Lk, n, d).transpose(1, 2)  # [B, n, Lk, d]
        s = torch.matmul(q, k)  # [B, n, Lq, Lk], no scaling
        s = s.float() if s.dtype != torch.float64 else s
        if pos_bias is not None:
            s = s + pos_bias.to(s.dtype)
        if mask is not None:
            m = mask.view(B, 1, 1, Lk) if mask.dim() == 2 else mask.view(B, 1, Lq, Lk)
            # REPLACE masked scores by float32.min (official: bias filled with finfo.min)
            s = s.masked_fill(m == 0, torch.finfo(torch.float32).min)
        p = torch.softmax(s, dim=-1)  # float32
        a = torch.matmul(p.to(v.dtype), v)  # [B, n, Lq, d]
        a = a.transpose(1, 2).reshape(B, Lq, n * d)
        return self.dropout(self.o(a))


class T5FeedForward(nn.Module):
    """fc2(fc1(x) * gelu_tanh(gate(x))), no biases."""

    def __init__(self, dim, dim_ffn, dropout=0.1):
        super().__init__()
        self.dim = dim
        self.dim_ffn = dim_ffn
        self.gate = nn.Sequential(nn.Linear(dim, dim_ffn, bias=False), GELU())
        self.fc1 = nn.Linear(dim, dim_ffn, bias=False)
        self.fc2 = nn.Linear(dim_ffn, dim, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):  # [..., D] -> [..., D]
        x = self.fc1(x) * self.gate(x)
        x = self.dropout(x)
        return self.dropout(self.fc2(x))


class T5RelativeEmbedding(nn.Module):
    """Bucketed relative-position bias (4.4): embedding [num_buckets, heads];
    forward(lq, lk) -> [1, heads, lq, lk] with bias[0, h, i, j] = weight[bucket(j - i), h]."""

    def __init__(self, num_buckets, num_heads, bidirectional=True, max_dist=128):
        super().__init__()
        self.num_buckets = num_buckets
        self.num_heads = num_heads
        self.bidirectional = bidirectional
        self.max_dist = max_dist
        self.embedding = nn.Embedding(num_buckets, num_heads)

    def _relative_position_bucket(self, rel_pos):
        """rel_pos = key - query (int64) -> bucket (int64). Bidirectional: 16 buckets per sign
        (rel > 0 gets +16), b(n) = n for n < 8 else min(15, 8 + trunc(ln(n/8)/ln(16)*8)),
        the log part in float32. Unidirectional (decoder style): only rel <= 0 is distinguished."""
        if self.bidirectional:
            nb = self.num_buckets // 2
            buckets = (rel_pos > 0).long() * nb
            n = rel_pos.abs()
        else:
            nb = self.num_buckets
            buckets = torch.zeros_like(rel_pos)
            n = (-rel_pos).clamp_min(0)
        max_exact = nb // 2
        # float32 log; n = 0 gives -inf here but is taken from the exact branch below
        large = max_exact + (
            torch.log(n.float() / max_exact) / math.log(self.max_dist / max_exact) * (nb - max_exact)
        ).long()
        large = torch.clamp(large, max=nb - 1)
        return buckets + torch.where(n < max_exact, n, large)

    def buckets(self, lq, lk, device=None):
        """[lq, lk] int64 bucket table (bucket(key - query) at [query, key])."""
        rel = torch.arange(lk, device=device).unsqueeze(0) - torch.arange(lq, device=device).unsqueeze(1)
        return self._relative_position_bucket(rel)

    def forward(self, lq, lk):
        b = self.buckets(lq, lk, self.embedding.weight.device)  # [lq, lk]
        return self.embedding(b).permute(2, 0, 1).unsqueeze(0).contiguous()  # [1, n, lq, lk]


class T5SelfAttention(nn.Module):
    """One encoder block (official name): x += attn(norm1(x)); x += ffn(norm2(x))."""

    def __init__(self, dim, dim_attn, dim_ffn, num_heads, num_buckets, shared_pos=True, dropout=0.1):
        super().__init__()
        self.dim = dim
        self.dim_attn = dim_attn
        self.dim_ffn = dim_ffn
        self.num_heads = num_heads
        self.num_buckets = num_buckets
        self.shared_pos = shared_pos
        self.norm1 = T5LayerNorm(dim)
        self.attn = T5Attention(dim, dim_attn, num_heads, dropout)
        self.norm2 = T5LayerNorm(dim)
        self.ffn = T5FeedForward(dim, dim_ffn, dropout)
        self.pos_embedding = None if shared_pos else T5RelativeEmbedding(num_buckets, num_heads, bidirectional=True)

    def forward(self, x, mask=None, pos_bias=None, intermediates=None, prefix=""):
        """x [B, L, D]; mask [B, L]; pos_bias [1, n, L, L] (shared_pos only) -> [B, L, D]."""
        e = pos_bias if self.shared_pos else self.pos_embedding(x.shape[1], x.shape[1])
        if intermediates is not None:
            intermediates[prefix + "pos_bias"] = e.detach()
        x = fp16_clamp(x + self.attn(self.norm1(x), mask=mask, pos_bias=e))
        x = fp16_clamp(x + self.ffn(self.norm2(x)))
        return x


T5Block = T5SelfAttention  # alias


class T5Encoder(nn.Module):
    def __init__(
        self,
        vocab,
        dim,
        dim_attn,
        dim_ffn,
        num_heads,
        num_layers,
        num_buckets,
        shared_pos=True,
        dropout=0.1,
    ):
        """Official kwargs. umT5-XXL: vocab 256384, dim 4096, dim_attn 4096, dim_ffn 10240,
        num_heads 64, num_layers 24, num_buckets 32, shared_pos False. `vocab` may also be an
        nn.Embedding to share."""
        super().__init__()
        self.dim = dim
        self.dim_attn = dim_attn
        self.dim_ffn = dim_ffn
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.num_buckets = num_buckets
        self.shared_pos = shared_pos
        self.token_embedding = vocab if isinstance(vocab, nn.Embedding) else nn.Embedding(vocab, dim)
        self.pos_embedding = T5RelativeEmbedding(num_buckets, num_heads, bidirectional=True) if shared_pos else None
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [
                T5SelfAttention(dim, dim_attn, dim_ffn, num_heads, num_buckets, shared_pos, dropout)
                for _ in range(num_layers)
            ]
        )
        self.norm = T5LayerNorm(dim)
        self.init_weights()

    def init_weights(self):
        """T5-style training init (fan-in scaled normals, unit norm weights)."""
        for m in self.modules():
            if isinstance(m, T5LayerNorm):
                nn.init.ones_(m.weight)
            elif isinstance(m, T5FeedForward):
                nn.init.normal_(m.gate[0].weight, std=m.dim**-0.5)
                nn.init.normal_(m.fc1.weight, std=m.dim**-0.5)
                nn.init.normal_(m.fc2.weight, std=m.dim_ffn**-0.5)
            elif isinstance(m, T5Attention):
                nn.init.normal_(m.q.weight, std=(m.dim * m.dim_attn) ** -0.5)
                nn.init.normal_(m.k.weight, std=m.dim**-0.5)
                nn.init.normal_(m.v.weight, std=m.dim**-0.5)
                nn.init.normal_(m.o.weight, std=m.dim_attn**-0.5)
            elif isinstance(m, T5RelativeEmbedding):
                nn.init.normal_(m.embedding.weight, std=(2 * m.num_buckets) ** -0.5)
        if isinstance(self.token_embedding, nn.Embedding):
            nn.init.normal_(self.token_embedding.weight, std=1.0)

    def forward(self, ids, mask=None, intermediates=None):
        """ids [B, L] int64, mask [B, L] (1 = token incl. EOS, 0 = pad) -> [B, L, D].
        Outputs at pad positions are computed too (they are discarded by `encode`).
        `intermediates` (dict): token_embedding_out, block{i}_pos_bias, block{i}_out."""
        rec = intermediates is not None
        x = self.token_embedding(ids)  # [B, L, D]
        if rec:
            intermediates["token_embedding_out"] = x.detach()
        x = self.dropout(x)
        L = x.shape[1]
        e = self.pos_embedding(L, L) if self.shared_pos else None
        for i, block in enumerate(self.blocks):
            x = block(x, mask, pos_bias=e, intermediates=intermediates, prefix=f"block{i}_")
            if rec:
                intermediates[f"block{i}_out"] = x.detach()
        x = self.norm(x)
        return self.dropout(x)

    def encode(self, ids, mask):
        """What T5EncoderModel.__call__ returns: a list of per-prompt contexts, each
        [seq_len_i, D] with seq_len_i = sum(mask[i]) (the DiT zero-pads them to text_len)."""
        out = self.forward(ids, mask)
        return trim_contexts(out, mask)


def trim_contexts(out, mask):
    """out [B, L, D], mask [B, L] -> [out[i, :sum(mask[i])] for i]."""
    lens = mask.gt(0).sum(dim=1).tolist()
    return [out[i, :n] for i, n in enumerate(lens)]
