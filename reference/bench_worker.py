"""Long-running PyTorch benchmark worker for the Wan DiT (reference/wan_model.py).

Start:  OPENBLAS_CORETYPE=SkylakeX GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
        /usr/bin/python3 reference/bench_worker.py

Protocol: JSON lines. One request per line on stdin, exactly one response per line on
stdout (flushed). Everything else (logs, warnings) goes to stderr.

  {"cmd":"load","weights":"/path/model.safetensors","config":{...WanModel kwargs...},"threads":2}
      -> {"ok":true,"load_ms":float,"params":int}
      Builds WanModel(**config) without random init (config keys that WanModel does not
      accept are logged and ignored), loads the weights as float32 (F32, F16, BF16 accepted;
      optional "model.diffusion_model."/"model." prefix stripped; every parameter required,
      no unknown tensor allowed),
      calls torch.set_num_threads(threads) when "threads" is given.
  {"cmd":"run","inputs":"/path/inputs.safetensors","precision":"f32"|"bf16","output":"/path/out.safetensors"}
      -> {"ok":true,"ms":float,"peak_rss_mb":float}
      inputs.safetensors: x [C,F,H,W] F32, t [1] (or per-token [L]) F32, context [Lc,text_dim]
      F32, seq_len [1] I64; optional clip_fea, y. One forward under torch.no_grad()
      (bf16: inside torch.autocast("cpu", dtype=torch.bfloat16); output cast to float32),
      timed with time.perf_counter around the forward call only. "output" is optional: when
      given, `out` [C_out,F,H,W] F32 is written there. "precision" defaults to "f32".
      peak_rss_mb = VmHWM after resetting it before the run (the peak of this run; falls back to
      ru_maxrss, the process lifetime peak, where /proc/self/clear_refs is not available).
  {"cmd":"quit"} -> {"ok":true} and exit.
  Any error -> {"ok":false,"error":"..."} (the worker keeps running).
"""

import contextlib
import inspect
import json
import os
import resource
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# Keep the real stdout for protocol lines only; anything printed elsewhere goes to stderr.
_PROTO_OUT = sys.stdout
sys.stdout = sys.stderr

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import safetensors_io  # noqa: E402
from wan_model import WanModel  # noqa: E402

STATE = {"model": None}


def log(*a):
    print("[bench_worker]", *a, file=sys.stderr, flush=True)


def reply(obj):
    _PROTO_OUT.write(json.dumps(obj) + "\n")
    _PROTO_OUT.flush()


@contextlib.contextmanager
def _skip_param_init():
    """Skip the (expensive, useless here) random init while building the model."""
    patched = [(c, c.__dict__.get("reset_parameters")) for c in (nn.Linear, nn.Conv3d, nn.LayerNorm)]
    saved_init = WanModel.__dict__["init_weights"]
    try:
        for c, _ in patched:
            c.reset_parameters = lambda self: None
        WanModel.init_weights = lambda self: None
        yield
    finally:
        for c, own in patched:
            if own is None:
                del c.reset_parameters  # was inherited
            else:
                c.reset_parameters = own
        WanModel.init_weights = saved_init



def _strip_prefix(name):
    for p in ("model.diffusion_model.", "model."):
        if name.startswith(p):
            return name[len(p):]
    return name


def cmd_load(req):
    t0 = time.perf_counter()
    STATE["model"] = None
    if req.get("threads") is not None:
        torch.set_num_threads(int(req["threads"]))
    config = dict(req["config"])
    accepted = inspect.signature(WanModel.__init__).parameters
    ignored = sorted(k for k in config if k not in accepted)
    if ignored:
        log(f"ignoring config keys not accepted by WanModel: {ignored}")
    config = {k: v for k, v in config.items() if k in accepted and k != "self"}
    with _skip_param_init():
        model = WanModel(**config)
    params = dict(model.named_parameters())
    seen = set()
    # one tensor at a time, private copy, assigned directly: peak memory ~ 1x the model
    for name, t in safetensors_io.iter_tensors(req["weights"], mmap=False):
        name = _strip_prefix(name)
        if name not in params:
            raise KeyError(f"unexpected tensor in weights: {name}")
        p = params[name]
        if tuple(t.shape) != tuple(p.shape):
            raise ValueError(f"{name}: shape {tuple(t.shape)} != model {tuple(p.shape)}")
        # copy into a torch-allocated (64-byte aligned) float32 tensor; the numpy buffer is
        # dropped right away, so the peak stays ~1x the model plus one tensor
        p.data = torch.empty(t.shape, dtype=torch.float32).copy_(t)
        del t
        seen.add(name)
    missing = sorted(set(params) - seen)
    if missing:
        raise KeyError(f"missing tensors in weights: {missing[:8]}{' ...' if len(missing) > 8 else ''}")
    model.eval()
    STATE["model"] = model
    n = sum(p.numel() for p in params.values())
    ms = (time.perf_counter() - t0) * 1000.0
    log(f"loaded {req['weights']}: {n} params in {ms:.0f} ms, threads={torch.get_num_threads()}")
    return {"ok": True, "load_ms": ms, "params": n}


def cmd_run(req):
    model = STATE["model"]
    if model is None:
        raise RuntimeError("no model loaded")
    precision = req.get("precision", "f32")
    if precision not in ("f32", "bf16"):
        raise ValueError(f"unknown precision {precision!r} (f32|bf16)")
    inp, _ = safetensors_io.load(req["inputs"], mmap=False)
    for k in ("x", "t", "context", "seq_len"):
        if k not in inp:
            raise KeyError(f"inputs file lacks `{k}`")
    x = inp["x"].float()
    t = inp["t"].float()
    context = inp["context"].float()
    seq_len = int(inp["seq_len"].reshape(-1)[0])
    clip_fea = inp["clip_fea"].float() if "clip_fea" in inp else None
    y = inp["y"].float() if "y" in inp else None
    _reset_peak_rss()
    with torch.no_grad():
        if precision == "bf16":
            t0 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(x, t, context, seq_len, clip_fea=clip_fea, y=y)
            out = out.float()
            ms = (time.perf_counter() - t0) * 1000.0
        else:
            t0 = time.perf_counter()
            out = model(x, t, context, seq_len, clip_fea=clip_fea, y=y)
            ms = (time.perf_counter() - t0) * 1000.0
    if req.get("output"):
        safetensors_io.save(req["output"], {"out": out.contiguous()})
    return {"ok": True, "ms": ms, "peak_rss_mb": _peak_rss_mb()}


def _reset_peak_rss():
    """Resets VmHWM (Linux) so the peak covers only this run, as the reel worker does."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    log(f"ready (torch {torch.__version__}, threads={torch.get_num_threads()})")
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
            cmd = req.get("cmd")
            if cmd == "load":
                reply(cmd_load(req))
            elif cmd == "run":
                reply(cmd_run(req))
            elif cmd == "quit":
                reply({"ok": True})
                break
            else:
                raise ValueError(f"unknown cmd {cmd!r}")
        except Exception as exc:  # noqa: BLE001 - report every failure as a protocol error
            traceback.print_exc(file=sys.stderr)
            reply({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    log("exit")


if __name__ == "__main__":
    main()
