"""Reference for reel's Wan 2.2 TI2V image preprocessing (src/pipelines/ti2v-image.ts,
src/media/pil-resize.ts): Pillow LANCZOS resizes and the official best_output_size + resize +
centre crop, on deterministic patterns, written as sha256 digests of the output bytes.

Run with Debian's Pillow (apt python3-pil): /usr/bin/python3 reference/ti2v_image.py
> src/pipelines/ti2v-image.ref.json. best_output_size and the i2v steps are transcribed from
Wan-Video/Wan2.2 wan/utils/utils.py and wan/textimage2video.py (reference only, not shipped).
"""
import hashlib
import json
import sys

import PIL
from PIL import Image


def pattern(w, h, seed):
    # same formula as the test: an LCG over bytes
    x = seed
    out = bytearray(w * h * 3)
    for i in range(len(out)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 255
    # overlay a smooth gradient on the first channel so the picture is not pure noise
    for y in range(h):
        for xx in range(w):
            out[(y * w + xx) * 3] = (xx * 255 // max(1, w - 1) + y * 3) & 255
    return Image.frombytes("RGB", (w, h), bytes(out))


def best_output_size(w, h, dw, dh, expected_area):
    ratio = w / h
    ow = (expected_area * ratio) ** 0.5
    oh = expected_area / ow
    ow1 = int(ow // dw * dw)
    oh1 = int(expected_area / ow1 // dh * dh)
    ratio1 = ow1 / oh1
    oh2 = int(oh // dh * dh)
    ow2 = int(expected_area / oh2 // dw * dw)
    ratio2 = ow2 / oh2
    if max(ratio / ratio1, ratio1 / ratio) < max(ratio / ratio2, ratio2 / ratio):
        return ow1, oh1
    return ow2, oh2


def sha(img):
    return hashlib.sha256(img.tobytes()).hexdigest()


resizes = []
for (w, h, seed, ow, oh) in [(37, 23, 1, 20, 13), (37, 23, 2, 64, 40), (50, 30, 3, 50, 17), (50, 30, 4, 91, 30),
                             (64, 48, 5, 33, 61), (9, 7, 6, 200, 3)]:
    img = pattern(w, h, seed)
    resizes.append({"w": w, "h": h, "seed": seed, "ow": ow, "oh": oh, "sha256": sha(img.resize((ow, oh), Image.LANCZOS))})

sizes = []
for (w, h, area) in [(1920, 1080, 1280 * 704), (1080, 1920, 1280 * 704), (1000, 1000, 1280 * 704), (640, 480, 1280 * 704),
                     (48, 40, 64 * 32), (333, 1000, 704 * 1280), (1280, 720, 480 * 832), (4000, 1000, 1280 * 704)]:
    sizes.append({"w": w, "h": h, "area": area, "out": list(best_output_size(w, h, 32, 32, area))})

pipelines = []
for (w, h, seed, area) in [(150, 97, 7, 96 * 64), (97, 150, 8, 96 * 64), (120, 120, 9, 64 * 64)]:
    img = pattern(w, h, seed)
    ow, oh = best_output_size(w, h, 32, 32, area)
    scale = max(ow / w, oh / h)
    r = img.resize((round(w * scale), round(h * scale)), Image.LANCZOS)
    x1, y1 = (r.width - ow) // 2, (r.height - oh) // 2
    c = r.crop((x1, y1, x1 + ow, y1 + oh))
    pipelines.append({"w": w, "h": h, "seed": seed, "area": area, "out": [ow, oh], "sha256": sha(c)})

json.dump({"pillow": PIL.__version__, "resizes": resizes, "sizes": sizes, "pipelines": pipelines}, sys.stdout, indent=1)
print()
