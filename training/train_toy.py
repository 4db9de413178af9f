"""Trains reel-toy, reel's embedded model: a Wan-architecture VAE, umT5 encoder and DiT at
small size, from scratch, on the procedural toy world (src/toyworld), with the PyTorch
reference modules (reference/). Seeded, resumable (every stage checkpoints), CPU by default
(Debian's python3-torch with bf16 autocast) and CUDA when available.

usage: /usr/bin/python3 training/train_toy.py STAGE --run DIR [options]
  vae      train the VAE (reconstruction + tiny KL) on rendered clips
  latents  encode N training clips with the VAE; latent statistics; token ids; object masks
  masks    recompute a run's latent object masks from the renderer (latents unchanged)
  dit      train the DiT and the text encoder jointly (flow matching, CFG dropout)
  export   write the model folder (official key layout, fp16 safetensors, reel.json)
  probe    does a model's DiT use its prompt on object cells? (loss with true/empty/other prompt)
  readout  does a run's DiT know which named object each token shows? (--dit-mask-aux-groups' read-out)
  recon    the VAE's ceiling: N held-out clips and their VAE reconstructions as two folders
           (uint8 .npy + captions.jsonl) for `reel eval --videos DIR`; with --from-sigma S and
           --model M, the clips noised to S and finished by M's DiT (where generation loses it)

Every stage stops after --minutes (wall clock; a pause of more than a minute, such as SIGSTOP,
counts as one minute) or --steps (a total, counted from the run's start; `--steps 0` trains
nothing, e.g. to only import --vae-init weights), saving a checkpoint; running the same command
again resumes. Losses go to DIR/<stage>.log.jsonl. Warm starts (--vae-init, --dit-init) carry
the steps their weights already had: export writes both this
run's steps and the totals.
"""

import argparse
import collections
import itertools
import json
import math
import os
import shutil
import signal
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: 2 busy-waiting threads starve each other here

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "reference"))
sys.path.insert(0, HERE)

import safetensors_io  # noqa: E402
from bench_vae_t5 import cpu_has, set_threads, tune_malloc  # noqa: E402
import toy_data  # noqa: E402
from train_kernels import use_training_kernels  # noqa: E402
from umt5 import T5Encoder  # noqa: E402
from wan_model import WanModel  # noqa: E402
from wan_vae import WanVAE_  # noqa: E402

# ---------------------------------------------------------------------------------------
# Architecture (the model card reads these from reel.json)

CLIP = dict(frames=17, size=128, fps=16)
VAE_CONFIG = dict(dim=8, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=1, attn_scales=[],
                  temperal_downsample=[False, True, True], dropout=0.0)
TEXT_LEN = 32
T5_CONFIG = dict(vocab=None, dim=128, dim_attn=128, dim_ffn=256, num_heads=4, num_layers=2, num_buckets=32,
                 shared_pos=False, dropout=0.0)
DIT_CONFIG = dict(model_type="t2v", patch_size=[1, 2, 2], text_len=TEXT_LEN, in_dim=16, dim=192, ffn_dim=768,
                  freq_dim=64, text_dim=128, out_dim=16, num_heads=3, num_layers=6, window_size=[-1, -1],
                  qk_norm=True, cross_attn_norm=True, eps=1e-6)
# The VAE's spatial downsampling factor -> (dim_mult, temperal_downsample); 4x temporal in both.
# 8x is the Wan 2.1 design (16x16 latents of a 128x128 clip); 4x drops one stage (32x32 latents),
# for a DiT that patches them 4x4 into as many tokens as 8x with 2x2.
VAE_DOWN = {8: ([1, 2, 4, 4], [False, True, True]), 4: ([1, 2, 4], [True, True])}
TRAIN_SHIFT = 3.0  # default sigma shift of training noise levels (dit --shift), exported as the sampling default
SEED_TRAIN = 1_000_000  # training scenes use seeds from here on; 0..999_999 are held out


STOP = {"requested": False}


def request_stop(signum, frame):  # SIGTERM/SIGINT: finish the current step, save, exit
    STOP["requested"] = True


def log(run, stage, **kv):
    kv["time"] = time.time()
    with open(os.path.join(run, f"{stage}.log.jsonl"), "a") as f:
        f.write(json.dumps(kv) + "\n")
    print(f"[{stage}] " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items() if k != "time"),
          flush=True)


