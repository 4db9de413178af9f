"""PyTorch peer for `npm run bench -- toy`: generates with reel-toy (or any model folder in the
reel-toy layout) through the reference modules, so reel's end-to-end time has a peer.

usage: /usr/bin/python3 reference/bench_toy.py --model DIR --ids IDS.json [--threads 2] [--reps 3]

IDS.json = {"prompts": [[token ids...], ...], "negative": [ids...]} (reel's tokenizer writes it;
Python has no umT5 tokenizer here). Per prompt, timed with perf_counter: umT5 encode of the
prompt and the negative prompt, `steps` flow-matching Euler steps with classifier-free guidance
(the conditional and unconditional passes batched, as the official code does not, to give the
peer its best case), latent de-normalisation and the VAE decode. Settings come from reel.json
defaults (steps, shift, guidance, frames, size). Prints one JSON line per run on stdout.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import safetensors_io  # noqa: E402
from bench_vae_t5 import set_threads, tune_malloc  # noqa: E402
from umt5 import T5Encoder  # noqa: E402
from wan_model import WanModel  # noqa: E402
from wan_vae import WanVAE_  # noqa: E402


def load(module, path):
    sd = {k: v.float() for k, v in safetensors_io.load(path)[0].items()}
    module.load_state_dict(sd)
    return module.eval()


def find(folder, prefix):
    names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".safetensors")]
    if len(names) != 1:
        raise SystemExit(f"{folder}: expected one {prefix}*.safetensors, found {names}")
    return os.path.join(folder, names[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    tune_malloc()
    set_threads(args.threads)
    reel = json.load(open(os.path.join(args.model, "reel.json")))
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    cfg.pop("_class_name", None)
    d = reel["defaults"]
    t0 = time.perf_counter()
    dit = load(WanModel(**cfg), os.path.join(args.model, "diffusion_pytorch_model.safetensors"))
    t5 = load(T5Encoder(**reel["t5"]), find(args.model, "models_t5_"))
    vae = load(WanVAE_(**reel["vae"]), find(args.model, "Wan2.1_VAE"))
    load_ms = (time.perf_counter() - t0) * 1000
    mean = torch.tensor(reel["latents_mean"]).view(1, -1, 1, 1, 1)
    std = torch.tensor(reel["latents_std"]).view(1, -1, 1, 1, 1)
    ids_in = json.load(open(args.ids))
    W, H = d["sizes"][0]
    F = (d["frames"] - 1) // 4 + 1
    shape = (cfg["out_dim"], F, H // 8, W // 8)
    seq_len = F * (H // 16) * (W // 16)
    steps, shift, g = d["steps"], d["shift"], d["guidance"]

    def ids_tensor(rows):
        L = cfg["text_len"]
        ids = torch.zeros(len(rows), L, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r[:L])
        return ids, (ids != 0).long()

    for rep in range(args.reps):
        for p, prompt_ids in enumerate(ids_in["prompts"]):
            gen = torch.Generator().manual_seed(p)
            t_start = time.perf_counter()
            with torch.no_grad():
                ids, mask = ids_tensor([prompt_ids, ids_in["negative"]])
                ctx = t5(ids, mask) * mask.unsqueeze(-1)
                x = torch.randn(shape, generator=gen)
                sig = torch.linspace(1, 0, steps + 1)
                sig = shift * sig / (1 + (shift - 1) * sig)
                for i in range(steps):
                    s, s_next = sig[i].item(), sig[i + 1].item()
                    v = dit(torch.stack([x, x]), torch.tensor([s * 1000] * 2), ctx, seq_len)
                    v = v[1] + g * (v[0] - v[1])
                    x = x + (s_next - s) * v
                video = vae.decode((x.unsqueeze(0) * std + mean)).clamp(-1, 1)
            ms = (time.perf_counter() - t_start) * 1000
            print(json.dumps({"peer": "torch", "rep": rep, "prompt": p, "ms": round(ms, 1), "load_ms": round(load_ms),
                              "frames": int(video.shape[2]), "size": [int(video.shape[4]), int(video.shape[3])]}), flush=True)


if __name__ == "__main__":
    main()
