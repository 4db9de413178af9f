"""Minimal safetensors reader/writer (numpy + torch only; no `safetensors` package).

Format: 8-byte little-endian u64 header length N, then N bytes of JSON
  {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}
then the raw little-endian row-major data; offsets are relative to the end of the header.

Supported dtypes: F32, F16, BF16, I64 (plus F64, I32, I16, I8, U8, BOOL for convenience).

`load` memory-maps the file (numpy copy-on-write memmap), so a multi-GB checkpoint is not
read into a second private copy: the returned tensors share the page cache until written.
"""

import json
import struct

import numpy as np
import torch

# safetensors dtype -> (numpy storage dtype, torch dtype, itemsize)
_DTYPES = {
    "F64": (np.float64, torch.float64, 8),
    "F32": (np.float32, torch.float32, 4),
    "F16": (np.float16, torch.float16, 2),
    "BF16": (np.int16, torch.bfloat16, 2),  # stored as raw 16-bit words, re-viewed in torch
    "I64": (np.int64, torch.int64, 8),
    "I32": (np.int32, torch.int32, 4),
    "I16": (np.int16, torch.int16, 2),
    "I8": (np.int8, torch.int8, 1),
    "U8": (np.uint8, torch.uint8, 1),
    "BOOL": (np.bool_, torch.bool, 1),
}
_TORCH_TO_ST = {v[1]: k for k, v in _DTYPES.items()}


def read_header(path):
    """Return (header dict without __metadata__, metadata dict, data start offset)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    return header, metadata, 8 + n


def iter_tensors(path, names=None, mmap=True):
    """Yield (name, torch.Tensor) one tensor at a time, in file order (see `load`)."""
    header, _, start = read_header(path)
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    for name, info in items:
        if names is not None and name not in names:
            continue
        st = info["dtype"]
        if st not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {st}")
        np_dt, t_dt, itemsize = _DTYPES[st]
        shape = tuple(int(s) for s in info["shape"])
        begin, end = (int(o) for o in info["data_offsets"])
        count = int(np.prod(shape)) if len(shape) else 1
        if end - begin != count * itemsize:
            raise ValueError(f"{path}: tensor {name}: {end - begin} bytes for shape {shape} {st}")
        if count == 0:
            yield name, torch.empty(shape, dtype=t_dt)
            continue
        offset = start + begin
        if mmap and offset % itemsize == 0:
            arr = np.memmap(path, dtype=np_dt, mode="c", offset=offset, shape=(count,))
        else:  # private, aligned copy
            arr = np.fromfile(path, dtype=np_dt, count=count, offset=offset)
        t = torch.from_numpy(arr)
        if t_dt == torch.bfloat16:
            t = t.view(torch.bfloat16)
        yield name, t.reshape(shape)


def load(path, names=None, mmap=True):
    """Load a safetensors file.

    Returns (dict name -> torch.Tensor, metadata dict str -> str).
    mmap=True: tensors are backed by a copy-on-write memory map where alignment allows (no
    private copy until written; pages are read lazily). mmap=False: each tensor is read into
    its own private array (np.fromfile). `names` optionally restricts which tensors are
    loaded. For a 1x-memory load into an existing model, use `iter_tensors(path,
    mmap=False)` and assign/convert tensor by tensor.
    """
    _, metadata, _ = read_header(path)
    return dict(iter_tensors(path, names, mmap)), dict(metadata)


def save(path, tensors, metadata=None):
    """Write a dict of tensors (F32/F16/BF16/I64/...) to a safetensors file."""
    names = sorted(tensors)
    header = {}
    prepared = []
    pos = 0
    for name in names:
        t = tensors[name]
        if not isinstance(t, torch.Tensor):
            t = torch.as_tensor(t)
        t = t.detach().to("cpu").contiguous()
        if t.dtype not in _TORCH_TO_ST:
            raise ValueError(f"tensor {name}: unsupported dtype {t.dtype}")
        st = _TORCH_TO_ST[t.dtype]
        if t.dtype == torch.bfloat16:
            arr = t.view(torch.int16).numpy()
        else:
            arr = t.numpy()
        nbytes = arr.size * arr.itemsize
        header[name] = {"dtype": st, "shape": list(t.shape), "data_offsets": [pos, pos + nbytes]}
        prepared.append(arr)
        pos += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)  # pad so data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for arr in prepared:
            if arr.size:
                f.write(memoryview(np.ascontiguousarray(arr)).cast("B"))