def save_ckpt(path, **state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


class Clock:
    """Seconds a stage has run, for --minutes: a gap of more than PAUSE seconds between two
    readings (the process was stopped with SIGSTOP, or the host suspended) counts as PAUSE, so a
    paused run keeps its training budget."""

    PAUSE = 60.0

    def __init__(self):
        self.last = time.time()
        self.sec = 0.0

    def __call__(self):
        now = time.time()
        self.sec += min(now - self.last, self.PAUSE)
        self.last = now
        return self.sec


def device_of(args):
    return torch.device("cuda" if args.cuda and torch.cuda.is_available() else "cpu")


def autocast(dev, enabled=True):
    return torch.autocast(dev.type, dtype=torch.bfloat16, enabled=enabled)


def run_config(run, part, base, given, derive=lambda cfg: cfg):
    """A run's config of one part ("vae", "dit"): written to RUN/<part>_config.json by the first
    stage given any of its options, read back by every later stage; otherwise `base`. `given`
    maps config keys to (value, flag); a falsy value means the option was not given. `derive`
    completes a new config (e.g. widths that follow from dim)."""
    path = os.path.join(run, f"{part}_config.json")
    if os.path.exists(path):
        with open(path) as f:
            cfg = json.load(f)
        for key, (value, flag) in given.items():
            if value and value != cfg[key]:
                raise SystemExit(f"{run} was made with {flag} {cfg[key]}, not {value}")
        return cfg
    chosen = {key: value for key, (value, _) in given.items() if value}
    cfg = derive(dict(base, **chosen)) if chosen else dict(base)
    if chosen:
        with open(path, "w") as f:
            json.dump(cfg, f)
    return cfg


def vae_config(run, dim=None, down=None):
    """The run's VAE config (--vae-dim, --vae-down; runs made before the options use dim 8, 8x)."""
    def derive(cfg):
        return dict(cfg, temperal_downsample=VAE_DOWN[vae_factor(cfg)][1])
    mult = VAE_DOWN[down][0] if down else None
    return run_config(run, "vae", VAE_CONFIG, {"dim": (dim, "--vae-dim"), "dim_mult": (mult, "--vae-down")}, derive)


def vae_factor(cfg):
    """A VAE config's spatial downsampling: one 2x per stage after the first."""
    return 2 ** (len(cfg["dim_mult"]) - 1)


def latent_grid(cfg):
    """[frames, height, width] of a training clip's latent under a VAE config."""
    f = vae_factor(cfg)
    return [1 + (CLIP["frames"] - 1) // 4, CLIP["size"] // f, CLIP["size"] // f]


def vae_entries(cfg):
    """Labels of a VAE's encoder.downsamples and decoder.upsamples entries, in order:
    (level, kind, j), level being the resolution it works at (clip size / 2**level). Two VAE
    configs' entries with the same label do the same job at the same resolution."""
    if cfg["attn_scales"]:
        raise SystemExit("vae_entries: VAEs with attention in their stages are not supported")
    n, nrb = len(cfg["dim_mult"]), cfg["num_res_blocks"]
    enc, dec = [], []
    for i in range(n):
        enc += [(i, "res", j) for j in range(nrb)] + ([(i, "resample", 0)] if i != n - 1 else [])
        level = n - 1 - i
        dec += [(level, "res", j) for j in range(nrb + 1)] + ([(level, "resample", 0)] if i != n - 1 else [])
    return enc, dec


def adapt_vae(sd, old_cfg, new_cfg, vae):
    """VAE weights of config old_cfg -> a state dict for module `vae` of config new_cfg (another
    depth, e.g. 8x -> 4x downsampling): stage entries are matched by the resolution they work at (vae_entries),
    the rest by name; tensors whose shape differs (a first block that now takes other
    channels, the time_conv of a resample that becomes temporal) keep vae's fresh init.
    Returns (state dict, copied, fresh)."""
    maps = {}
    for part, old, new in zip(("encoder.downsamples", "decoder.upsamples"), vae_entries(old_cfg), vae_entries(new_cfg)):
        at = {label: k for k, label in enumerate(old)}
        maps[part] = {k: at.get(label) for k, label in enumerate(new)}
    out = vae.state_dict()
    copied = fresh = 0
    for key, want in out.items():
        src = key
        for part, m in maps.items():
            if key.startswith(part + "."):
                k, rest = key[len(part) + 1:].split(".", 1)
                src = None if m[int(k)] is None else f"{part}.{m[int(k)]}.{rest}"
        if src in sd and sd[src].shape == want.shape:
            out[key] = sd[src].to(want.dtype).clone()
            copied += 1
        else:
            fresh += 1
    return out, copied, fresh


def dit_config(run, layers=None, dim=None, ffn=None, patch=None):
    """The run's DiT config (--dit-layers, --dit-dim, --dit-ffn, --dit-patch; DIT_CONFIG's 6
    blocks of width 192, patch 2x2, without them). A width sets the heads to width / 64 and,
    unless --dit-ffn is given, the FFN to 4x, as in DIT_CONFIG."""
    def derive(cfg):
        return dict(cfg, ffn_dim=ffn or 4 * cfg["dim"], num_heads=max(1, cfg["dim"] // 64))
    return run_config(run, "dit", DIT_CONFIG, {"num_layers": (layers, "--dit-layers"), "dim": (dim, "--dit-dim"),
                                               "ffn_dim": (ffn, "--dit-ffn"),
                                               "patch_size": ([1, patch, patch] if patch else None, "--dit-patch")},
                      derive)


def seq_len(dit, x):
    """Tokens of latents x [B, C, F, H, W] under the DiT's patch size."""
    return int(np.prod(x.shape[2:]) // np.prod(dit.patch_size))


# A block whose output projections are zero adds nothing to the residual stream: the identity.
BLOCK_OUTPUTS = ("self_attn.o.", "cross_attn.o.", "ffn.2.")


def grow_depth(sd, layers):
    """A DiT state dict with n blocks -> one with `layers` (>= n) blocks that computes the same
    function. New position j takes old block floor(j * n / layers); the first position of each
    old block keeps it as is, the others are copies with their output projections (self_attn.o,
    cross_attn.o, ffn.2) zeroed, so they start as the identity and train from the old block's
    features (e.g. 6 -> 9: blocks 0, 0', 1, 2, 2', 3, 4, 4', 5)."""
    n = 1 + max(int(k.split(".")[1]) for k in sd if k.startswith("blocks."))
    if layers < n:
        raise SystemExit(f"--dit-layers {layers}: the warm-start weights have {n} blocks; a DiT cannot shrink")
    out = {k: v for k, v in sd.items() if not k.startswith("blocks.")}
    seen = set()
    for j in range(layers):
        i = j * n // layers
        copy = i in seen
        seen.add(i)
        for k, v in sd.items():
            pre = f"blocks.{i}."
            if k.startswith(pre):
                rest = k[len(pre):]
                out[f"blocks.{j}.{rest}"] = torch.zeros_like(v) if copy and rest.startswith(BLOCK_OUTPUTS) else v.clone()
    return out


def grow_ffn(sd, fresh):
    """A DiT state dict whose FFNs have n hidden units -> one with the hidden width of `fresh` (a
    newly initialised state dict of the target config, >= n) that computes the same function:
    the new hidden units take fresh's input weights and biases (ffn.0) and zero output weights
    (ffn.2), so they add nothing until trained."""
    out = dict(sd)
    for k, v in sd.items():
        if not k.startswith("blocks.") or ".ffn." not in k:
            continue
        want = fresh[k]
        if want.shape == v.shape:
            continue
        if k.endswith("ffn.0.weight") or k.endswith("ffn.0.bias"):  # [F, dim], [F]
            if want.shape[0] < v.shape[0]:
                raise SystemExit(f"--dit-ffn {want.shape[0]}: the warm-start weights have {v.shape[0]}; an FFN cannot shrink")
            out[k] = torch.cat([v, want[v.shape[0]:].to(v.dtype)], dim=0)
        elif k.endswith("ffn.2.weight"):  # [dim, F]
            out[k] = torch.cat([v, torch.zeros(v.shape[0], want.shape[1] - v.shape[1], dtype=v.dtype)], dim=1)
    return out


EXPERTS = ("high_noise_model", "low_noise_model")  # a two-expert model folder's DiTs (Wan 2.2 A14B layout)
DIT_FILE = "diffusion_pytorch_model.safetensors"
T5_FILE = "models_t5_reel-toy-enc-fp16.safetensors"


def is_two_expert(folder):
    return all(os.path.isdir(os.path.join(folder, e)) for e in EXPERTS)


def expert_parent(path):
    """The two-expert model folder that `path` is an expert of (FOLDER/low_noise_model), or None."""
    parent = os.path.dirname(os.path.normpath(path))
    return parent if os.path.basename(os.path.normpath(path)) in EXPERTS and is_two_expert(parent) else None


def prior_steps(init, stage):
    """Training steps that warm-start weights already had in all: a run checkpoint's step plus
    its own init_steps; for a model folder, or a weights file inside one, its reel.json's
    <stage>_steps_total (releases that warm-started) or <stage>_steps (0 if there is none).
    An expert of a two-expert folder: the low-noise one is the folder's `training`, the
    high-noise one its `experts.high_noise_model_training`."""
    if init.endswith(".pt"):
        st = torch.load(init, map_location="cpu")
        return st["step"] + st.get("init_steps", 0)
    folder = init if os.path.isdir(init) else os.path.dirname(init)
    parent = expert_parent(folder)
    path = os.path.join(parent or folder, "reel.json")
    if not os.path.exists(path):
        return 0
    reel = json.load(open(path))
    tr = reel.get("training", {})
    if parent and os.path.basename(os.path.normpath(folder)) == "high_noise_model":
        tr = reel.get("experts", {}).get("high_noise_model_training", {})
    return int(tr.get(f"{stage}_steps_total", tr.get(f"{stage}_steps", 0)))


def load_f32(path):
    """An (fp16) safetensors file as a float32 state dict."""
    return {k: v.float() for k, v in safetensors_io.load(path)[0].items()}


def load_model_folder(folder):
    """A model folder's (e.g. models/reel-toy) fp16 DiT and text-encoder weights, as float32 state
    dicts. For a two-expert folder name the expert (FOLDER/low_noise_model): its DiT, and the
    folder's text encoder, which the experts share."""
    if is_two_expert(folder):
        raise SystemExit(f"{folder} has two DiTs: name one, {os.path.join(folder, EXPERTS[0])} or {os.path.join(folder, EXPERTS[1])}")
    return (load_f32(os.path.join(folder, DIT_FILE)), load_f32(os.path.join(expert_parent(folder) or folder, T5_FILE)))


class ExpertPair(nn.Module):
    """Two DiTs as one (Wan 2.2 A14B): the high-noise expert while t >= boundary * 1000, then the
    low-noise one. A batch must share one noise level (sampling and probe's calls do)."""

    def __init__(self, high, low, boundary):
        super().__init__()
        self.high, self.low, self.boundary = high, low, boundary
        self.patch_size = high.patch_size

    def forward(self, x, t, context, seq_len):
        if float(t.max()) >= self.boundary * 1000 > float(t.min()):
            raise ValueError("ExpertPair: a batch spans the experts' boundary")
        return (self.high if float(t.max()) >= self.boundary * 1000 else self.low)(x, t, context, seq_len)


def load_model_modules(folder, dev, tokenizer):
    """A model folder's DiT (as its config.json describes it; a two-expert folder's as an
    ExpertPair switched at reel.json's experts.boundary) and text encoder as float32 modules in
    eval mode: (dit, t5)."""
    T5_CONFIG["vocab"] = vocab_size(tokenizer)
    t5 = T5Encoder(**T5_CONFIG).to(dev).eval()

    def one(d):
        with open(os.path.join(d, "config.json")) as f:
            cfg = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
        dit = WanModel(**cfg).to(dev).eval()
        dit_sd, t5_sd = load_model_folder(d)
        dit.load_state_dict(dit_sd)
        return dit, t5_sd

    if is_two_expert(folder):
        (high, t5_sd), (low, _) = (one(os.path.join(folder, e)) for e in EXPERTS)
        dit = ExpertPair(high, low, json.load(open(os.path.join(folder, "reel.json")))["experts"]["boundary"])
    else:
        dit, t5_sd = one(folder)
    t5.load_state_dict(t5_sd)
    return dit, t5


def cell_losses(err, m):
    """Mean of err [B, C, F, H, W] over latent cells with objects (m = 1, broadcast over C) and over
    the others: (object, background)."""
    m = m.expand_as(err)
    return ((err * m).sum().item() / max(1.0, m.sum().item()),
            (err * (1 - m)).sum().item() / max(1.0, (1 - m).sum().item()))


def vocab_size(tokenizer_path):
    with open(tokenizer_path) as f:
        return len(json.load(f)["model"]["vocab"])


# ---------------------------------------------------------------------------------------
# Stage 1: VAE

def object_mask(x):
    """[B, 3, T, H, W] in [-1, 1] -> [B, 1, T, H, W]: 1 where a pixel differs from its 9x9 mean."""
    blur = F.avg_pool3d(x, (1, 9, 9), stride=1, padding=(0, 4, 4), count_include_pad=False)
    return ((x - blur).abs().sum(dim=1, keepdim=True) > 0.15).float()


def texture_gap(rec, x, cell=8):
    """[B, 3, T, H, W] pair in [-1, 1] -> scalar: how unlike the truth's fine detail the
    reconstruction's is in each cell x cell patch of each frame, wherever in the patch it lies.
    Per patch: the mean |horizontal| and |vertical| difference of luma and of the two colour
    differences (R - Y, B - Y), and luma's peak (max - mean); the mean |gap| of these 7 numbers.
    A per-pixel loss prefers a blur to a star drawn a pixel off (it pays for the star twice),
    so the VAE drew night skies without their stars (texture 0.2 of the truth's 1.5 in the
    evaluator's background descriptor: night read as dark on every VAE reconstruction). With
    luma energy alone the decoder drew coloured squiggles instead, which hid objects from the
    evaluator; colour-difference energy (white stars have none) and the peak (a star is one
    bright dot) ask for stars."""
    def stats(v):
        v = v.float()
        y = 0.299 * v[:, 0:1] + 0.587 * v[:, 1:2] + 0.114 * v[:, 2:3]
        c = torch.cat([y, v[:, 0:1] - y, v[:, 2:3] - y], dim=1)  # [B, 3, T, H, W]
        dx = (c[..., :, 1:] - c[..., :, :-1]).abs()[..., :-1, :]
        dy = (c[..., 1:, :] - c[..., :-1, :]).abs()[..., :, :-1]
        g = F.avg_pool3d(F.pad(torch.cat([dx, dy], dim=1), (0, 1, 0, 1)), (1, cell, cell))  # [B, 6, T, h, w]
        peak = F.max_pool3d(y, (1, cell, cell)) - F.avg_pool3d(y, (1, cell, cell))  # [B, 1, T, h, w]
        return torch.cat([g, peak], dim=1)
    return (stats(rec) - stats(x)).abs().mean()


def object_crop(frame, crop, rng, fallback):
    """A crop corner [y, x] around a random object pixel of frame [3, H, W] (pixels that differ
    from their 9x9 mean, as in object_mask), jittered by a quarter crop; `fallback` when none.
    Random crops of these scenes are mostly flat background: the objects are what the VAE
    must not lose, so most training crops are put on them."""
    H, W = frame.shape[1:]
    pad = np.pad(frame, ((0, 0), (4, 4), (4, 4)), mode="edge")
    c = np.pad(pad.cumsum(1).cumsum(2), ((0, 0), (1, 0), (1, 0)))
    box = (c[:, 9:, 9:] - c[:, :-9, 9:] - c[:, 9:, :-9] + c[:, :-9, :-9]) / 81.0
    ys, xs = np.nonzero(np.abs(frame - box).sum(axis=0) > 0.15)
    if len(ys) == 0:
        return fallback
    i = rng.integers(0, len(ys))
    j = rng.integers(-(crop // 4), crop // 4 + 1, size=2)
    y = int(np.clip(ys[i] - crop // 2 + j[0], 0, H - crop))
    x = int(np.clip(xs[i] - crop // 2 + j[1], 0, W - crop))
    return y, x


def stage_vae(args):
    dev = device_of(args)
    torch.manual_seed(args.seed)
    cfg = vae_config(args.run, args.vae_dim, args.vae_down)
    vae = WanVAE_(**cfg).to(dev)
    # --decoder-only: the encoder (and so every latent, the latent statistics and any DiT
    # trained on them) stays as it is; only conv2 and the decoder learn.
    trained = [p for n, p in vae.named_parameters()
               if not args.decoder_only or n.startswith(("decoder.", "conv2."))]
    for p in vae.parameters():
        p.requires_grad_(False)
    for p in trained:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(trained, lr=args.lr or 1e-3, weight_decay=0.0)
    ckpt = os.path.join(args.run, "vae.pt")
    step = init_steps = 0
    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        vae.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, init_steps = st["step"], st.get("init_steps", 0)
        print(f"resumed vae at step {step}", flush=True)
    elif args.vae_init:
        sd, meta = safetensors_io.load(args.vae_init)
        old_cfg = json.loads(meta["config"]) if "config" in meta else VAE_CONFIG  # exports record it
        sd = {k: v.float() for k, v in sd.items()}
        if vae_factor(old_cfg) == vae_factor(cfg):
            vae.load_state_dict(sd)
            how = ""
        else:  # another depth: carry what fits, e.g. the shipped 8x VAE's weights into a 4x one
            sd, copied, fresh = adapt_vae(sd, old_cfg, cfg, vae)
            vae.load_state_dict(sd)
            how = f"; {vae_factor(old_cfg)}x -> {vae_factor(cfg)}x: {copied} tensors carried, {fresh} fresh"
        init_steps = prior_steps(args.vae_init, "vae")
        print(f"vae initialised from {args.vae_init} ({init_steps} steps in all{how})", flush=True)
    # The VAE is convolutional and causal: it trains on 64x64 crops of whole 17-frame clips,
    # the only length reel-toy makes. Shorter windows do not generalise to later frames: the
    # stacked causal convolutions' receptive field reaches the zero padding before frame 0 in
    # every frame of a short window, so frames past the window came out ~4x worse (measured
    # with the `recon` stage: 5-frame windows broke frames 5-16, 9-frame windows frames 9-16).
    if args.vae_texture:
        print(f"texture: weight {args.vae_texture:g}, fine detail per 8x8 patch like the truth's (texture_gap)", flush=True)
    B = args.batch or 8
    crop, win = args.crop, args.window
    rng = np.random.default_rng(args.seed + step)
    data = toy_data.stream(SEED_TRAIN + 500_000 + step * B, 10**9, CLIP["frames"], CLIP["size"], workers=args.workers)
    clock = Clock()
    total = 10**9 if args.steps is None else args.steps

    def sample():
        v = toy_data.to_video(next(data)[1])  # [3, 17, 128, 128]
        t = rng.integers(0, v.shape[1] - win + 1)
        y, x_ = rng.integers(0, v.shape[2] - crop + 1, size=2)
        if crop < v.shape[2] and rng.random() < args.obj_crops:
            y, x_ = object_crop(v[:, t + win // 2], crop, rng, (y, x_))
        return v[:, t:t + win, y:y + crop, x_:x_ + crop]

    while step < total and clock() < args.minutes * 60 and not STOP["requested"]:
        x = torch.from_numpy(np.stack([sample() for _ in range(B)])).to(dev)
        lr = (args.lr or 1e-3) * min(1.0, (step + 1) / 100)
        for g in opt.param_groups:
            g["lr"] = lr
        with autocast(dev, args.bf16):
            with torch.set_grad_enabled(not args.decoder_only):
                mu, log_var = vae.encode(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * log_var.clamp(-30, 20))
            rec = vae.decode(z)
        rec = rec.float()
        # Objects are small against large flat backgrounds: an unweighted loss let the VAE
        # trade the objects' colours away (recon stage: yellow balls came back purple). Pixels
        # that differ from their 9x9 neighbourhood (objects and their edges) weigh 1 + obj_weight.
        w = 1 + args.obj_weight * object_mask(x)
        l1 = ((rec - x).abs() * w).mean() / w.mean()
        l2 = (((rec - x) ** 2) * w).mean() / w.mean()
        kl = 0.5 * (mu.float() ** 2 + log_var.float().exp() - 1 - log_var.float()).mean()
        with torch.set_grad_enabled(args.vae_texture > 0):  # logged either way; trained only when weighted
            tex = texture_gap(rec, x)
        loss = l1 + l2 + 1e-6 * kl + args.vae_texture * tex
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        step += 1
        if step % 10 == 0:
            log(args.run, "vae", step=step, loss=loss.item(), l1=l1.item(), l2=l2.item(), kl=kl.item(),
                tex=tex.item(), lr=lr, sec=clock())
        if step % 100 == 0:
            save_ckpt(ckpt, model=vae.state_dict(), opt=opt.state_dict(), step=step, init_steps=init_steps)
    save_ckpt(ckpt, model=vae.state_dict(), opt=opt.state_dict(), step=step, init_steps=init_steps)
    print(f"vae: {step} steps, checkpoint {ckpt}", flush=True)


# ---------------------------------------------------------------------------------------
# Stage 2: latents

def load_vae(run, dev):
    vae = WanVAE_(**vae_config(run)).to(dev).eval()
    vae.load_state_dict(torch.load(os.path.join(run, "vae.pt"), map_location=dev)["model"])
    return vae


def latent_object_mask(pixel_masks, f):
    """[B, 17, H, W] uint8 object masks (the renderer's: > 0 where an object covers the pixel) ->
    [B, 5, H/f, W/f] uint8 (f: the VAE's spatial factor): 1 where a latent cell covers object
    pixels in any of the frames it encodes (latent frame 0 <- frame 0, k <- 4k-3..4k)."""
    m = torch.from_numpy(np.ascontiguousarray(pixel_masks) > 0).float().unsqueeze(1)  # [B, 1, 17, H, W]
    m = torch.cat([m[:, :, :1].repeat(1, 1, 4, 1, 1), m[:, :, 1:]], dim=2)  # pad frame 0 to a group of 4
    m = F.max_pool3d(m, kernel_size=(4, f, f))  # [B, 1, 5, H/f, W/f]
    return m[:, 0].to(torch.uint8)


def object_cover(pixel_masks, f, group=None):
    """[B, 17, H, W] uint8 object masks -> [B, 5, H/f, W/f] uint8: the share of each f x f pixel
    cell that objects (of `group`, 0-based, if given) cover over the frames a latent frame
    encodes (grouped as in latent_object_mask), 0..255. At f = half the VAE's factor it draws
    an object's outline at twice the latent resolution (a large star's points, a ring's hole),
    for --dit-mask-aux."""
    pm = np.ascontiguousarray(pixel_masks)
    m = torch.from_numpy(pm > 0 if group is None else pm == group + 1).float().unsqueeze(1)  # [B, 1, 17, H, W]
    m = torch.cat([m[:, :, :1].repeat(1, 1, 4, 1, 1), m[:, :, 1:]], dim=2)  # [B, 1, 20, H, W]
    m = F.avg_pool3d(m, kernel_size=(4, f, f))  # [B, 1, 5, H/f, W/f]
    return (m[:, 0] * 255).round().to(torch.uint8)


MAX_GROUPS = 3  # the world's most object groups (noun phrases) per caption


def cover_grid(cfg):
    """[frames, height, width] of object_cover.npy under a VAE config: half the latent cell."""
    g = latent_grid(cfg)
    return [g[0], 2 * g[1], 2 * g[2]]


def stage_latents(args):
    dev = device_of(args)
    vae = load_vae(args.run, dev)
    N = args.count
    out_lat = os.path.join(args.run, "latents.npy")
    done_path = os.path.join(args.run, "latents.json")
    T5_CONFIG["vocab"] = vocab_size(args.tokenizer)
    cfg = vae_config(args.run)
    grid = latent_grid(cfg)
    lat = np.lib.format.open_memmap(out_lat, mode="w+" if not os.path.exists(out_lat) else "r+", dtype=np.float16,
                                    shape=(N, cfg["z_dim"], *grid))
    # Where the objects are, per latent cell [N, *grid] (uint8 0/1): the DiT loss weighs them up.
    out_mask = os.path.join(args.run, "latent_masks.npy")
    masks = np.lib.format.open_memmap(out_mask, mode="w+" if not os.path.exists(out_mask) else "r+", dtype=np.uint8,
                                      shape=(N, *grid))
    meta = json.load(open(done_path)) if os.path.exists(done_path) else {"done": 0, "ids": [], "captions": []}
    start = meta["done"]
    B = 8
    clock = Clock()
    data = toy_data.stream(SEED_TRAIN + start, N - start, CLIP["frames"], CLIP["size"], args.tokenizer, TEXT_LEN, masks=True, workers=args.workers)
    i = start
    while i < N and clock() < args.minutes * 60:
        batch = [next(data) for _ in range(min(B, N - i))]
        x = torch.from_numpy(np.stack([toy_data.to_video(f) for _, f, _ in batch])).to(dev)
        with torch.no_grad(), autocast(dev, args.bf16):
            mu, _ = vae.encode(x)
        lat[i:i + len(batch)] = mu.float().cpu().numpy().astype(np.float16)
        masks[i:i + len(batch)] = latent_object_mask(np.stack([m for _, _, m in batch]), vae_factor(cfg)).numpy()
        for h, _, _ in batch:
            meta["ids"].append(h["ids"])
            meta["captions"].append(h["caption"])
        i += len(batch)
        meta["done"] = i
        if (i // B) % 50 == 0 or i == N:
            lat.flush()
            masks.flush()
            json.dump(meta, open(done_path + ".tmp", "w"))
            os.replace(done_path + ".tmp", done_path)
            log(args.run, "latents", done=i, sec=clock())
    lat.flush()
    masks.flush()
    json.dump(meta, open(done_path + ".tmp", "w"))
    os.replace(done_path + ".tmp", done_path)
    if i == N:
        arr = np.asarray(lat[:N], dtype=np.float32)
        mean = arr.mean(axis=(0, 2, 3, 4))
        std = arr.std(axis=(0, 2, 3, 4))
        json.dump({"mean": mean.tolist(), "std": std.tolist()}, open(os.path.join(args.run, "latent_stats.json"), "w"))
        print(f"latents: {N} clips, mean {mean.round(3).tolist()}, std {std.round(3).tolist()}", flush=True)


def stage_masks(args):
    """Rewrites latent_masks.npy for a run's encoded clips from the renderer's object masks
    (the clips are re-rendered from their seeds; the latents stay), and writes object_cover.npy
    (object_cover: the outlines at twice the latent resolution, for --dit-mask-aux) and
    group_cover.npy (the same per object group, in caption order: [N, MAX_GROUPS, F, 2H, 2W],
    for --dit-mask-aux-groups). Runs
    encoded before the masks came from the renderer had an edge detector's, which marks
    textured backgrounds too (a quarter of the clips were >90% "object")."""
    meta = json.load(open(os.path.join(args.run, "latents.json")))
    N = meta["done"]
    cfg = vae_config(args.run)
    out_mask = os.path.join(args.run, "latent_masks.npy")
    tmp = out_mask + ".new.npy"
    masks = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(N, *latent_grid(cfg)))
    out_cover = os.path.join(args.run, "object_cover.npy")
    tmp_cover = out_cover + ".new.npy"
    cover_arr = np.lib.format.open_memmap(tmp_cover, mode="w+", dtype=np.uint8, shape=(N, *cover_grid(cfg)))
    out_groups = os.path.join(args.run, "group_cover.npy")
    tmp_groups = out_groups + ".new.npy"
    group_arr = np.lib.format.open_memmap(tmp_groups, mode="w+", dtype=np.uint8, shape=(N, MAX_GROUPS, *cover_grid(cfg)))
    data = toy_data.stream(SEED_TRAIN, N, CLIP["frames"], CLIP["size"], args.tokenizer, TEXT_LEN, masks=True, workers=args.workers)
    clock = Clock()
    B = 32
    for i in range(0, N, B):
        batch = [next(data) for _ in range(min(B, N - i))]
        for k, (h, _, _) in enumerate(batch):
            if h["ids"] != meta["ids"][i + k]:
                raise SystemExit(f"clip {i + k} (seed {h['seed']}) does not match the run's latents.json: "
                                 "the world or tokenizer changed since `latents`")
        pix = np.stack([m for _, _, m in batch])
        masks[i:i + len(batch)] = latent_object_mask(pix, vae_factor(cfg)).numpy()
        cover_arr[i:i + len(batch)] = object_cover(pix, vae_factor(cfg) // 2).numpy()
        for g in range(MAX_GROUPS):
            group_arr[i:i + len(batch), g] = object_cover(pix, vae_factor(cfg) // 2, g).numpy()
    masks.flush()
    cover_arr.flush()
    group_arr.flush()
    cover = float(np.asarray(masks).mean())
    del masks, cover_arr, group_arr
    os.replace(tmp, out_mask)
    os.replace(tmp_cover, out_cover)
    os.replace(tmp_groups, out_groups)
    log(args.run, "masks", clips=N, cover=cover, sec=clock())
    print(f"masks: {N} clips, {cover:.1%} of latent cells cover an object, {out_mask}; outlines at 2x in {out_cover}, "
          f"per named object in {out_groups}", flush=True)


# ---------------------------------------------------------------------------------------
# Stage 3: DiT + text encoder

def shift_sigma(s, shift):
    return shift * s / (1 + (shift - 1) * s)


def unshift_sigma(sigma, shift):
    """The inverse of shift_sigma: the uniform draw that the shift maps to sigma."""
    return sigma / (shift - (shift - 1) * sigma)


def draw_sigma(n, shift, sigma_min=0.0, sigma_max=1.0, device=None):
    """n training noise levels: uniform draws shifted by `shift`, the distribution cut to
    [sigma_min, sigma_max] (--dit-sigma-min/-max: an expert's share of the levels)."""
    lo, hi = unshift_sigma(sigma_min, shift), unshift_sigma(sigma_max, shift)
    return shift_sigma(lo + torch.rand(n, device=device) * (hi - lo), shift)


def encode_text(t5, ids, mask):
    """ids, mask [B, L] -> context [B, TEXT_LEN, dim] with rows past each prompt's length zeroed,
    exactly the reference's 'trim to the real tokens, then zero-pad to text_len'."""
    ctx = t5(ids, mask)  # [B, L, D]
    return ctx * mask.unsqueeze(-1).to(ctx.dtype)


def frame_change_loss(diff, w):
    """The error's change from one latent frame to the next: diff [B, C, F, H, W] (prediction -
    target), cell weights w [B, 1, F, H, W] (a frame pair weighs the mean of its two cells).
    Halved, so errors independent across frames give the plain loss's scale; 0 for an error
    that is the same in every frame. A static object where the clip's moves, or one that morphs,
    is an error that changes from frame to frame, so this weighs motion up. With uniform weights
    it is a fixed positive quadratic form of the error, so its minimiser is still E[v | x_t]: it
    changes what the model learns first, not the target."""
    dt = diff[:, :, 1:] - diff[:, :, :-1]
    wt = (w[:, :, 1:] + w[:, :, :-1]) / 2
    return (dt ** 2 * wt).mean() / wt.mean() / 2


WORD_CLASSES = os.path.join(HERE, "word_classes.json")  # scripts/toy/word-classes.ts writes it from the lexicon


def word_class_table(tokenizer_path, path=WORD_CLASSES):
    """Token id -> attribute-value class (-1: no class) over word_classes.json's groups (shape,
    colour, size, speed, direction, motion), and the class names "group:value" in index order."""
    vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
    table = torch.full((len(vocab),), -1, dtype=torch.long)
    names = []
    for group, classes in json.load(open(path)).items():
        for value, words in classes.items():
            for w in words:
                if "\u2581" + w in vocab:
                    table[vocab["\u2581" + w]] = len(names)
            names.append(f"{group}:{value}")
    return table, names


def word_separation(t5, id_rows, tokenizer_path, dev, path=WORD_CLASSES):
    """How well the text encoder's output tells attribute values apart at the words that name
    them: per group (shape, colour, ...), each class's centroid is the mean unit output at its
    main word (the first in word_classes.json); every class word's output is then given the
    nearest centroid of its group (cosine). Returns {group: {"main": accuracy on main words,
    "synonym": accuracy on the other words (None without any), "words": count}}. Synonyms far
    from their main word's centroid mean the encoder keeps "circle" apart from "ball"."""
    table, names = word_class_table(tokenizer_path, path)
    vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
    main = {i: next((vocab["\u2581" + w] for w in words if "\u2581" + w in vocab), None)
            for i, words in enumerate(w for g in json.load(open(path)).values() for w in g.values())}
    feats, labels, is_main = [], [], []
    for lo in range(0, len(id_rows), 500):
        rows = id_rows[lo:lo + 500]
        ids = torch.zeros((len(rows), TEXT_LEN), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r[:TEXT_LEN])
        ids = ids.to(dev)
        with torch.no_grad():
            out = encode_text(t5, ids, (ids != 0).long()).float()
        lab = table.to(dev)[ids]
        sel = lab >= 0
        feats.append(F.normalize(out[sel], dim=-1))
        labels.append(lab[sel])
        is_main.append(torch.tensor([main[int(c)] == int(t) for c, t in zip(lab[sel], ids[sel])], device=dev))
    feats, labels, is_main = torch.cat(feats), torch.cat(labels), torch.cat(is_main)
    result = {}
    for group in dict.fromkeys(n.split(":")[0] for n in names):
        classes = [i for i, n in enumerate(names) if n.startswith(group + ":")
                   and bool(((labels == i) & is_main).any())]
        in_group = torch.isin(labels, torch.tensor(classes, device=dev))
        if not classes or not bool(in_group.any()):
            continue
        cent = F.normalize(torch.stack([feats[(labels == i) & is_main].mean(0) for i in classes]), dim=-1)
        pred = torch.tensor(classes, device=dev)[(feats[in_group] @ cent.T).argmax(-1)]
        right, mains = pred == labels[in_group], is_main[in_group]
        result[group] = {"main": round(right[mains].float().mean().item(), 4),
                         "synonym": round(right[~mains].float().mean().item(), 4) if bool((~mains).any()) else None,
                         "words": int(in_group.sum())}
    return result


class TextAux(nn.Module):
    """--dit-text-aux: a linear read-out of each class word's attribute value from the text
    encoder's output (trained with it, never exported). The encoder trained only through the
    DiT kept the synonyms of shapes and directions apart ("circle" far from "ball"); this term
    asks it to give every word of one value a common direction. Its own AdamW, kept in dit.pt."""

    def __init__(self, dim, table, names):
        super().__init__()
        self.register_buffer("table", table, persistent=False)
        self.names = names
        self.head = nn.Linear(dim, len(names))

    def forward(self, ctx, ids):
        """ctx [B, L, D] (encode_text's), ids [B, L] -> (cross-entropy, accuracy) over the class
        words of the batch, or None when it has none."""
        labels = self.table.to(ids.device)[ids]
        sel = labels >= 0
        if not bool(sel.any()):
            return None
        logits = self.head(ctx[sel].float())
        target = labels[sel]
        return F.cross_entropy(logits, target), (logits.argmax(-1) == target).float().mean()

    def fit_head(self, t5, ids_all, steps=300, batch=64, seed=0):
        """Fits a fresh read-out to the encoder's output as it is (encoder frozen), so that the
        joint term starts from what the encoder already tells apart: its gradient into the
        encoder is then about the words still read wrong (the synonyms), not a random head's.
        ids_all [N, L] int64 (CPU). Returns the last (cross-entropy, accuracy)."""
        rng = np.random.default_rng(seed)
        opt = torch.optim.Adam(self.head.parameters(), lr=1e-2)
        dev = self.head.weight.device
        got = None
        for _ in range(steps):
            ids = torch.from_numpy(ids_all[rng.choice(len(ids_all), min(batch, len(ids_all)), replace=False)]).to(dev)
            with torch.no_grad():
                ctx = encode_text(t5, ids, (ids != 0).long())
            got = self(ctx, ids)
            if got is None:
                continue
            opt.zero_grad(set_to_none=True)
            got[0].backward()
            opt.step()
        return None if got is None else (got[0].item(), got[1].item())


MASK_AUX_WARM = 200  # steps a fresh --dit-mask-aux read-out trains alone (the DiT's gradient from it off)
MASK_AUX_LR = 1e-3  # its learning rate meanwhile


class MaskAux(nn.Module):
    """--dit-mask-aux: a read-out of the objects' outlines (object_cover.npy, at twice the latent
    resolution) from the DiT's tokens after block `block` (trained with it, never exported).
    Shape is what the DiT learns least (it draws blobs whatever the shape word): its loss sees an
    outline only through the few latent cells an object's edge crosses, in the VAE's channel
    code. This gives every token a direct target: which of its sub-cells an object covers,
    which at high sigma only the prompt (the shape word) and the token's place can tell. A
    small MLP per token, so the blocks are asked to carry the outline, as REPA asks a DiT's
    early blocks to carry a pretrained encoder's features."""

    def __init__(self, dit, block, groups=0):
        super().__init__()
        if not 0 <= block < len(dit.blocks):
            raise SystemExit(f"--dit-mask-aux-block {block}: the DiT has blocks 0..{len(dit.blocks) - 1}")
        self.patch = tuple(dit.patch_size)  # (pt, ph, pw)
        pt, ph, pw = self.patch
        self.groups = groups  # --dit-mask-aux-groups: also each named object's own outline (channels 1..groups)
        self.head = nn.Sequential(nn.Linear(dit.dim, dit.dim), nn.SiLU(), nn.Linear(dit.dim, (1 + groups) * pt * ph * pw * 4))
        self.block = block
        self.hidden = None
        dit.blocks[block].register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        self.hidden = output

    def logits(self, grid, detach=False):
        """The read-out of the kept hidden state [B, L(+pad), D] for latents of grid [F, H, W]:
        [B, 1 + groups, F, 2H, 2W] (channel 0 all objects, then each group's), token n =
        (i_f*h + i_h)*w + i_w's 2ph x 2pw sub-cells row-major, channel by channel."""
        f, h, w = grid[0] // self.patch[0], grid[1] // self.patch[1], grid[2] // self.patch[2]
        hid = self.hidden[:, :f * h * w].float()  # padding past L dropped
        if detach:
            hid = hid.detach()
        pt, ph, pw = self.patch
        out = self.head(hid).view(-1, f, h, w, 1 + self.groups, pt, 2 * ph, 2 * pw)
        return out.permute(0, 4, 1, 5, 2, 6, 3, 7).reshape(-1, 1 + self.groups, f * pt, 2 * ph * h, 2 * pw * w)

    def forward(self, grid, target, w, detach=False, group_target=None):
        """grid: the latents' [F, H, W]; target [B, F, 2H, 2W] cover in 0..1; w [B, F, 2H, 2W] cell
        weights; group_target [B, groups, F, 2H, 2W] each named object's cover (with groups) ->
        (weighted binary cross-entropy, IoU of the read-out's cells > 0.5 with the cover's > 0.5,
        and with groups, over clips that show two or more named objects, the share of cells
        mostly one object's that the read-out gives to that object, else None) from the hidden state kept by the last DiT forward (detach: train the
        read-out alone). The groups' cross-entropy is their mean, added to the outline's."""
        logits = self.logits(grid, detach)
        self.hidden = None  # not kept (with its graph) past its step
        bce = F.binary_cross_entropy_with_logits(logits[:, 0], target, weight=w, reduction="sum") / w.sum()
        with torch.no_grad():
            a, b = logits[:, 0] > 0, target > 0.5
            iou = (a & b).sum().float() / (a | b).sum().clamp_min(1).float()
        acc = None
        if self.groups:
            wg = w.unsqueeze(1).expand_as(group_target)
            bce = bce + F.binary_cross_entropy_with_logits(logits[:, 1:], group_target, weight=wg, reduction="sum") / wg.sum()
            with torch.no_grad():
                hits, cells = group_hits(logits[:, 1:], group_target)
                acc = torch.tensor(hits / cells) if cells else None
        return bce, iou, acc


def group_hits(group_logits, group_target):
    """The named-object read-out's cells right: group_logits, group_target [B, groups, F, 2H, 2W]
    -> (cells mostly one object's whose largest logit is that object's, such cells), over the
    clips showing two or more named objects (with one, "the first" is always right)."""
    top, which = group_target.max(dim=1)
    multi = (group_target.amax(dim=(2, 3, 4)) > 0.5).sum(dim=1) >= 2  # [B]
    cells = (top > 0.5) & multi.view(-1, 1, 1, 1)
    return int((group_logits.argmax(dim=1) == which)[cells].sum()), int(cells.sum())


Grounded = collections.namedtuple("Grounded", "loss share bind bind_any")


class AttnGround:
    """--dit-attn-ground: grounds the objects' words in the DiT's cross-attention, as TokenCompose
    grounds a UNet's noun tokens in their segmentation masks. The colour words say nothing of
    which object they are for (the binding probe: the DiT treats a prompt's colours as a bag), so
    this says it where the binding happens: of the attention a named object's shape word, and the
    colour word directly before it, get from the video tokens (each token's softmax over the
    prompt, mean over heads), the share from the tokens that object covers (group_cover, pooled
    to the token grid) should be 1. Loss (1 - share)^2, mean over those words and every block.
    Group g is the caption's g-th shape word (the renderer's group: the noun phrase's place).
    Hooks every block's cross-attention; recomputes its q and k (cheap: 32 keys).

    any_order (--dit-attn-ground-any-order): on each clip the objects may take the groups' words
    in whichever order fits the maps best (the order with the least loss over all blocks), so
    the loss asks only that different objects draw different noun phrases' words. The world lays
    objects out in caption order and the DiT has no absolute place, so at high noise it cannot
    tell which object is the first named; the evaluator, too, matches objects by colour."""

    def __init__(self, dit, tokenizer_path, path=WORD_CLASSES, any_order=False):
        self.patch = tuple(dit.patch_size)
        self.shape_ids, self.colour_ids = (class_ids(tokenizer_path, c, path) for c in ("shape", "colour"))
        self.any_order = any_order
        self.active = False  # only the main forward of a step is grounded (not --dit-contrast's)
        self.probs = []
        for block in dit.blocks:
            block.cross_attn.register_forward_hook(self._keep)

    def _keep(self, module, inputs, output):
        if not self.active:
            return
        x, context = inputs[0], inputs[1]
        B, n, d = x.shape[0], module.num_heads, module.head_dim
        q = module.norm_q(module.q(x)).float().view(B, -1, n, d)
        k = module.norm_k(module.k(context)).float().view(B, -1, n, d)
        scores = torch.einsum("bsnd,btnd->bnst", q, k) / math.sqrt(d)
        self.probs.append(scores.softmax(dim=-1).mean(dim=1))  # [B, S(+pad), Lk]

    def word_groups(self, ids):
        """ids [B, L] -> [B, L] long: the group of each shape word and of a colour word directly
        before one (in caption order: the first shape word is group 0), else -1."""
        out = torch.full_like(ids, -1)
        rows = ids.tolist()
        for r, row in enumerate(rows):
            g = 0
            for t, tok in enumerate(row):
                if tok in self.shape_ids:
                    out[r, t] = g
                    if t > 0 and row[t - 1] in self.colour_ids:
                        out[r, t - 1] = g
                    g += 1
        return out

    def loss(self, grid, group_target, ids):
        """grid: the latents' [F, H, W]; group_target [B, groups, F, 2H, 2W] each named object's
        cover; ids [B, L] the prompts (a dropped prompt names nothing) -> Grounded(loss, the mean
        share in the loss's order, and over the clips of 2+ objects the mean share inside a word's
        own object less inside the others', in caption order (bind) and in each clip's best order
        (bind_any); None without such clips), or None when no word names an object shown. Clears
        the kept maps."""
        probs, self.probs, self.active = self.probs, [], False
        pt, ph, pw = self.patch
        f, h, w = grid[0] // pt, grid[1] // ph, grid[2] // pw
        B, G = group_target.shape[:2]
        # [B, G, F, 2H, 2W] -> [B, G, S]: each token's covered share (2ph x 2pw cells a token)
        cov = F.avg_pool3d(group_target[:, :, :grid[0]], (pt, 2 * ph, 2 * pw)).flatten(2)
        wg = self.word_groups(ids)  # [B, L]
        onehot = (wg.unsqueeze(1) == torch.arange(G, device=ids.device).view(1, G, 1)).float()  # [B, G, L]
        shown = cov.sum(dim=2) > 0  # [B, G]
        words = (onehot * shown.unsqueeze(2).float()).sum(dim=1)  # [B, L]: 1 for a word whose object is shown
        if not bool(words.any()):
            return None
        # orders[k, g]: the object whose tokens group g's words are measured in (order 0: caption order)
        orders = torch.tensor(list(itertools.permutations(range(G))), device=ids.device)
        owns, totals = [], []
        for p in probs:
            p = p[:, :f * h * w]  # [B, S, L] (padding tokens dropped)
            inside = torch.einsum("bgs,bsl->bgl", cov, p) / p.sum(dim=1).clamp_min(1e-9).unsqueeze(1)  # [B, G, L]
            owns.append((inside[:, orders] * onehot.unsqueeze(1)).sum(dim=2))  # [B, K, L]
            totals.append(inside.sum(dim=1))  # [B, L]: inside any object (the others' are 0 where not shown)
        err = sum(((1 - own) ** 2 * words.unsqueeze(1)).sum(dim=2) for own in owns)  # [B, K]
        best = err.detach().argmin(dim=1)  # [B]
        rows = torch.arange(B, device=ids.device)
        order = best if self.any_order else torch.zeros_like(best)
        n = len(probs)
        loss = err[rows, order].sum() / words.sum() / n
        with torch.no_grad():
            share = sum(float((own[rows, order] * words).sum() / words.sum()) for own in owns) / n
            m = words * (shown.sum(dim=1) >= 2).view(-1, 1).float()  # the words of clips showing 2+ objects
            bind = bind_any = None
            if bool(m.any()):
                def own_less_other(k):
                    return sum(float(((2 * own[rows, k] - total) * m).sum() / m.sum())
                               for own, total in zip(owns, totals)) / n
                bind, bind_any = own_less_other(torch.zeros_like(best)), own_less_other(best)
        return Grounded(loss, share, bind, bind_any)


Coloured = collections.namedtuple("Coloured", "loss err swap")


class ColourBind:
    """--dit-colour-bind: the evaluator's colour criterion as a training signal. The DiT's
    estimate of the clean latents at this step (x0 = x_t - sigma * v, normalised latents) is
    taken through the linear preview map (rgb = weight . z + bias per latent cell, fit_preview)
    and averaged over each named object's cover (group_cover pooled to the latent grid); the
    same average of the true latents is that object's colour. Loss: the squared rgb distance
    between the two, mean over the objects shown, in each clip's best order of the objects
    (the permutation with the least loss), so that a clip whose two objects take each other's
    colours costs nothing (the evaluator matches objects by colour) but one whose objects both
    take one colour (the fourteenth release's usual failure on two-colour prompts) does. Unlike
    the flow-matching loss, whose optimum at high noise is the average of the possible
    outcomes, the best-order distance rewards committing each object to a different colour.
    Only clips noised at least sigma_min, whose prompt was kept, with an object shown.

    per_frame (--dit-colour-bind-frames): the estimate is averaged over each object's cover
    frame by frame, and each latent frame's colour is compared with the true latents' over the
    same cover in that frame, weighted by the cover's area there; in another order of the
    objects, with the truth shifted by the difference between the two objects' colours over the
    clip. An object drawn in the right colour but moving the wrong way leaves its true place in
    the later frames, which then show the background there: the clip-wide average forgives that
    in part, this does not. (Comparing each frame with the clip-wide colour instead would cost
    the true latents themselves about 0.02-0.03, as much as the model's error below sigma 0.6:
    an object's cells mix with the background differently from frame to frame.)"""

    def __init__(self, preview, dev, sigma_min=0.0, per_frame=False):
        self.weight = torch.tensor(preview["weight"], device=dev, dtype=torch.float32)  # [3, C]
        self.bias = torch.tensor(preview["bias"], device=dev, dtype=torch.float32)  # [3]
        self.sigma_min = sigma_min
        self.per_frame = per_frame

    def frame_colours(self, z, cover):
        """z [B, C, F, H, W] normalised latents, cover [B, G, F, H, W] (0..1) -> ([B, G, F, 3]
        each object's mean preview colour in each frame (0 where it covers nothing), [B, G, F]
        its cover's area there)."""
        rgb = torch.einsum("kc,bcfhw->bkfhw", self.weight, z) + self.bias.view(1, -1, 1, 1, 1)
        area = cover.sum(dim=(3, 4))  # [B, G, F]
        return torch.einsum("bgfhw,bkfhw->bgfk", cover, rgb) / area.clamp_min(1e-6).unsqueeze(3), area

    @staticmethod
    def over_clip(framed, area):
        """[B, G, F, 3] per-frame colours, [B, G, F] areas -> [B, G, 3] each object's mean colour
        over its whole cover (0 where it covers nothing)."""
        return (framed * area.unsqueeze(3)).sum(dim=2) / area.sum(dim=2).clamp_min(1e-6).unsqueeze(2)

    def loss(self, x0_hat, x0, group_target, sigma, keep):
        """x0_hat, x0 [B, C, F, H, W]; group_target [B, G, F, 2H, 2W] (0..1); sigma [B]; keep [B]
        bool (the prompt was not dropped) -> Coloured(loss, the mean distance in caption order,
        the share of clips showing 2+ objects whose best order is not the caption's; None without
        such clips), or None when no clip qualifies."""
        F_ = x0.shape[2]
        cover = F.avg_pool3d(group_target[:, :, :F_], (1, 2, 2))  # [B, G, F, H, W]
        shown = cover.sum(dim=(2, 3, 4)) >= 0.5  # [B, G]: at least half a latent cell
        use = keep & (sigma >= self.sigma_min) & shown.any(dim=1)
        if not bool(use.any()):
            return None
        cover, shown = cover[use], shown[use].float()
        pred, area = self.frame_colours(x0_hat[use], cover)  # [b, G, F, 3], [b, G, F]
        with torch.no_grad():
            framed = self.frame_colours(x0[use], cover)[0]  # [b, G, F, 3]
            true = self.over_clip(framed, area)  # [b, G, 3]
        G = cover.shape[1]
        orders = torch.tensor(list(itertools.permutations(range(G))), device=x0.device)  # [K, G]
        # err[b, k]: mean over shown objects g of |pred_g - true_{order_k(g)}|^2; an order that
        # sends a shown object to one not shown is not allowed
        if self.per_frame:
            with torch.no_grad():
                shift = true.unsqueeze(1) - true.unsqueeze(2)  # [b, G(place), G(object), 3]: object's - place's
                target = framed.unsqueeze(2) + shift.unsqueeze(3)  # [b, G, G, F, 3]
            d = ((pred.unsqueeze(2) - target) ** 2).sum(dim=4)  # [b, G(place), G(object), F]
            d = (d * area.unsqueeze(2)).sum(dim=3) / area.sum(dim=2).clamp_min(1e-6).unsqueeze(2)
        else:
            d = ((self.over_clip(pred, area).unsqueeze(2) - true.unsqueeze(1)) ** 2).sum(dim=3)  # [b, G(pred), G(true)]
        per = d[:, torch.arange(G, device=x0.device).view(1, G), orders]  # [b, K, G]
        valid = (shown[:, orders] == shown.unsqueeze(1)).all(dim=2)  # [b, K]
        n = shown.sum(dim=1, keepdim=True)  # [b, 1]
        err = (per * shown.unsqueeze(1)).sum(dim=2) / n
        err = torch.where(valid, err, torch.full_like(err, float("inf")))
        best = err.detach().argmin(dim=1)
        rows = torch.arange(err.shape[0], device=x0.device)
        loss = err[rows, best].mean()
        with torch.no_grad():
            caption = float(err[:, 0].mean())
            multi = shown.sum(dim=1) >= 2
            swap = float((best[multi] != 0).float().mean()) if bool(multi.any()) else None
        return Coloured(loss, caption, swap)


def binding_swap(row, shape_ids, colour_ids):
    """The prompt (token ids) with its objects' colours passed on to the next object: each colour
    word directly before a shape word (the grammar's noun phrase ends "colour noun"; a colour
    elsewhere names the background: "a blue sky", "green grass") takes the next such word's place,
    the last the first's. "a red ball and a blue star" -> "a blue ball and a red star": the same
    words, bound to the other objects. None if that changes nothing (one object, one colour)."""
    row = [int(t) for t in row]
    at = [i for i in range(len(row) - 1) if row[i] in colour_ids and row[i + 1] in shape_ids]
    out = list(row)
    for a, b in zip(at, at[1:] + at[:1]):
        out[b] = row[a]
    return out if out != row else None


CONTRAST_KINDS = ("shape", "motion", "binding")


class ContrastSwap:
    """--dit-contrast's alternative prompts: the same token ids with every shape word replaced by
    a word of another shape (a random one per word, plural for plural), with every direction and
    grow/shrink word replaced by its opposite (SWAP_MOTIONS), or (binding) with the objects'
    colours passed on to each other (binding_swap). A clip's prompt has such an alternative only
    if the replacement changes it; `kinds` picks which are drawn."""

    def __init__(self, tokenizer_path, path=WORD_CLASSES, kinds=("shape", "motion")):
        vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
        classes = json.load(open(path))
        shapes = classes["shape"]
        self.kinds = tuple(kinds)
        self.colour_ids = class_ids(tokenizer_path, "colour", path)
        # per shape value: its words in the vocabulary, split into singular and plural
        self.words = {}
        self.shape_of = {}
        for value, words in shapes.items():
            ids = [(vocab["\u2581" + w], is_plural(w, words)) for w in words if "\u2581" + w in vocab]
            self.words[value] = {p: [i for i, q in ids if q == p] for p in (False, True)}
            for i, q in ids:
                self.shape_of[i] = (value, q)
        self.opposite = swap_map(tokenizer_path, SWAP_MOTIONS)

    def shape_swap(self, row, rng):
        """row: a list of token ids -> the same with each shape word another shape's, or None."""
        out, changed = [], False
        for t in row:
            hit = self.shape_of.get(t)
            if hit is None:
                out.append(t)
                continue
            value, plural = hit
            others = [v for v in self.words if v != value and self.words[v][plural]]
            if not others:
                out.append(t)
                continue
            pool = self.words[others[rng.integers(len(others))]][plural]
            out.append(pool[rng.integers(len(pool))])
            changed = True
        return out if changed else None

    def motion_swap(self, row):
        out = [self.opposite.get(t, t) for t in row]
        return out if out != list(row) else None

    def alternative(self, row, rng, still):
        """One alternative prompt for row (token ids without padding), of the kinds asked for: a
        shape swap, for a clip (not a still, which shows no motion) a motion swap, or a binding
        swap, picked at random among those that change it; None if none does."""
        row = [int(t) for t in row if t != 0]
        options = ([self.shape_swap(row, rng)] if "shape" in self.kinds else []) + \
                  ([self.motion_swap(row)] if "motion" in self.kinds and not still else []) + \
                  ([binding_swap(row, set(self.shape_of), self.colour_ids)] if "binding" in self.kinds else [])
        options = [o for o in options if o is not None]
        return options[rng.integers(len(options))] if options else None


def class_ids(tokenizer_path, cls, path=WORD_CLASSES):
    """The token ids of a word class's words (word_classes.json's "colour", "shape", ...) that
    are whole pieces of the vocabulary."""
    vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
    return {vocab["\u2581" + w] for ws in json.load(open(path))[cls].values() for w in ws if "\u2581" + w in vocab}


def multi_object_rows(id_rows, tokenizer_path, path=WORD_CLASSES):
    """bool [N]: which captions (token id rows) name more than one object: two or more shape
    words, or a plural one ("two yellow stars", "a pair of rings", "plus signs": word_classes
    keeps a two-word noun's first word, so its plural shows in the next one, PLURAL_TAILS)."""
    vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
    shape_word = {}  # token id -> plural?
    for words in json.load(open(path))["shape"].values():
        for w in words:
            if "\u2581" + w in vocab:
                shape_word[vocab["\u2581" + w]] = is_plural(w, words)
    tails = {vocab["\u2581" + w] for w in PLURAL_TAILS if "\u2581" + w in vocab}
    out = np.zeros(len(id_rows), dtype=bool)
    for i, row in enumerate(id_rows):
        row = [int(t) for t in row]
        hits = [shape_word[t] or (j + 1 < len(row) and row[j + 1] in tails) for j, t in enumerate(row) if t in shape_word]
        out[i] = len(hits) > 1 or any(hits)
    return out


PLURAL_TAILS = ("signs", "shapes")  # the plural second words of the lexicon's two-word shape nouns ("plus signs")


def is_plural(word, words):
    """A shape word is plural when another word of its list (words) is it less a trailing s or es
    ("balls", "boxes", "rhombuses"; not "cross", "plus", "rhombus")."""
    return (word.endswith("s") and word[:-1] in words) or (word.endswith("es") and word[:-2] in words)


def contrast_loss(err_true, err_alt, m, tau):
    """--dit-contrast: err_* [n, C, F, H, W] squared errors of the same noised latents under the
    clip's prompt and under an alternative one, m [n, 1, F, H, W] object cells. Per clip, e = the
    mean error on object cells; the loss is softplus((e_true - e_alt) / (tau * e_true)), a
    two-way classification of which prompt the latents came from by the lower error (as a
    diffusion model's implied classifier does), so it asks the DiT's prediction to depend on the
    swapped words (shape, direction) on the objects; it fades once the alternative's error is
    several tau (relative) above the true one. Returns (loss, mean relative gap)."""
    den = (m.sum(dim=(1, 2, 3, 4)) * err_true.shape[1]).clamp_min(1.0)
    e_true = (err_true * m).sum(dim=(1, 2, 3, 4)) / den
    e_alt = (err_alt * m).sum(dim=(1, 2, 3, 4)) / den
    scale = tau * e_true.detach().clamp_min(1e-6)
    gap = ((e_alt - e_true).detach() / e_true.detach().clamp_min(1e-6)).mean()
    return F.softplus((e_true - e_alt) / scale).mean(), gap


def load_group_cover(run, flag, loaded):
    """RUN/group_cover.npy (each named object's cover, written by `masks`), memory-mapped, for an
    option or stage (flag) that needs it; `loaded` if another option already loaded it."""
    if loaded is not None:
        return loaded
    path = os.path.join(run, "group_cover.npy")
    if not os.path.exists(path):
        raise SystemExit(f"{flag} needs {path}: run `train_toy.py masks --run {run}` first")
    return np.load(path, mmap_mode="r")


def stage_dit(args):
    dev = device_of(args)
    torch.manual_seed(args.seed)
    T5_CONFIG["vocab"] = vocab_size(args.tokenizer)
    t5 = T5Encoder(**T5_CONFIG).to(dev)
    cfg = dit_config(args.run, args.dit_layers, args.dit_dim, args.dit_ffn, args.dit_patch)
    dit = WanModel(**cfg).to(dev)
    ema = {k: v.detach().clone().float() for k, v in list(dit.state_dict().items()) + [("t5." + k, v) for k, v in t5.state_dict().items()]}
    if args.dit_freeze_text:  # an expert shares the other expert's text encoder, so it must not move
        t5.requires_grad_(False)
    params = list(dit.parameters()) + ([] if args.dit_freeze_text else list(t5.parameters()))
    opt = torch.optim.AdamW(params, lr=args.lr or 3e-4, weight_decay=0.01, betas=(0.9, 0.99))
    ckpt = os.path.join(args.run, "dit.pt")
    step = init_steps = 0
    history = []  # one entry per invocation of this stage on this checkpoint (see invocation() below)
    saved_aux = None  # the --dit-text-aux read-out and its optimiser, when the checkpoint has them
    saved_mask = None  # the --dit-mask-aux read-out and its optimiser, likewise
    shift = args.shift if args.shift is not None else TRAIN_SHIFT
    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=dev)
        if st.get("freeze_text", False) != args.dit_freeze_text:
            raise SystemExit(f"{ckpt} was trained {'with' if st.get('freeze_text') else 'without'} --dit-freeze-text: resume "
                             "it the same way (its optimiser holds the parameters it trained), or start a new run folder")
        dit.load_state_dict(st["dit"])
        t5.load_state_dict(st["t5"])
        opt.load_state_dict(st["opt"])
        ema = st["ema"]
        step, init_steps = st["step"], st.get("init_steps", 0)
        history = st.get("history", [])
        saved_aux = st.get("text_aux")
        saved_mask = st.get("mask_aux")
        shift = args.shift if args.shift is not None else st.get("shift", TRAIN_SHIFT)
        print(f"resumed dit at step {step}" + (f" (sigma shift {st.get('shift', TRAIN_SHIFT):g} -> {shift:g})"
                                               if shift != st.get("shift", TRAIN_SHIFT) else ""), flush=True)
    elif args.dit_init:
        # Warm start (e.g. after a new VAE): another run's raw DiT + text encoder weights, a
        # fresh optimiser, schedule and EMA. The latent space changes, the text side does not.
        if os.path.isdir(args.dit_init):  # a model folder (e.g. the shipped models/reel-toy): its fp16 weights
            st = dict(zip(("dit", "t5"), load_model_folder(args.dit_init)))
        else:
            st = torch.load(args.dit_init, map_location=dev)
        width = st["dit"]["patch_embedding.weight"].shape[0]
        if width != cfg["dim"]:
            raise SystemExit(f"--dit-init {args.dit_init}: its DiT has width {width}, this run's {cfg['dim']} "
                             "(a warm start can add blocks, not width)")
        sd = grow_ffn(grow_depth(st["dit"], cfg["num_layers"]), dit.state_dict())
        fresh = [k for k, v in dit.state_dict().items() if k.startswith(("patch_embedding.", "head.head."))
                 and sd[k].shape != v.shape]
        if fresh:  # another patch size (e.g. over a 4x VAE's latents): the blocks carry over, the token in/out start fresh
            sd.update({k: dit.state_dict()[k] for k in fresh})
        dit.load_state_dict(sd)
        t5.load_state_dict(st["t5"])
        ema = {k: v.detach().clone().float() for k, v in list(dit.state_dict().items()) + [("t5." + k, v) for k, v in t5.state_dict().items()]}
        init_steps = prior_steps(args.dit_init, "dit")
        patch = "x".join(map(str, cfg["patch_size"][1:])) + (" (fresh patch_embedding, head)" if fresh else "")
        print(f"dit initialised from {args.dit_init} ({init_steps} steps in all; {cfg['num_layers']} blocks, "
              f"FFN {cfg['ffn_dim']}, patch {patch})", flush=True)
    use_training_kernels(dit)  # float32 GELU and RoPE: ~7% faster CPU steps, the same function
    aux = aux_opt = None
    if args.dit_text_aux > 0:
        aux = TextAux(T5_CONFIG["dim"], *word_class_table(args.tokenizer)).to(dev)
        aux_opt = torch.optim.AdamW(aux.parameters(), lr=args.lr or 3e-4, weight_decay=0.01, betas=(0.9, 0.99))
        if saved_aux:
            aux.head.load_state_dict(saved_aux["head"])
            aux_opt.load_state_dict(saved_aux["opt"])
        print(f"text aux: {len(aux.names)} attribute classes, weight {args.dit_text_aux:g}"
              + (" (resumed)" if saved_aux else ""), flush=True)
    mask_aux = mask_opt = cover = group_cover = None
    if args.dit_mask_aux_groups and args.dit_mask_aux <= 0:
        raise SystemExit("--dit-mask-aux-groups reads out with --dit-mask-aux's read-out: give --dit-mask-aux W too")
    if args.dit_mask_aux > 0:
        cover_path = os.path.join(args.run, "object_cover.npy")
        if not os.path.exists(cover_path):
            raise SystemExit(f"--dit-mask-aux needs {cover_path}: run `train_toy.py masks --run {args.run}` first")
        cover = np.load(cover_path, mmap_mode="r")
        groups_n = MAX_GROUPS if args.dit_mask_aux_groups else 0
        if groups_n:
            group_cover = load_group_cover(args.run, "--dit-mask-aux-groups", None)
        if saved_mask and saved_mask.get("groups", 0) != groups_n:
            print(f"mask aux: the checkpoint's read-out reads {saved_mask.get('groups', 0)} named objects, this one "
                  f"{groups_n}: a fresh read-out", flush=True)
            saved_mask = None
        mask_aux = MaskAux(dit, args.dit_mask_aux_block, groups_n).to(dev)
        mask_opt = torch.optim.AdamW(mask_aux.parameters(), lr=args.lr or 3e-4, weight_decay=0.01, betas=(0.9, 0.99))
        if saved_mask:
            if saved_mask["block"] != args.dit_mask_aux_block:
                raise SystemExit(f"--dit-mask-aux-block {args.dit_mask_aux_block}: this checkpoint's read-out is of block "
                                 f"{saved_mask['block']}")
            mask_aux.head.load_state_dict(saved_mask["head"])
            mask_opt.load_state_dict(saved_mask["opt"])
        mask_warm_until = -1 if saved_mask else step + MASK_AUX_WARM
        print(f"mask aux: outlines {'x'.join(map(str, cover.shape[1:]))} from block {args.dit_mask_aux_block}'s tokens, "
              f"weight {args.dit_mask_aux:g}" + (f", and each of up to {groups_n} named objects'" if groups_n else "")
              + (" (resumed)" if saved_mask else ""), flush=True)
    ground = None
    if args.dit_attn_ground > 0:
        group_cover = load_group_cover(args.run, "--dit-attn-ground", group_cover)
        ground = AttnGround(dit, args.tokenizer, any_order=args.dit_attn_ground_any_order)
        print(f"attention grounding: weight {args.dit_attn_ground:g}, every block's cross-attention"
              + (", the objects in any order" if args.dit_attn_ground_any_order else ""), flush=True)
    colour = None
    if args.dit_colour_bind > 0:
        group_cover = load_group_cover(args.run, "--dit-colour-bind", group_cover)
        colour = ColourBind(fit_preview(args.run), dev, args.dit_colour_bind_sigma, args.dit_colour_bind_frames)
        print(f"colour binding: weight {args.dit_colour_bind:g}, each named object's preview colour in its best order"
              f"{', frame by frame' if args.dit_colour_bind_frames else ''}, at sigma >= {args.dit_colour_bind_sigma:g}",
              flush=True)
    lat = np.load(os.path.join(args.run, "latents.npy"), mmap_mode="r")
    mask_path = os.path.join(args.run, "latent_masks.npy")
    obj_masks = np.load(mask_path, mmap_mode="r") if os.path.exists(mask_path) and args.dit_obj_weight > 0 else None
    contrast = None
    if args.dit_contrast > 0:
        if obj_masks is None:
            raise SystemExit(f"--dit-contrast needs {mask_path} and --dit-obj-weight > 0 (it compares errors on object cells)")
        contrast = ContrastSwap(args.tokenizer, kinds=args.dit_contrast_kinds)
        print(f"contrast: weight {args.dit_contrast:g}, {args.dit_contrast_clips} clips per step "
              f"(x4 stills), tau {args.dit_contrast_tau:g}, {'/'.join(contrast.kinds)} swaps, "
              f"at sigma >= {args.dit_contrast_sigma:g}", flush=True)
    meta = json.load(open(os.path.join(args.run, "latents.json")))
    stats = json.load(open(os.path.join(args.run, "latent_stats.json")))
    N = meta["done"]
    mean = torch.tensor(stats["mean"], device=dev).view(1, -1, 1, 1, 1)
    std = torch.tensor(stats["std"], device=dev).view(1, -1, 1, 1, 1)
    ids_all = np.zeros((N, TEXT_LEN), dtype=np.int64)
    for i, row in enumerate(meta["ids"][:N]):
        ids_all[i, :len(row)] = row
    if aux is not None and not saved_aux:
        ce, acc = aux.fit_head(t5, ids_all, seed=args.seed)
        print(f"text aux: read-out fitted to the encoder as it is: cross-entropy {ce:.3f}, accuracy {acc:.3f}", flush=True)
    draw = None  # per-clip sampling probabilities (None: uniform)
    if args.dit_multi_weight != 1:
        multi = multi_object_rows(meta["ids"][:N], args.tokenizer)
        draw = np.where(multi, args.dit_multi_weight, 1.0)
        draw /= draw.sum()
        print(f"multi-object clips: {multi.sum()} of {N} ({multi.mean():.1%}), drawn x{args.dit_multi_weight:g}: "
              f"{draw[multi].sum():.1%} of each batch", flush=True)
    B = args.batch or 32
    if dev.type == "cuda":  # the whole set on the GPU (16k clips of 4x latents: 2.6 GB fp16), no host reads per step
        lat = torch.from_numpy(np.asarray(lat[:N])).to(dev)
        obj_masks = None if obj_masks is None else torch.from_numpy(np.asarray(obj_masks[:N])).to(dev)
        cover = None if cover is None else torch.from_numpy(np.asarray(cover[:N])).to(dev)
        group_cover = None if group_cover is None else torch.from_numpy(np.asarray(group_cover[:N])).to(dev)
    rng = np.random.default_rng(args.seed + step)
    total = 10**9 if args.steps is None else args.steps
    warm = 200
    clock = Clock()
    stills = 0
    start_step = step

    def invocation():
        """This invocation's share of the checkpoint's steps: which steps, how many on stills, the
        batch of each kind. The checkpoint keeps the list (a copied dit.pt carries it), so an
        export can say what its last invocation trained, not only the run's step count, and with
        which loss terms."""
        return {"from": start_step, "to": step, "stills": stills, "batch": B,
                "still_batch": min(4 * B, N) if args.dit_image_every > 0 else 0, "sec": round(clock()),
                "recipe": {"lr": args.lr or 3e-4, "shift": shift, "obj_weight": args.dit_obj_weight,
                           "motion_weight": args.dit_motion_weight, "image_every": args.dit_image_every,
                           "text_aux": args.dit_text_aux, "contrast": args.dit_contrast, "multi_weight": args.dit_multi_weight,
                           "mask_aux": args.dit_mask_aux, "mask_aux_block": args.dit_mask_aux_block,
                           "mask_aux_groups": args.dit_mask_aux_groups, "attn_ground": args.dit_attn_ground,
                           "attn_ground_any_order": args.dit_attn_ground_any_order,
                           "colour_bind": args.dit_colour_bind, "colour_bind_sigma": args.dit_colour_bind_sigma,
                           "colour_bind_frames": args.dit_colour_bind_frames,
                           "contrast_clips": args.dit_contrast_clips, "contrast_tau": args.dit_contrast_tau,
                           "contrast_kinds": list(args.dit_contrast_kinds), "contrast_sigma": args.dit_contrast_sigma,
                           "sigma_min": args.dit_sigma_min, "sigma_max": args.dit_sigma_max,
                           "freeze_text": args.dit_freeze_text}}

    def save():
        extra = {"text_aux": {"head": aux.head.state_dict(), "opt": aux_opt.state_dict()}} if aux is not None else {}
        if mask_aux is not None:
            extra["mask_aux"] = {"head": mask_aux.head.state_dict(), "opt": mask_opt.state_dict(), "block": mask_aux.block,
                                 "groups": mask_aux.groups}
        save_ckpt(ckpt, dit=dit.state_dict(), t5=t5.state_dict(), opt=opt.state_dict(), ema=ema, step=step, batch=B,
                  init_steps=init_steps, shift=shift, freeze_text=args.dit_freeze_text, history=history + [invocation()], **extra)

    while step < total and clock() < args.minutes * 60 and not STOP["requested"]:
        # Joint image and video training, as Wan is trained: every --dit-image-every'th step is
        # a batch of 4x as many stills, the first latent frame of each clip (the causal VAE
        # encodes pixel frame 0 alone, so it is exactly an image's latent), at about the cost of
        # a video batch. Stills carry what a frame shows (shape, colour, size, place) from
        # four times as many independent samples per step; videos alone carry the motion.
        image = args.dit_image_every > 0 and step % args.dit_image_every == args.dit_image_every - 1
        Bs = min(4 * B, N) if image else B
        stills += int(image)
        idx = np.sort(rng.choice(N, Bs, replace=False, p=draw))
        rows = lat[torch.from_numpy(idx).to(dev)] if torch.is_tensor(lat) else torch.from_numpy(np.asarray(lat[idx]))
        if image:
            rows = rows[:, :, :1]
        x0 = (rows.to(dev).float() - mean) / std
        ids = torch.from_numpy(ids_all[idx]).to(dev)
        drop = torch.from_numpy(rng.random(Bs) < 0.1).to(dev)  # CFG: 10% empty prompt (EOS only)
        ids = torch.where(drop.unsqueeze(1), torch.zeros_like(ids), ids)
        ids[drop, 0] = 1
        mask = (ids != 0).long()
        sigma = draw_sigma(Bs, shift, args.dit_sigma_min, args.dit_sigma_max, dev)
        noise = torch.randn_like(x0)
        s = sigma.view(Bs, 1, 1, 1, 1)
        xt = (1 - s) * x0 + s * noise
        target = noise - x0
        lr_max = args.lr or 3e-4
        # Cosine from lr_max to lr_max/10 over --decay-steps steps, or with --decay-steps 0 over
        # this invocation's --minutes (for a machine whose step rate is not known beforehand).
        done = step / max(1, args.decay_steps) if args.decay_steps > 0 else clock() / (args.minutes * 60)
        lr = lr_max * min(1.0, (step + 1) / warm) * (0.5 * (1 + math.cos(math.pi * min(1.0, done))) * 0.9 + 0.1)
        for g in opt.param_groups + [g for o in (aux_opt, mask_opt) if o is not None for g in o.param_groups]:
            g["lr"] = lr
        if mask_opt is not None and step < mask_warm_until:  # a fresh read-out learning alone: no warm-up
            for g in mask_opt.param_groups:
                g["lr"] = MASK_AUX_LR
        if ground is not None:
            ground.active = True  # keep this forward's cross-attention maps
        with autocast(dev, args.bf16):
            ctx = encode_text(t5, ids, mask)
            pred = dit(xt, sigma * 1000.0, ctx, seq_len(dit, xt))
        diff = pred.float() - target
        err = diff ** 2
        parts = {}
        mask_loss = gtarget = None
        if group_cover is not None:  # each named object's cover, for --dit-mask-aux-groups and --dit-attn-ground
            grow = group_cover[torch.from_numpy(idx).to(dev)] if torch.is_tensor(group_cover) else torch.from_numpy(np.asarray(group_cover[idx]))
            gtarget = grow.to(dev).float()[:, :, :xt.shape[2]] / 255  # [Bs, groups, F, 2H, 2W]
        if mask_aux is not None:  # before any other forward replaces the kept hidden state
            crow = cover[torch.from_numpy(idx).to(dev)] if torch.is_tensor(cover) else torch.from_numpy(np.asarray(cover[idx]))
            ctarget = crow.to(dev).float()[:, :xt.shape[2]] / 255  # [Bs, F, 2H, 2W]
            # Objects and the ring of cells around them weigh 5: most cells are background.
            near = F.max_pool2d(ctarget.flatten(0, 1).unsqueeze(1), 3, stride=1, padding=1).view_as(ctarget) > 0
            # A fresh read-out first learns alone for MASK_AUX_WARM steps, so that its first
            # gradients into the blocks are not a random head's.
            mask_loss, iou, gacc = mask_aux(xt.shape[2:], ctarget, 1 + 4 * near.float(), detach=step < mask_warm_until,
                                            group_target=gtarget)
            parts["loss_mask"], parts["mask_iou"] = mask_loss.item(), iou.item()
            if gacc is not None:
                parts["mask_group_acc"] = gacc.item()
        if ground is not None:
            grounded = ground.loss(xt.shape[2:], gtarget, ids)
            if grounded is not None:
                loss_ground, parts["attn_share"] = grounded.loss, grounded.share
                parts["loss_ground"] = loss_ground.item()
                if grounded.bind is not None:
                    parts["attn_bind"], parts["attn_bind_any"] = grounded.bind, grounded.bind_any
        if obj_masks is None:
            w = torch.ones_like(err[:, :1])
        else:
            # Objects cover a few percent of the latent cells; the background alone drove the
            # unweighted loss (first two releases: backgrounds right, objects faded). Cells with
            # object pixels weigh 1 + dit_obj_weight, normalised so the mean weight is 1.
            mrows = obj_masks[torch.from_numpy(idx).to(dev)] if torch.is_tensor(obj_masks) else torch.from_numpy(np.asarray(obj_masks[idx]))
            m = mrows.to(dev).float().unsqueeze(1)
            if image:
                m = m[:, :, :1]
            w = 1 + args.dit_obj_weight * m
            with torch.no_grad():  # the unweighted loss on object and on background cells, for the log
                parts.update(zip(("loss_obj", "loss_bg"), cell_losses(err, m)))
        loss = (err * w).mean() / w.mean()
        if mask_loss is not None:
            loss = loss + args.dit_mask_aux * mask_loss
        if ground is not None and grounded is not None:
            loss = loss + args.dit_attn_ground * loss_ground
        if colour is not None:
            coloured = colour.loss(xt - s * pred.float(), x0, gtarget, sigma, ~drop)
            if coloured is not None:
                loss = loss + args.dit_colour_bind * coloured.loss
                parts["loss_colour"], parts["colour_err"] = coloured.loss.item(), coloured.err
                if coloured.swap is not None:
                    parts["colour_swap"] = coloured.swap
        if aux is not None:
            got = aux(ctx, ids)
            if got is not None:
                loss = loss + args.dit_text_aux * got[0]
                parts["loss_text"], parts["text_acc"] = got[0].item(), got[1].item()
        if contrast is not None:
            # The same noised latents under an alternative prompt (shape or direction words
            # swapped, or colours passed between objects), for a few clips whose prompt was not
            # dropped, with objects, at sigma >= --dit-contrast-sigma (0.4: below it the latents
            # themselves show the shape and the place).
            sel, alts = [], []
            for j in rng.permutation(Bs):
                if len(sel) == args.dit_contrast_clips * (4 if image else 1):
                    break
                if bool(drop[j]) or float(sigma[j]) < args.dit_contrast_sigma or not bool(m[j].any()):
                    continue
                alt = contrast.alternative(ids_all[idx[j]], rng, image)
                if alt is not None:
                    sel.append(int(j))
                    alts.append(alt)
            if sel:
                alt_ids = np.zeros((len(sel), TEXT_LEN), dtype=np.int64)
                for r, a in enumerate(alts):
                    alt_ids[r, :len(a)] = a
                alt_ids = torch.from_numpy(alt_ids).to(dev)
                js = torch.tensor(sel, device=dev)
                with autocast(dev, args.bf16):
                    ctx_alt = encode_text(t5, alt_ids, (alt_ids != 0).long())
                    pred_alt = dit(xt[js], sigma[js] * 1000.0, ctx_alt, seq_len(dit, xt))
                c_loss, c_gap = contrast_loss(err[js], (pred_alt.float() - target[js]) ** 2, m[js], args.dit_contrast_tau)
                loss = loss + args.dit_contrast * c_loss
                parts["loss_contrast"], parts["contrast_gap"] = c_loss.item(), c_gap.item()
        if args.dit_motion_weight > 0 and not image:
            motion = frame_change_loss(diff, w)
            loss = loss + args.dit_motion_weight * motion
            parts["loss_motion"] = motion.item()
        opt.zero_grad(set_to_none=True)
        for o in (aux_opt, mask_opt):
            if o is not None:
                o.zero_grad(set_to_none=True)
        loss.backward()
        parts["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, 1.0))  # before clipping
        opt.step()
        for o in (aux_opt, mask_opt):
            if o is not None:
                o.step()
        step += 1
        with torch.no_grad():
            d = min(0.999, (1 + step) / (10 + step))
            moving = list(dit.state_dict().items()) + ([] if args.dit_freeze_text else [("t5." + k, v) for k, v in t5.state_dict().items()])
            for k, v in moving:
                ema[k].mul_(d).add_(v.detach().float(), alpha=1 - d)
        if step % 10 == 0:
            log(args.run, "dit", step=step, loss=loss.item(), **parts, lr=lr, sec=clock(), **({"still": 1} if image else {}))
        if step % 200 == 0:
            save()
    save()
    print(f"dit: {step} steps" + (f" ({stills} of this invocation's on stills)" if stills else "") + f", checkpoint {ckpt}", flush=True)


# ---------------------------------------------------------------------------------------
# Stage: recon (how well the VAE alone reproduces held-out clips, scored by the evaluator)

def denoise_from(dit, t5, z, ids, sigma0, guidance, steps, seed, shift):
    """SDEdit: noise the normalised latent z [1, C, F, H, W] to sigma0 (seeded), then sample back
    to sigma 0 with the DiT (Euler on the flow, sigmas shifted as in training, classifier-free
    guidance against the empty prompt). What a model makes of a clip's layout when it only has
    to finish it: from sigma0 near 0 this is the VAE ceiling, from 1 it is plain generation."""
    g = torch.Generator().manual_seed(seed)
    x = (1 - sigma0) * z + sigma0 * torch.randn(z.shape, generator=g).to(z.device)
    u0 = unshift_sigma(sigma0, shift)
    sig = [shift_sigma(u0 * (1 - k / steps), shift) for k in range(steps + 1)]
    ids2 = torch.cat([ids, torch.zeros_like(ids)])
    ids2[1, 0] = 1  # EOS only: the empty prompt
    with torch.no_grad():
        ctx = encode_text(t5, ids2, (ids2 != 0).long())
        for a, b in zip(sig[:-1], sig[1:]):
            v = dit(x.repeat(2, 1, 1, 1, 1), torch.full((2,), a * 1000.0, device=z.device), ctx,
                    seq_len(dit, x)).float()
            x = x + (b - a) * (v[1:] + guidance * (v[:1] - v[1:]))
    return x


def stage_recon(args):
    dev = device_of(args)
    if args.from_sigma is not None:
        # The DiT's ceiling from a noise level: a model folder's VAE, DiT and text encoder.
        reel = json.load(open(os.path.join(args.model, "reel.json")))
        vae = WanVAE_(**reel["vae"]).to(dev).eval()
        vae.load_state_dict(load_f32(os.path.join(args.model, "Wan2.1_VAE.safetensors")))
        dit, t5 = load_model_modules(args.model, dev, args.tokenizer)
        lat_mean = torch.tensor(reel["latents_mean"], device=dev).view(1, -1, 1, 1, 1)
        lat_std = torch.tensor(reel["latents_std"], device=dev).view(1, -1, 1, 1, 1)
        guidance = args.guidance if args.guidance is not None else reel["defaults"]["guidance"]
        shift = args.shift if args.shift is not None else reel["defaults"]["shift"]
    elif args.vae_init:
        vae = WanVAE_(**vae_config(args.run)).to(dev).eval()
        vae.load_state_dict(load_f32(args.vae_init))
    else:
        vae = load_vae(args.run, dev)
    N = args.count
    T, S = CLIP["frames"], CLIP["size"]
    last = "vae" if args.from_sigma is None else f"dit-from-{args.from_sigma:g}"
    dirs = {k: os.path.join(args.run, f"recon-{k}") for k in ("truth", last)}
    arrs = {}
    for k, d in dirs.items():
        os.makedirs(d, exist_ok=True)
        arrs[k] = np.lib.format.open_memmap(os.path.join(d, "clips.npy"), mode="w+", dtype=np.uint8, shape=(N, T, S, S, 3))
    caps = []
    err = 0.0
    stream = toy_data.stream(0, N, T, S, args.tokenizer if args.from_sigma is not None else None, TEXT_LEN, workers=args.workers)
    for i, (h, frames) in enumerate(stream):  # seeds 0..N-1: held out
        x = torch.from_numpy(toy_data.to_video(frames)).unsqueeze(0).to(dev)
        with torch.no_grad():
            mu, _ = vae.encode(x)
            if args.from_sigma is not None:
                ids = torch.zeros(1, TEXT_LEN, dtype=torch.long, device=dev)
                ids[0, :len(h["ids"])] = torch.tensor(h["ids"])
                z = denoise_from(dit, t5, (mu - lat_mean) / lat_std, ids, args.from_sigma, guidance, args.denoise_steps, i, shift)
                mu = z * lat_std + lat_mean
            rec = vae.decode(mu).clamp(-1, 1)[0]
        err += (rec - x[0]).abs().mean().item()
        arrs["truth"][i] = frames
        arrs[last][i] = ((rec.permute(1, 2, 3, 0).cpu().numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
        caps.append({"file": "clips.npy", "index": i, "caption": h["caption"]})
    for k, d in dirs.items():
        arrs[k].flush()
        with open(os.path.join(d, "captions.jsonl"), "w") as f:
            f.writelines(json.dumps(c) + "\n" for c in caps)
    print(f"recon: {N} clips, mean |rec - x| = {err / N:.4f} (range [-1, 1]); score with: "
          f"node bin/reel.js eval --videos {dirs[last]}  (and {dirs['truth']})", flush=True)


# ---------------------------------------------------------------------------------------
# Stage: probe (does the DiT use its prompt where the objects are?)

# Each word is swapped for the next in its list (singular and plural forms of the grammar's main
# shape nouns; the colour names), so a swapped prompt names another shape or colour, all else equal.
SWAP_SHAPES = [("ball", "square", "triangle", "star", "ring", "diamond", "heart", "cross"),
               ("balls", "squares", "triangles", "stars", "rings", "diamonds", "hearts", "crosses")]
SWAP_COLOURS = [("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black", "brown")]
# Direction and size-change words to their opposites (a camera pan's direction flips too).
SWAP_MOTIONS = [("left", "right"), ("leftward", "rightward"), ("up", "down"), ("upward", "downward"),
                ("upwards", "downwards"), ("top", "bottom"), ("upper", "lower"), ("rises", "falls"),
                ("rise", "fall"), ("rising", "falling"), ("grows", "shrinks"), ("grow", "shrink"),
                ("growing", "shrinking"), ("expands", "contracts"), ("expand", "contract"),
                ("expanding", "contracting")]


def swap_map(tokenizer_path, cycles):
    """{token id: token id} taking every word of `cycles` to the next word of its cycle."""
    vocab = {w: i for i, (w, _) in enumerate(json.load(open(tokenizer_path))["model"]["vocab"])}
    return {vocab["\u2581" + a]: vocab["\u2581" + b] for cyc in cycles for a, b in zip(cyc, cyc[1:] + cyc[:1])}


def stage_probe(args):
    """Flow-matching loss of a model folder's DiT on latent cells with objects and on background
    cells, at a few noise levels, with each clip's own prompt, the empty prompt and another
    clip's prompt. A DiT that has bound the prompt to the objects does clearly better on object
    cells with the true prompt than with the empty one (text_gain_obj); one that draws the
    background from the prompt but not the objects shows a gain on background cells only.
    shape_gain_obj / colour_gain_obj / motion_gain_obj compare the true prompt with the same
    prompt whose shape / colour words name other shapes / colours (motion: whose direction and
    grow/shrink words name the opposite), on the clips whose prompt the swap changed: near 0,
    the DiT ignores those words on the objects. binding_gain_obj: the same for the objects'
    colours passed on to each other (binding_swap), on multi-object clips of two or more colours:
    near 0 where the latents do not show the colours, the DiT does not tell which object a
    colour word is for.
    Clips: every 7th of the run's encoded training clips (the run must use the model's VAE)."""
    dev = device_of(args)
    torch.manual_seed(args.seed)
    model = args.model
    reel = json.load(open(os.path.join(model, "reel.json")))
    stats = json.load(open(os.path.join(args.run, "latent_stats.json")))
    if max(abs(a - b) for a, b in zip(stats["mean"], reel["latents_mean"])) > 1e-3:
        raise SystemExit(f"{args.run}'s latents were not encoded with {model}'s VAE (latent means differ)")
    dit, t5 = load_model_modules(model, dev, args.tokenizer)
    lat = np.load(os.path.join(args.run, "latents.npy"), mmap_mode="r")
    masks = np.load(os.path.join(args.run, "latent_masks.npy"), mmap_mode="r")
    meta = json.load(open(os.path.join(args.run, "latents.json")))
    N = meta["done"]
    idx = (np.arange(min(args.count, N)) * 7) % N
    B = len(idx)
    mean = torch.tensor(stats["mean"], device=dev).view(1, -1, 1, 1, 1)
    std = torch.tensor(stats["std"], device=dev).view(1, -1, 1, 1, 1)
    x0 = (torch.from_numpy(np.asarray(lat[idx], dtype=np.float32)).to(dev) - mean) / std
    m = torch.from_numpy(np.asarray(masks[idx], dtype=np.float32)).to(dev).unsqueeze(1)

    def ids_of(rows):
        a = np.zeros((len(rows), TEXT_LEN), dtype=np.int64)
        for i, r in enumerate(rows):
            a[i, :len(r)] = r
        return torch.from_numpy(a).to(dev)

    true_ids = [meta["ids"][i] for i in idx]
    swaps = {"shape": swap_map(args.tokenizer, SWAP_SHAPES), "colour": swap_map(args.tokenizer, SWAP_COLOURS),
             "motion": swap_map(args.tokenizer, SWAP_MOTIONS)}
    # The clips whose prompt a swap changes (a prompt without a direction word has no motion swap).
    changed = {w: torch.tensor([any(t in mp for t in r) for r in true_ids], device=dev) for w, mp in swaps.items()}
    prompts = {"true": ids_of(true_ids),
               "other": ids_of([meta["ids"][(i + N // 2) % N] for i in idx]),
               "empty": ids_of([[1]] * B),  # EOS only, as in training's prompt dropout
               **{f"{word}_swap": ids_of([[m.get(t, t) for t in r] for r in true_ids])
                  for word, m in swaps.items()}}
    # binding: the same words with the objects' colours passed on to each other (multi-object
    # prompts of two or more colours); a DiT that binds each colour to its object does better
    # with the true prompt wherever the latents do not already show the colours.
    cs = ContrastSwap(args.tokenizer, kinds=("binding",))
    bound = [binding_swap(r, set(cs.shape_of), cs.colour_ids) for r in true_ids]
    changed["binding"] = torch.tensor([b is not None for b in bound], device=dev)
    prompts["binding_swap"] = ids_of([r if b is None else b for b, r in zip(bound, true_ids)])
    rows = []
    for sigma in (0.99, 0.95, 0.8, 0.5, 0.2):  # 0.99: where the 4x latents' layout is still open
        g = torch.Generator(device=dev).manual_seed(args.seed + 1)
        noise = torch.randn(x0.shape, generator=g, device=dev)
        xt = (1 - sigma) * x0 + sigma * noise
        target = noise - x0
        row = {"sigma": sigma}
        errs = {}
        for name, ids in prompts.items():
            with torch.no_grad():
                ctx = encode_text(t5, ids, (ids != 0).long())
                pred = dit(xt, torch.full((B,), sigma * 1000.0, device=dev), ctx, seq_len(dit, xt))
            errs[name] = (pred.float() - target) ** 2
            obj, bg = cell_losses(errs[name], m)
            row[f"{name}_obj"], row[f"{name}_bg"] = round(obj, 4), round(bg, 4)
        for part in ("obj", "bg"):  # how much lower the loss is with the true prompt than with none
            row[f"text_gain_{part}"] = round(1 - row[f"true_{part}"] / row[f"empty_{part}"], 4)
        for word, k in changed.items():  # ... than with those words changed (on the clips they change)
            row[f"{word}_clips"] = int(k.sum().item())
            if not row[f"{word}_clips"]:
                row[f"{word}_gain_obj"] = None
                continue
            true_obj, swap_obj = (cell_losses(errs[n][k], m[k])[0] for n in ("true", f"{word}_swap"))
            row[f"{word}_gain_obj"] = round(1 - true_obj / max(swap_obj, 1e-12), 4)
        rows.append(row)
        print(json.dumps(row), flush=True)
    # The text encoder alone: does its output at "circle" look like its output at "ball"?
    words = word_separation(t5, meta["ids"][:3000], args.tokenizer, dev)
    print(json.dumps({"words": words}), flush=True)
    json.dump({"model": model, "clips": B, "rows": rows, "words": words},
              open(os.path.join(args.run, "probe.json"), "w"), indent=1)
    print(f"probe: {B} clips, written to {os.path.join(args.run, 'probe.json')}", flush=True)


def stage_readout(args):
    """How well a run's --dit-mask-aux-groups read-out tells the named objects apart, by noise
    level: on clips that show two or more of them (every 7th of the run's clips that do, up to
    --count), the share of cells mostly one object's that the read-out gives to that object,
    against always answering the first named object (the level of tokens that carry nothing of
    which object they show); and AttnGround's attn_share and attn_bind on those clips (whether
    the objects' words draw their attention from their own object's tokens; attn_bind_any: from
    one object each, in whichever order fits the clip best). Reads the
    checkpoint's raw DiT weights (the read-out trained on them) and writes RUN/readout.json."""
    dev = device_of(args)
    ckpt = os.path.join(args.run, "dit.pt")
    if not os.path.exists(ckpt):
        raise SystemExit(f"readout needs {ckpt}: train the run's DiT first")
    st = torch.load(ckpt, map_location=dev)
    saved = st.get("mask_aux")
    if not saved or not saved.get("groups", 0):
        raise SystemExit(f"{ckpt} has no read-out of the named objects: train it with --dit-mask-aux W "
                         "--dit-mask-aux-groups")
    cover = load_group_cover(args.run, "readout", None)
    T5_CONFIG["vocab"] = vocab_size(args.tokenizer)
    dit = WanModel(**dit_config(args.run)).to(dev).eval()
    dit.load_state_dict(st["dit"])
    t5 = T5Encoder(**T5_CONFIG).to(dev).eval()
    t5.load_state_dict(st["t5"])
    aux = MaskAux(dit, saved["block"], saved["groups"]).to(dev).eval()
    aux.head.load_state_dict(saved["head"])
    ground = AttnGround(dit, args.tokenizer)  # where the objects' words draw their attention from
    lat = np.load(os.path.join(args.run, "latents.npy"), mmap_mode="r")
    meta = json.load(open(os.path.join(args.run, "latents.json")))
    stats = json.load(open(os.path.join(args.run, "latent_stats.json")))
    count = args.count or 48
    pick = []
    for i in range(0, meta["done"], 7):  # [groups, F, 2H, 2W] per clip: 2+ groups with a mostly-covered cell
        if int((np.asarray(cover[i]).reshape(cover.shape[1], -1) > 127).any(axis=1).sum()) >= 2:
            pick.append(i)
            if len(pick) == count:
                break
    if not pick:
        raise SystemExit(f"readout: none of {args.run}'s clips (every 7th) shows two or more named objects, "
                         "so there is nothing to tell apart")
    idx = np.array(pick)
    mean = torch.tensor(stats["mean"], device=dev).view(1, -1, 1, 1, 1)
    std = torch.tensor(stats["std"], device=dev).view(1, -1, 1, 1, 1)
    x0 = (torch.from_numpy(np.asarray(lat[idx], dtype=np.float32)).to(dev) - mean) / std
    gt = torch.from_numpy(np.asarray(cover[idx])).float().to(dev) / 255  # [B, groups, F, 2H, 2W]
    ids = torch.zeros(len(idx), TEXT_LEN, dtype=torch.long, device=dev)
    for r, i in enumerate(idx):
        ids[r, :len(meta["ids"][i])] = torch.tensor(meta["ids"][i][:TEXT_LEN])
    top, which = gt.max(dim=1)
    first = round(float((which[top > 0.5] == 0).float().mean()), 4)
    rows = []
    with torch.no_grad():
        ctx = encode_text(t5, ids, (ids != 0).long())
        for sigma in (0.95, 0.9, 0.8, 0.6, 0.4):
            g = torch.Generator(device=dev).manual_seed(args.seed)
            xt = (1 - sigma) * x0 + sigma * torch.randn(x0.shape, generator=g, device=dev)
            hits = cells = 0
            shares, binds, binds_any = [], [], []
            for b in range(0, len(idx), 8):
                sl = slice(b, b + 8)
                ground.active = True
                dit(xt[sl], torch.full((len(xt[sl]),), sigma * 1000.0, device=dev), ctx[sl], seq_len(dit, xt))
                right, counted = group_hits(aux.logits(xt.shape[2:])[:, 1:], gt[sl])
                aux.hidden = None
                hits, cells = hits + right, cells + counted
                grounded = ground.loss(xt.shape[2:], gt[sl], ids[sl])
                if grounded is not None:
                    shares.append(grounded.share)
                    if grounded.bind is not None:
                        binds.append(grounded.bind)
                        binds_any.append(grounded.bind_any)
            rows.append({"sigma": sigma, "accuracy": round(hits / max(cells, 1), 4), "always_first": first,
                         "attn_share": round(float(np.mean(shares)), 4) if shares else None,
                         "attn_bind": round(float(np.mean(binds)), 4) if binds else None,
                         "attn_bind_any": round(float(np.mean(binds_any)), 4) if binds_any else None})
            print(json.dumps(rows[-1]), flush=True)
    json.dump({"checkpoint_step": st["step"], "block": saved["block"], "clips": len(idx), "rows": rows},
              open(os.path.join(args.run, "readout.json"), "w"), indent=1)
    print(f"readout: {len(idx)} clips showing 2+ named objects, block {saved['block']}'s read-out at step "
          f"{st['step']}, written to {os.path.join(args.run, 'readout.json')}", flush=True)


# ---------------------------------------------------------------------------------------
# Stage 4: export

def fit_preview(run, n=64):
    """Least-squares rgb ≈ W·z + b between normalised latents and the clip downsampled to the
    latent grid: the cheap preview projection reel shows while sampling."""
    lat = np.load(os.path.join(run, "latents.npy"), mmap_mode="r")
    stats = json.load(open(os.path.join(run, "latent_stats.json")))
    n = min(n, json.load(open(os.path.join(run, "latents.json")))["done"])
    zs, rgbs = [], []
    data = toy_data.stream(SEED_TRAIN, n, CLIP["frames"], CLIP["size"])
    mean = np.array(stats["mean"], dtype=np.float32)[:, None, None, None]
    std = np.array(stats["std"], dtype=np.float32)[:, None, None, None]
    C, (T, h, w) = len(stats["mean"]), lat.shape[2:]
    f = CLIP["size"] // h
    for i, (_, frames) in enumerate(data):
        z = (np.asarray(lat[i], dtype=np.float32) - mean) / std  # [C, T, h, w]
        v = toy_data.to_video(frames)[:, ::4][:, :T]  # [3, T, 128, 128] latent-frame times
        v = v.reshape(3, T, h, f, w, f).mean(axis=(3, 5))
        zs.append(z.reshape(C, -1).T)
        rgbs.append(v.reshape(3, -1).T)
    Z = np.concatenate(zs)
    Z1 = np.concatenate([Z, np.ones((Z.shape[0], 1), np.float32)], axis=1)
    R = np.concatenate(rgbs)
    sol, *_ = np.linalg.lstsq(Z1, R, rcond=None)
    return {"weight": sol[:C].T.round(5).tolist(), "bias": sol[C].round(5).tolist()}


def to_f16(sd):
    return {k: v.detach().float().to(torch.float16).contiguous() for k, v in sd.items()}


def same_tensors(mine, theirs):
    """Whether two state dicts hold the same names and values: mine as exported (fp16), theirs as
    read back from a model folder (float32)."""
    return set(mine) == set(theirs) and all(torch.equal(mine[k].float(), theirs[k]) for k in theirs)


def stage_export(args):
    dev = torch.device("cpu")
    out = args.out
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    T5_CONFIG["vocab"] = vocab_size(args.tokenizer)
    st = torch.load(os.path.join(args.run, "dit.pt"), map_location=dev)
    # EMA weights by default; --no-ema exports the raw weights (better for very short runs,
    # where the EMA still averages in the early steps).
    ema = st["ema"] if args.ema else {**st["dit"], **{"t5." + k: v for k, v in st["t5"].items()}}
    dit_sd = {k: v for k, v in ema.items() if not k.startswith("t5.")}
    t5_sd = {k[3:]: v for k, v in ema.items() if k.startswith("t5.")}
    # --high-noise-model / --low-noise-model: the other expert, (its DiT folder, its training record);
    # this run's DiT is then the low-noise / high-noise expert of a two-expert folder.
    role = EXPERTS[0] if args.high_noise_model else EXPERTS[1] if args.low_noise_model else None
    other = None
    if role:
        flag, given = ("--high-noise-model", args.high_noise_model) if role == EXPERTS[0] else ("--low-noise-model", args.low_noise_model)
        odir = os.path.join(given, role) if is_two_expert(given) else given
        oroot = expert_parent(odir) or odir
        oreel = json.load(open(os.path.join(oroot, "reel.json")))
        if not same_tensors(to_f16(t5_sd), load_f32(os.path.join(oroot, T5_FILE))):
            raise SystemExit(f"export {flag} {given}: this run's text encoder differs from its one; experts share one, "
                             "so train this expert with --dit-freeze-text from that model")
        if role == EXPERTS[0]:
            record = oreel["experts"]["high_noise_model_training"] if oroot != odir else oreel.get("training", {})
        else:  # a two-expert folder's `training` is its low-noise expert's
            record = oreel.get("training", {})
        other = (odir, record)
    vae = load_vae(args.run, dev)
    vst = torch.load(os.path.join(args.run, "vae.pt"), map_location="cpu")
    stats = json.load(open(os.path.join(args.run, "latent_stats.json")))
    if other:  # the experts denoise one latent space: the same VAE and latent statistics
        oroot = expert_parent(other[0]) or other[0]
        oreel = json.load(open(os.path.join(oroot, "reel.json")))
        if (not same_tensors(to_f16(vae.state_dict()), load_f32(os.path.join(oroot, "Wan2.1_VAE.safetensors")))
                or oreel.get("latents_mean") != stats["mean"] or oreel.get("latents_std") != stats["std"]):
            raise SystemExit(f"export: {oroot}'s VAE or latent statistics differ from this run's; the experts must share "
                             "one latent space")
    meta = {"generator": "reel training/train_toy.py", "steps": str(st["step"])}
    # One DiT in the folder itself, or (--high-noise-model) the two experts' folders; what the
    # other layout left in `out` goes, so that the folder is read as what was exported.
    for stale in ([DIT_FILE, "config.json"] if other else list(EXPERTS)):
        p = os.path.join(out, stale)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    mine_role = None if other is None else EXPERTS[1] if role == EXPERTS[0] else EXPERTS[0]
    dit_out = os.path.join(out, mine_role) if other else out
    if other:
        os.makedirs(os.path.join(out, role), exist_ok=True)
        os.makedirs(dit_out, exist_ok=True)
        for f in (DIT_FILE, "config.json"):
            shutil.copyfile(os.path.join(other[0], f), os.path.join(out, role, f))
    safetensors_io.save(os.path.join(dit_out, DIT_FILE), to_f16(dit_sd),
                        {**meta, "config": json.dumps(dit_config(args.run))})
    safetensors_io.save(os.path.join(out, "models_t5_reel-toy-enc-fp16.safetensors"), to_f16(t5_sd),
                        {**meta, "config": json.dumps(T5_CONFIG)})
    # Each file's "steps" is this run's steps of that part (the VAE's own, not the DiT's).
    safetensors_io.save(os.path.join(out, "Wan2.1_VAE.safetensors"), to_f16(vae.state_dict()),
                        {**meta, "steps": str(vst["step"]), "config": json.dumps(vae_config(args.run))})
    json.dump({"_class_name": "WanModel", **dit_config(args.run)}, open(os.path.join(dit_out, "config.json"), "w"), indent=2)
    with open(args.tokenizer) as f:
        tok = f.read()
    with open(os.path.join(out, "tokenizer", "tokenizer.json"), "w") as f:
        f.write(tok)
    reel = {
        "name": "reel-toy",
        "description": "reel's embedded model: a small Wan-architecture model trained on the procedural toy world",
        "t5": T5_CONFIG,
        "vae": vae_config(args.run),
        "latents_mean": stats["mean"],
        "latents_std": stats["std"],
        "defaults": {"steps": 20, "shift": args.shift if args.shift is not None else st.get("shift", TRAIN_SHIFT), "guidance": 2.5 if args.guidance is None else args.guidance, "frames": CLIP["frames"], "fps": CLIP["fps"],
                     "sizes": [[CLIP["size"], CLIP["size"]]], "sampler": "unipc", "negativePrompt": ""},
        "preview": fit_preview(args.run),
        # <stage>_steps: this run's; <stage>_steps_total: with the steps of the weights it warm-started from
        "training": {"dit_steps": st["step"], "dit_steps_total": st["step"] + st.get("init_steps", 0),
                     "ema": args.ema, "batch": st.get("batch", 32),
                     "clips": json.load(open(os.path.join(args.run, "latents.json")))["done"],
                     "vae_steps": vst["step"], "vae_steps_total": vst["step"] + vst.get("init_steps", 0),
                     # The checkpoint's invocations of `dit` (none recorded before this field existed)
                     **({"dit_invocations": st["history"]} if st.get("history") else {})},
    }
    if other:  # reel.json's `training` is the low-noise expert's, `experts` holds the high-noise one's
        mine = reel["training"]
        if role == EXPERTS[1]:  # this run is the high-noise expert; the VAE steps are this run's VAE's
            reel["training"] = {**other[1], **{k: mine[k] for k in ("vae_steps", "vae_steps_total")}}
        reel["experts"] = {"boundary": args.boundary, "high_noise_model_training": other[1] if role == EXPERTS[0] else mine}
    json.dump(reel, open(os.path.join(out, "reel.json"), "w"), indent=2)
    print(f"exported to {out}", flush=True)


def contrast_kinds(text):
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in CONTRAST_KINDS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated kinds of {', '.join(CONTRAST_KINDS)}")
    return kinds


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["vae", "latents", "masks", "dit", "export", "recon", "probe", "readout"])
    ap.add_argument("--run", required=True)
    ap.add_argument("--high-noise-model", default="",
                    help="export: write a two-expert model (Wan 2.2 A14B layout): this model folder's DiT (or its "
                         "high-noise expert) as high_noise_model/, this run's as low_noise_model/ (same text encoder)")
    ap.add_argument("--low-noise-model", default="",
                    help="export: the other way round: this run's DiT as high_noise_model/ (train it with --dit-sigma-min "
                         "and --dit-freeze-text), this model folder's DiT (or its low-noise expert) as low_noise_model/")
    ap.add_argument("--boundary", type=float, default=0.875,
                    help="export --high-noise-model/--low-noise-model: the noise level below which the low-noise expert runs")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "reel-toy"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "tokenizer.json"))
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--steps", type=int, default=None, help="stop at this many steps in all (0: none); default: --minutes decides")
    ap.add_argument("--shift", type=float, default=None,
                    help="dit: sigma shift of the training noise levels (default 3, or the checkpoint's; kept in it); "
                         "export: the sampling default (default: the checkpoint's); recon --from-sigma: the model's")
    ap.add_argument("--decay-steps", type=int, default=4000,
                    help="dit: cosine lr decay length in steps (counted from the run's start); 0: over this invocation's --minutes")
    ap.add_argument("--count", type=int, default=None, help="clips: latents 12000, recon 60, probe 32, readout 48 by default")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1,
                    help="renderer processes feeding vae/latents/masks/recon (1 here; on a many-core GPU host ~cores - 2)")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false", default=None,
                    help="no bf16 autocast (default: on with CUDA or a CPU with AVX512_BF16, where it is ~2x faster; "
                         "off elsewhere, where it is emulated and ~9x slower; slow for the VAE's small convs: use --no-bf16 there)")
    ap.add_argument("--cuda", action="store_true")
    ap.add_argument("--obj-weight", type=float, default=8.0, help="vae: extra loss weight on object pixels")
    ap.add_argument("--crop", type=int, default=64, help="vae: square crop size (multiple of 8)")
    ap.add_argument("--obj-crops", type=float, default=0.75, help="vae: fraction of crops centred on an object pixel")
    ap.add_argument("--window", type=int, default=17, help="vae: frames per training window (4n+1)")
    ap.add_argument("--vae-init", default="", help="vae/recon: start from these (fp16) VAE weights, e.g. a shipped model's")
    ap.add_argument("--decoder-only", action="store_true",
                    help="vae: train only the decoder (and conv2); the encoder, so the latents and a DiT trained on them, stay valid")
    ap.add_argument("--vae-texture", type=float, default=0.0,
                    help="vae: weight of the texture term (texture_gap: fine detail per 8x8 patch like the truth's, wherever "
                         "in the patch: luma and colour-difference energy, luma peak; 0: off, the gap is logged as tex either way)")
    ap.add_argument("--vae-dim", type=int, default=0, help="vae: base width of a new run's VAE (default 8); kept in RUN/vae_config.json")
    ap.add_argument("--vae-down", type=int, default=0, choices=[0, 4, 8],
                    help="vae: spatial downsampling of a new run's VAE, 8 (Wan 2.1, default) or 4 (one stage fewer: "
                         "32x32 latents); kept in RUN/vae_config.json. --vae-init from the other depth carries what fits")
    ap.add_argument("--dit-obj-weight", type=float, default=4.0, help="dit: extra loss weight on latent cells with objects (latent_masks.npy)")
    ap.add_argument("--dit-motion-weight", type=float, default=0.0,
                    help="dit: weight of an extra loss on the error's change between consecutive latent frames (0: none)")
    ap.add_argument("--dit-text-aux", type=float, default=0.0,
                    help="dit: weight of a loss that reads each shape/colour/size/speed/direction/motion word's value "
                         "from the text encoder's output (training/word_classes.json; 0: none)")
    ap.add_argument("--dit-contrast", type=float, default=0.0,
                    help="dit: weight of a loss asking the error on object cells to be lower under the clip's prompt than "
                         "under the same prompt with its shape (or direction) words swapped (0: none; one extra forward "
                         "and backward for --dit-contrast-clips clips per step)")
    ap.add_argument("--dit-contrast-kinds", type=contrast_kinds, default=("shape", "motion"),
                    help="dit: --dit-contrast's alternatives, comma-separated of shape (other shapes' words), motion "
                         "(opposite directions), binding (the objects' colours passed on to each other)")
    ap.add_argument("--dit-contrast-sigma", type=float, default=0.4,
                    help="dit: --dit-contrast only on clips noised at least this much")
    ap.add_argument("--dit-contrast-clips", type=int, default=4, help="dit: clips per step for --dit-contrast (x4 on still steps)")
    ap.add_argument("--dit-contrast-tau", type=float, default=0.05,
                    help="dit: --dit-contrast's scale, relative to the true prompt's error (the loss fades once the "
                         "alternative's error is several tau above it)")
    ap.add_argument("--dit-mask-aux", type=float, default=0.0,
                    help="dit: weight of a read-out of the objects' outlines (RUN/object_cover.npy, written by `masks`) "
                         "from the DiT's tokens after block --dit-mask-aux-block (MaskAux)")
    ap.add_argument("--dit-mask-aux-groups", action="store_true",
                    help="dit: --dit-mask-aux also reads out each named object's own outline (RUN/group_cover.npy, in "
                         "caption order): which object of the prompt a token shows, for binding each its colour")
    ap.add_argument("--dit-mask-aux-block", type=int, default=3, help="dit: the block (from 0) whose output --dit-mask-aux reads")
    ap.add_argument("--dit-attn-ground", type=float, default=0.0,
                    help="dit: weight of the cross-attention grounding loss (AttnGround): a named object's shape word and "
                         "the colour word before it should draw their attention from the tokens that object covers "
                         "(RUN/group_cover.npy; 0: off)")
    ap.add_argument("--dit-attn-ground-any-order", action="store_true",
                    help="dit: --dit-attn-ground lets each clip's objects take the noun phrases' words in whichever "
                         "order fits best (only that different objects draw different phrases' words): the DiT "
                         "cannot tell which object is the first named at high noise, and the evaluator matches by colour")
    ap.add_argument("--dit-colour-bind", type=float, default=0.0,
                    help="dit: weight of a loss on each named object's colour in the DiT's clean-latent estimate "
                         "(ColourBind: the preview map's rgb averaged over the object's cover, RUN/group_cover.npy), in "
                         "each clip's best order of the objects, so two objects must take different colours (0: off)")
    ap.add_argument("--dit-colour-bind-sigma", type=float, default=0.0,
                    help="dit: --dit-colour-bind only on clips noised at least this much")
    ap.add_argument("--dit-colour-bind-frames", action="store_true",
                    help="dit: --dit-colour-bind frame by frame: each latent frame's colour over the object's cover "
                         "there against the truth's there, so an object must also stay on its true path")
    ap.add_argument("--dit-sigma-max", type=float, default=1.0,
                    help="dit: train only at noise levels below this (the shifted draw cut there): a Wan 2.2-style "
                         "low-noise expert, e.g. 0.9 for an expert switched in at 0.875 (1: every level)")
    ap.add_argument("--dit-sigma-min", type=float, default=0.0,
                    help="dit: train only at noise levels above this (the shifted draw cut there): a high-noise expert, "
                         "e.g. 0.75 for an expert that hands over at 0.8 (0: every level)")
    ap.add_argument("--dit-freeze-text", action="store_true",
                    help="dit: keep the text encoder as it is (two experts share one; incompatible with --dit-text-aux)")
    ap.add_argument("--dit-image-every", type=int, default=0,
                    help="dit: every Nth step trains on 4x batch stills (each clip's first latent frame) instead of clips (0: never)")
    ap.add_argument("--dit-multi-weight", type=float, default=1.0,
                    help="dit: clips whose caption names more than one object are drawn this many times as often (35%% of "
                         "the training clips; the twelfth release drew the right count for 1 in 3 such prompts)")
    ap.add_argument("--dit-layers", type=int, default=0,
                    help="dit: blocks of a new run's DiT (default 6); kept in RUN/dit_config.json. With --dit-init from "
                         "fewer blocks, the extra blocks start as the identity (copies with zeroed output projections)")
    ap.add_argument("--dit-dim", type=int, default=0,
                    help="dit: width of a new run's DiT (default 192; ffn 4x, heads width/64); kept in RUN/dit_config.json")
    ap.add_argument("--dit-ffn", type=int, default=0,
                    help="dit: FFN hidden width of a new run's DiT (default 4x the width); a warm start may widen it (new units start silent)")
    ap.add_argument("--dit-patch", type=int, default=0, choices=[0, 1, 2, 4],
                    help="dit: spatial patch size of a new run's DiT (default 2; 4 over a --vae-down 4 run's latents gives "
                         "the tokens of 8x/2); a warm start from another patch size starts patch_embedding and head fresh")
    ap.add_argument("--dit-init", default="", help="dit: warm-start from another run's dit.pt or a model folder such as models/reel-toy (weights only)")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "reel-toy"), help="probe: the model folder to probe")
    ap.add_argument("--from-sigma", type=float, default=None,
                    help="recon: noise the held-out latents to this sigma (0-1] and let --model's DiT finish them")
    ap.add_argument("--denoise-steps", type=int, default=20, help="recon --from-sigma: Euler steps from sigma to 0")
    ap.add_argument("--guidance", type=float, default=None,
                    help="export: the model's default guidance scale, 2.5 if not given (2.5 beat 4 and 6 for the fourth release "
                         "on 60 held-out prompts; pick it with `reel eval --guidance`); recon --from-sigma: default the model's")
    ap.add_argument("--no-ema", dest="ema", action="store_false", help="export: raw weights instead of the EMA")
    args = ap.parse_args(argv)
    if args.high_noise_model and args.low_noise_model:
        ap.error("--high-noise-model with --low-noise-model: this run is one of the two experts; name the other")
    if not 0 < args.boundary < 1:
        ap.error(f"--boundary {args.boundary:g}: a noise level in (0, 1)")
    if not 0 < args.dit_sigma_max <= 1:
        ap.error(f"--dit-sigma-max {args.dit_sigma_max:g}: a noise level in (0, 1]")
    if not 0 <= args.dit_sigma_min < args.dit_sigma_max:
        ap.error(f"--dit-sigma-min {args.dit_sigma_min:g}: a noise level in [0, --dit-sigma-max {args.dit_sigma_max:g})")
    if args.dit_freeze_text and args.dit_text_aux > 0:
        ap.error("--dit-freeze-text with --dit-text-aux: the text term trains only the text encoder, which is frozen")
    if args.dit_colour_bind_frames and args.dit_colour_bind <= 0:
        ap.error("--dit-colour-bind-frames changes how --dit-colour-bind measures; give --dit-colour-bind W > 0 too")
    if args.from_sigma is not None and not 0 < args.from_sigma <= 1:
        ap.error(f"--from-sigma {args.from_sigma}: a noise level in (0, 1]")
    if args.dit_dim and (args.dit_dim < 64 or args.dit_dim % 64):
        ap.error(f"--dit-dim {args.dit_dim}: a multiple of 64 (heads of width 64)")
    if args.dit_layers < 0:
        ap.error(f"--dit-layers {args.dit_layers}: at least 1")
    if args.denoise_steps < 1:
        ap.error(f"--denoise-steps {args.denoise_steps}: at least 1")
    if args.count is None:
        args.count = {"latents": 12000, "recon": 60, "probe": 32}.get(args.stage, 0)
    if args.bf16 is None:
        args.bf16 = (args.cuda and torch.cuda.is_available()) or cpu_has("avx512_bf16")  # emulated (~9x slower) without it
    if args.stage in ("vae", "dit"):  # the loops that check STOP; other stages just die
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    tune_malloc()  # keep freed activations in the heap: ~6x faster VAE steps in these VMs
    set_threads(args.threads)  # torch and its OpenBLAS pool
    os.makedirs(args.run, exist_ok=True)
    {"vae": stage_vae, "latents": stage_latents, "dit": stage_dit, "export": stage_export, "recon": stage_recon,
     "probe": stage_probe, "masks": stage_masks, "readout": stage_readout}[args.stage](args)


if __name__ == "__main__":
    main(sys.argv[1:])
