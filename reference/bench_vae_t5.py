"""Forward+backward timings of the VAE and the umT5 reference (training step, no optimizer).

usage: /usr/bin/python3 reference/bench_vae_t5.py [--threads 1,2] [--runs 3] [--only vae|t5]
       [--vae-shape 4,3,17,128,128] [--t5-shape 32,24]
VAE: WanVAE_(dim=8, z_dim=16) (Wan 2.1 layout otherwise), loss = MSE(recon, video) + 1e-3 KL,
  recon from a reparameterised sample. umT5: T5Encoder(vocab 512, dim 128, dim_attn 128,
  dim_ffn 256, 4 heads, 2 layers, 32 buckets, per-layer bias), ids [32, 24] with random
  lengths, loss = mean(out^2). f32 and bf16 autocast (torch.autocast("cpu", bfloat16)).
One warm-up step, then min / median of `runs` steps (time.perf_counter around forward+backward).
glibc malloc is tuned first (see tune_malloc; --no-tune-malloc to skip): it matters ~6x here.
OMP_WAIT_POLICY defaults to PASSIVE and OpenBLAS follows --threads (see set_threads).
"""

import argparse
import ctypes
import os
import resource
import statistics
import sys
import time

# libgomp reads this when torch is imported. With the default (active spin-waiting) 2-thread
# runs were 3-60x SLOWER than 1 thread on this shared, oversubscribed 2-core box.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from umt5 import T5Encoder  # noqa: E402
from wan_vae import WanVAE_  # noqa: E402


def cpu_has(flag):
    """Whether /proc/cpuinfo lists this CPU flag (e.g. avx512f, avx512_bf16); False off Linux."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and flag in line.split(":", 1)[1].split() for line in f)
    except OSError:
        return False


def tune_malloc():
    """Keep freed memory in the process (glibc): no mmap for large blocks, no trimming.
    Without it every >32 MB activation is a fresh mmap whose pages fault in on first touch,
    which made the [4,3,17,128,128] VAE step ~6x slower (64 s instead of 10 s, mostly sys
    time). Same effect as starting with
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=100000000000.
    Returns True when applied."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def set_threads(n):
    """torch.set_num_threads(n) AND the OpenBLAS pool: Debian's torch uses OpenBLAS (pthread
    build) for GEMMs, whose thread count torch.set_num_threads does not change (default: all
    cores). Returns the OpenBLAS thread count (None when no OpenBLAS is loaded)."""
    torch.set_num_threads(n)
    libs = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line and ".so" in line}
    got = None
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)  # already loaded: same handle
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_set_num_threads(n)
            got = lib.openblas_get_num_threads()
    return got


def step_vae(model, video):
    recon, mu, log_var = model(video)
    loss = (recon.float() - video).pow(2).mean() + 1e-3 * 0.5 * (mu.float().pow(2) + log_var.float().exp() - 1 - log_var.float()).mean()
    loss.backward()


def step_t5(model, ids, mask):
    model(ids, mask).float().pow(2).mean().backward()


def timeit(fn, runs, bf16):
    ts = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            fn()
        ts.append(time.perf_counter() - t0)
    ts = ts[1:]
    return min(ts), statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default=None)
    ap.add_argument("--precisions", default="f32,bf16")
    ap.add_argument("--vae-shape", default="4,3,17,128,128")
    ap.add_argument("--t5-shape", default="32,24")
    ap.add_argument("--no-tune-malloc", action="store_true")
    a = ap.parse_args()
    tuned = False if a.no_tune_malloc else tune_malloc()
    torch.manual_seed(0)
    vshape = tuple(int(s) for s in a.vae_shape.split(","))
    B, L = (int(s) for s in a.t5_shape.split(","))
    vae = WanVAE_(dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[], temperal_downsample=[False, True, True])
    video = torch.rand(vshape) * 2 - 1
    t5 = T5Encoder(vocab=512, dim=128, dim_attn=128, dim_ffn=256, num_heads=4, num_layers=2, num_buckets=32, shared_pos=False)
    ids = torch.randint(2, 512, (B, L))
    lens = torch.randint(4, L + 1, (B,))
    mask = (torch.arange(L)[None] < lens[:, None]).long()
    ids = ids * mask
    print(f"# vae params {sum(p.numel() for p in vae.parameters()):,}, video {list(vshape)}; "
          f"t5 params {sum(p.numel() for p in t5.parameters()):,}, ids {[B, L]}; malloc tuned: {tuned}", flush=True)
    for th in (int(s) for s in a.threads.split(",")):
        blas = set_threads(th)
        print(f"# threads {th} (openblas {blas}), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, loadavg {open('/proc/loadavg').read().split()[:3]}", flush=True)
        for prec in a.precisions.split(","):
            bf16 = prec == "bf16"
            if a.only in (None, "vae"):
                mn, md = timeit(lambda: step_vae(vae, video), a.runs, bf16)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"vae threads={th} {prec} fwd+bwd min {mn * 1e3:.0f} ms median {md * 1e3:.0f} ms (peak rss {rss:.0f} MB)", flush=True)
            if a.only in (None, "t5"):
                mn, md = timeit(lambda: step_t5(t5, ids, mask), max(a.runs, 10), bf16)
                print(f"t5 threads={th} {prec} fwd+bwd min {mn * 1e3:.1f} ms median {md * 1e3:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
