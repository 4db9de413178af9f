"""Reads the toy world's clips from the TypeScript renderer (scripts/toy/stream.ts).

The world, its captions and the tokenizer live in TypeScript (src/toyworld, the reel-toy
tokenizer.json); training gets them through a pipe, so the model sees exactly the clips and
token ids that reel renders and tokenizes. Record format on the child's stdout:

    b"RTW1" | u32 little-endian header length | header JSON | frames·height·width·3 bytes (RGB)
    [| frames·height·width bytes when header["masks"]: 0 for the background, else 1 + the group
       (the noun phrase's place in the caption) of the object that covers the pixel]

header = {"seed", "caption", "ids" (token ids, EOS-terminated), "frames", "width", "height", "masks"}.
"""

import json
import os
import struct
import subprocess

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def stream_command(seed, count, stride, frames, size, tokenizer, text_len, node, masks):
    """The renderer's command line. REEL_TOY_NODE names another node binary and REEL_TOY_STREAM a
    bundled stream script (training/gpu/pack.sh builds both for a machine without reel's
    node_modules); by default: node bin/run-ts.js scripts/toy/stream.ts."""
    node = os.environ.get("REEL_TOY_NODE", node)
    script = os.environ.get("REEL_TOY_STREAM")
    args = [node, script] if script else [node, os.path.join(ROOT, "bin", "run-ts.js"), os.path.join(ROOT, "scripts", "toy", "stream.ts")]
    args += ["--seed", str(seed), "--count", str(count), "--stride", str(stride), "--frames", str(frames),
             "--size", str(size), "--text-len", str(text_len)]
    if tokenizer:
        args += ["--tokenizer", tokenizer]
    if masks:
        args += ["--masks"]
    return args


def read_records(out, masks):
    """Yields the records of one renderer's stdout (see the module docstring)."""
    while True:
        magic = out.read(4)
        if not magic:
            return
        if magic != b"RTW1":
            raise RuntimeError(f"toy stream: bad record magic {magic!r}")
        (n,) = struct.unpack("<I", out.read(4))
        header = json.loads(out.read(n).decode("utf-8"))
        T, H, W = header["frames"], header["height"], header["width"]
        size_bytes = T * H * W * 3
        buf = out.read(size_bytes)
        if len(buf) != size_bytes:
            raise RuntimeError("toy stream: truncated record")
        clip = np.frombuffer(buf, dtype=np.uint8).reshape(T, H, W, 3)
        if not masks:
            yield header, clip
            continue
        if not header.get("masks"):
            raise RuntimeError("toy stream: masks asked for, the record has none")
        mbuf = out.read(T * H * W)
        if len(mbuf) != T * H * W:
            raise RuntimeError("toy stream: truncated mask")
        yield header, clip, np.frombuffer(mbuf, dtype=np.uint8).reshape(T, H, W)


def stream(seed, count, frames=17, size=128, tokenizer=None, text_len=32, node="node", masks=False, workers=1):
    """Yields (header dict, uint8 array [T, H, W, 3]) for `count` scenes from `seed` on; with
    masks=True, (header, frames, uint8 array [T, H, W]: the renderer's object masks, 0 for the
    background, else 1 + the covering object's group).
    workers > 1 renders with that many node processes (worker j takes seeds seed + j + k·workers)
    and yields their clips interleaved, in seed order: the same records as one worker."""
    workers = max(1, min(workers, count)) if count > 0 else 1
    env = dict(os.environ, REEL_NO_REEXEC="1")
    procs = []
    try:
        for j in range(workers):
            n = (count - j + workers - 1) // workers  # seeds seed + j, seed + j + workers, ... below seed + count
            procs.append(subprocess.Popen(stream_command(seed + j, n, workers, frames, size, tokenizer, text_len, node, masks),
                                          stdout=subprocess.PIPE, env=env, bufsize=1 << 22))
        readers = [read_records(p.stdout, masks) for p in procs]
        for i in range(count):
            rec = next(readers[i % workers], None)
            if rec is None:
                raise RuntimeError(f"toy stream: worker {i % workers} ended early (clip {i} of {count})")
            yield rec
    finally:
        for p in procs:
            p.stdout.close()
        for p in procs:
            p.wait()
        for p in procs:
            if p.returncode not in (0, None, -15):
                raise RuntimeError(f"toy stream exited with {p.returncode}")


def to_video(frames_u8):
    """[T, H, W, 3] uint8 -> float32 [3, T, H, W] in [-1, 1]."""
    return np.ascontiguousarray(frames_u8.transpose(3, 0, 1, 2), dtype=np.float32) / 127.5 - 1.0
