#!/usr/bin/python3
"""Oracle data for the data-loading code: tensor/io_safetensors.c and nn/idx.c.

Run with Debian's Python:  /usr/bin/python3 oracles/gen_safetensors.py

Writes
  oracles/data/safetensors/reference.safetensors
      a safetensors file written here by hand (Debian lacks the `safetensors`
      package), following the format's specification: u64 little-endian
      header length N, N bytes of JSON padded with spaces so that 8 + N is a
      multiple of 8, then the data buffer. One tensor per safetensors dtype
      Tangent reads (BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64), a 0-d
      and an empty tensor, and "__metadata__". The data are laid out in an
      order different from the header's order (the offsets still tile the
      buffer), so a reader must honour data_offsets.
  oracles/data/safetensors.json
      {"file", "order": [names in header order],
       "tensors": {name: {"st_dtype", "dtype" (Tangent's), "shape", "values"}}}
      values flat in C order; i64 as decimal strings; NaN / inf as strings.
      BF16 values come from torch's bfloat16 rounding, F16 from NumPy's.
  oracles/data/idx_fashion_mnist.json
      facts about /usr/share/datasets/fashion-mnist (Debian package
      dataset-fashion-mnist), computed with gzip + NumPy from the raw bytes:
      shapes, pixel sums, a position-weighted checksum, label histograms.
      Skipped (file not written) when the data set is not installed.
"""
import gzip
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
FMNIST = "/usr/share/datasets/fashion-mnist"
WEIGHT_MOD = 251    # checksum: sum_i pixel[i] * (i % 251) over the flat C-order index


def enc(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return v if abs(v) <= 2**53 else str(v)
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def reference_tensors():
    rng = np.random.default_rng(20240608)
    bf16 = torch.tensor([1.0, -3.14159, 1e30, 0.1], dtype=torch.bfloat16)
    out = [
        # name, st dtype, tangent dtype, ndarray of the file's element type, values as loaded
        ("weight.f32", "F32", "f32", rng.standard_normal((2, 3, 2)).astype("<f4")),
        ("b", "BOOL", "bool", np.array([True, False, True, True, False])),
        ("u8", "U8", "i32", np.array([[0, 1, 128], [200, 254, 255]], dtype="u1")),
        ("i8", "I8", "i32", np.array([-128, -1, 0, 127], dtype="i1")),
        ("i16", "I16", "i32", np.array([[-32768, 32767], [-2, 300]], dtype="<i2")),
        ("i32", "I32", "i32", np.array([-2**31, 2**31 - 1, 7], dtype="<i4")),
        ("i64", "I64", "i64", np.array([-2**63, 2**63 - 1, 12345678901234], dtype="<i8")),
        ("f16", "F16", "f16", np.array([[1.5, -1 / 3], [65504.0, 6e-8]], dtype="<f2")),
        ("bf16", "BF16", "bf16", bf16),
        ("f64", "F64", "f64", np.array([[np.pi, -np.e], [np.nan, -np.inf]], dtype="<f8")),
        ("scalar", "F32", "f32", np.array(2.5, dtype="<f4")),
        ("empty", "F64", "f64", np.zeros((0, 3), dtype="<f8")),
        ("name with \"quotes\" / ünïcode", "I32", "i32", np.arange(6, dtype="<i4").reshape(3, 2)),
    ]
    return out


def raw_bytes(a):
    if isinstance(a, torch.Tensor):       # bf16: its 16-bit patterns, little-endian
        return a.view(torch.int16).numpy().astype("<i2").tobytes()
    if a.dtype == np.bool_:
        return a.astype("u1").tobytes()
    return a.tobytes(order="C")


def values(a):
    if isinstance(a, torch.Tensor):
        return [enc(v) for v in a.float().numpy().astype(np.float64).ravel()]
    return [enc(v) for v in a.ravel()]


def write_reference():
    tensors = reference_tensors()
    # data in reverse header order: offsets are assigned back to front
    offsets, at = {}, 0
    for name, _, _, a in reversed(tensors):
        n = len(raw_bytes(a))
        offsets[name] = (at, at + n)
        at += n
    header = {"__metadata__": {"format": "pt", "generator": "oracles/gen_safetensors.py"}}
    for name, st, _, a in tensors:
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": list(offsets[name])}
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    buf = b"".join(raw_bytes(a) for _, _, _, a in reversed(tensors))
    os.makedirs(os.path.join(DATA, "safetensors"), exist_ok=True)
    with open(os.path.join(DATA, "safetensors", "reference.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(buf)
    expected = {
        "generator": "oracles/gen_safetensors.py", "numpy": np.__version__, "torch": torch.__version__,
        "file": "safetensors/reference.safetensors",
        "order": [name for name, _, _, _ in tensors],
        "tensors": {name: {"st_dtype": st, "dtype": dt, "shape": list(a.shape), "values": values(a)}
                    for name, st, dt, a in tensors},
    }
    with open(os.path.join(DATA, "safetensors.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08
    nd = raw[3]
    shape = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def write_fashion_mnist():
    if not os.path.isdir(FMNIST):
        print("gen_safetensors.py: %s missing; idx_fashion_mnist.json not written" % FMNIST)
        return
    facts = {"generator": "oracles/gen_safetensors.py", "numpy": np.__version__, "dir": FMNIST,
             "weight_mod": WEIGHT_MOD, "files": {}}
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"]:
        a = read_idx(os.path.join(FMNIST, name)).astype(np.int64)
        flat = a.ravel()
        w = np.arange(flat.size, dtype=np.int64) % WEIGHT_MOD
        fact = {"shape": list(a.shape), "sum": int(flat.sum()), "min": int(flat.min()), "max": int(flat.max()),
                "weighted_sum": int((flat * w).sum()), "first": [int(v) for v in flat[:16]]}
        if a.ndim == 3:
            fact["zeros"] = int((flat == 0).sum())
            fact["image_sums"] = {str(i): int(a[i].sum()) for i in [0, 1, 4567, a.shape[0] - 1]}
            fact["image0_row14"] = [int(v) for v in a[0, 14]]
        else:
            fact["histogram"] = [int(v) for v in np.bincount(flat, minlength=10)]
        facts["files"][name] = fact
    with open(os.path.join(DATA, "idx_fashion_mnist.json"), "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write_reference()
    write_fashion_mnist()
