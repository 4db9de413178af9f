"""The PyTorch side of `npm run bench -- kernels`: the Wan DiT's hot kernels on their own.

usage: /usr/bin/python3 reference/bench_kernels.py DATA.safetensors REPS THREADS

DATA.safetensors (written by scripts/bench/kernels.ts) holds, per kernel K:
  K.x [T, in] and K.weight [out, in], K.bias [out]   (a linear layer: F.linear, as WanModel runs it)
  K.q, K.k, K.v [1, T, n*d] and K.heads [1] (int64)   (self-attention: reference/wan_model.py attention)
and K.out, the first rows of reel's output (all tokens are computed), to check against. Prints one JSON line per kernel on stdout:
  {"kernel": K, "ms": median ms of REPS timed runs after one warm-up, "rel_err": max |torch - reel| / max |torch|}
"""

import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import safetensors_io  # noqa: E402
from wan_model import attention  # noqa: E402


def main(path, reps, threads):
    torch.set_num_threads(threads)
    t = {k: v.contiguous() for k, v in safetensors_io.load(path)[0].items()}
    kernels = sorted({k.split(".")[0] for k in t})
    for name in kernels:
        if f"{name}.weight" in t:
            x, w, b = t[f"{name}.x"], t[f"{name}.weight"], t[f"{name}.bias"]

            def fn():
                return F.linear(x, w, b)
        else:
            n = int(t[f"{name}.heads"][0])
            q, k, v = (t[f"{name}.{s}"] for s in "qkv")
            B, L, H = q.shape

            def fn():
                return attention(q.view(B, L, n, H // n), k.view(B, L, n, H // n), v.view(B, L, n, H // n)).reshape(B, L, H)
        with torch.no_grad():
            out = fn()  # warm-up (and the output to compare)
            ms = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t0) * 1000)
        ref = t[f"{name}.out"]
        out = out[:, : ref.shape[1]] if out.dim() == 3 else out[: ref.shape[0]]
        err = ((out - ref).abs().max() / out.abs().max()).item()
        print(json.dumps({"kernel": name, "ms": statistics.median(ms), "rel_err": err}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
