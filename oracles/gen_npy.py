#!/usr/bin/python3
"""Oracle data for tensor/io_npy.c and tensor/io_print.c.

Run with Debian's NumPy:  /usr/bin/python3 oracles/gen_npy.py
Writes oracles/data/npy/*.npy (valid files written by NumPy, and corrupted
variants derived from them), oracles/data/npy/expected.json and
oracles/data/print.json.

expected.json: {"valid": {file: {"dtype", "shape", "values"}},
                "bad": {file: tg_status name}}
values are flat in C (row-major) order; complex values are [re, im] pairs;
NaN / inf as the strings "nan", "inf", "-inf"; bools as JSON booleans;
integers beyond 2**53 as decimal strings.
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NPY = os.path.join(HERE, "data", "npy")
TG_DTYPE = {"b": "bool", "i4": "i32", "i8": "i64", "f4": "f32", "f8": "f64",
            "c8": "c64", "c16": "c128", "f2": "f16"}


def tg_name(dt):
    dt = np.dtype(dt)
    return TG_DTYPE["b" if dt.kind == "b" else dt.kind + str(dt.itemsize)]


def enc_real(v):
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


def enc_values(a):
    flat = np.asarray(a).ravel(order="C")
    if flat.dtype.kind == "c":
        return [[enc_real(x.real), enc_real(x.imag)] for x in flat]
    return [enc_real(x) for x in flat.tolist()]


def header_bytes(text, version=(1, 0)):
    """A .npy prefix for a header dict text (padded as NumPy does)."""
    body = text.encode("latin1")
    lenfmt = "<H" if version[0] == 1 else "<I"
    pre = 6 + 2 + struct.calcsize(lenfmt)
    total = pre + len(body) + 1
    pad = (64 - total % 64) % 64
    body = body + b" " * pad + b"\n"
    return (b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, len(body)) + body)


def main():
    os.makedirs(NPY, exist_ok=True)
    for f in os.listdir(NPY):
        if f.endswith(".npy") or f == "expected.json":
            os.remove(os.path.join(NPY, f))
    valid, bad = {}, {}

    def save(name, a, version=None):
        path = os.path.join(NPY, name)
        with open(path, "wb") as fh:
            np.lib.format.write_array(fh, a, version=version, allow_pickle=False)
        valid[name] = {"dtype": tg_name(a.dtype), "shape": list(a.shape),
                       "values": enc_values(a)}

    def raw(name, data, status):
        with open(os.path.join(NPY, name), "wb") as fh:
            fh.write(data)
        bad[name] = status

    f64 = np.array([[1.0, -2.5, 3.25], [np.nan, np.inf, -np.inf]])
    i32 = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000
    i64 = np.array([0, -1, 2**40, -(2**62) + 7, 2**62 + 11], dtype=np.int64)
    f32 = np.array([[0.1, -0.5], [1e-30, 3.4e38], [np.nan, -0.0]], dtype=np.float32)
    c64 = np.array([1 + 2j, -0.5 - 0.25j, np.nan + 1j], dtype=np.complex64)
    c128 = np.array([[1 + 1j, 2 - 3j], [0.1j, -7.5]], dtype=np.complex128)
    f16 = np.array([0.1, -2.0, 65504.0, 6e-8, np.inf], dtype=np.float16)
    b = np.array([[True, False, True], [False, False, True]])
    base = {"bool": b, "i4": i32, "i8": i64, "f4": f32, "f8": f64,
            "c8": c64, "c16": c128, "f2": f16}
    for k, a in base.items():
        save(f"{k}.npy", a)
        if a.dtype.itemsize > 1:
            save(f"{k}_be.npy", a.astype(a.dtype.newbyteorder(">")))
        save(f"{k}_fortran.npy", np.asfortranarray(a.reshape(a.shape[0], -1)
                                                   if a.ndim == 1 else a))
    # Fortran order with more axes, big-endian Fortran, 0-d, empty, 8-d.
    save("f8_fortran_3d.npy", np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)))
    save("i4_be_fortran.npy", np.asfortranarray(i32.astype(">i4")))
    save("f8_scalar.npy", np.array(2.75))
    save("i8_scalar.npy", np.array(-42, dtype=np.int64))
    save("bool_scalar.npy", np.array(True))
    save("f4_empty.npy", np.zeros((0, 3), dtype=np.float32))
    save("i8_empty_1d.npy", np.zeros((0,), dtype=np.int64))
    save("c16_empty_fortran.npy", np.asfortranarray(np.zeros((2, 0), dtype=np.complex128)))
    save("f8_8d.npy", np.arange(16.0).reshape(1, 2, 1, 2, 1, 1, 2, 2))
    save("f8_v2.npy", np.arange(6.0).reshape(2, 3), version=(2, 0))
    save("i4_v3.npy", np.arange(5, dtype=np.int32), version=(3, 0))

    # ---- corrupted variants ----------------------------------------------
    good = open(os.path.join(NPY, "f8.npy"), "rb").read()
    hlen = struct.unpack("<H", good[8:10])[0]
    data = good[10 + hlen:]
    raw("bad_magic.npy", b"\x93NUMPZ" + good[6:], "TG_ERR_IO")
    raw("bad_version.npy", good[:6] + b"\x04\x00" + good[8:], "TG_ERR_IO")
    raw("empty_file.npy", b"", "TG_ERR_IO")
    raw("truncated_prefix.npy", good[:9], "TG_ERR_IO")
    raw("truncated_header.npy", good[:40], "TG_ERR_IO")
    raw("truncated_data.npy", good[:-5], "TG_ERR_IO")
    raw("header_len_past_end.npy", good[:8] + struct.pack("<H", 60000) + good[10:], "TG_ERR_IO")
    v2 = open(os.path.join(NPY, "f8_v2.npy"), "rb").read()
    raw("header_len_huge_v2.npy", v2[:8] + struct.pack("<I", 0xFFFFFFF0) + v2[12:], "TG_ERR_IO")

    def crafted(name, text, status, payload=data, version=(1, 0)):
        raw(name, header_bytes(text, version) + payload, status)

    d = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }"
    crafted("lying_shape.npy", d % "(4, 3)", "TG_ERR_IO")
    crafted("missing_shape.npy", "{'descr': '<f8', 'fortran_order': False, }", "TG_ERR_IO")
    crafted("missing_descr.npy", "{'fortran_order': False, 'shape': (2, 3), }", "TG_ERR_IO")
    crafted("extra_key.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1, }", "TG_ERR_IO")
    crafted("duplicate_key.npy", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", "TG_ERR_IO")
    crafted("bad_shape_tuple.npy", d % "(2, x)", "TG_ERR_IO")
    crafted("bad_shape_list.npy", d % "[2, 3]", "TG_ERR_IO")
    crafted("unclosed_tuple.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3}", "TG_ERR_IO")
    crafted("negative_dim.npy", d % "(-2, 3)", "TG_ERR_SHAPE")
    crafted("overflow_dim.npy", d % "(99999999999999999999999, 3)", "TG_ERR_SHAPE")
    crafted("overflow_numel.npy", d % "(4294967296, 4294967296, 4)", "TG_ERR_SHAPE")
    crafted("seventeen_dims.npy", d % "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6)", "TG_ERR_SHAPE")
    crafted("bad_fortran.npy", "{'descr': '<f8', 'fortran_order': 0, 'shape': (2, 3), }", "TG_ERR_IO")
    crafted("unclosed_dict.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), ", "TG_ERR_IO")
    crafted("not_a_dict.npy", "(1, 2, 3)", "TG_ERR_IO")
    crafted("garbage_after_dict.npy", d % "(2, 3)" + " xyz", "TG_ERR_IO")
    crafted("unterminated_string.npy", "{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3)}", "TG_ERR_IO")
    crafted("uint8_dtype.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (48,), }", "TG_ERR_IO")
    crafted("bad_byteorder.npy", "{'descr': '|f8', 'fortran_order': False, 'shape': (2, 3), }", "TG_ERR_IO")
    # Trailing bytes after the data are allowed (NumPy ignores them too).
    with open(os.path.join(NPY, "trailing_garbage.npy"), "wb") as fh:
        fh.write(good + b"garbage")
    valid["trailing_garbage.npy"] = dict(valid["f8.npy"])
    # dtypes written by NumPy itself that Tangent does not have.
    with open(os.path.join(NPY, "object_dtype.npy"), "wb") as fh:
        np.lib.format.write_array(fh, np.array([1, "a", None], dtype=object), allow_pickle=True)
    bad["object_dtype.npy"] = "TG_ERR_IO"
    np.save(os.path.join(NPY, "string_dtype.npy"), np.array(["abc", "de"], dtype="<U3"))
    bad["string_dtype.npy"] = "TG_ERR_IO"
    np.save(os.path.join(NPY, "structured_dtype.npy"),
            np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]))
    bad["structured_dtype.npy"] = "TG_ERR_IO"

    with open(os.path.join(NPY, "expected.json"), "w") as fh:
        json.dump({"valid": valid, "bad": bad}, fh, indent=1, sort_keys=True)

    # ---- printing -----------------------------------------------------------
    cases = [
        ("ints", np.array([1, 2, 3])),
        ("ints_neg", np.array([-5, 10, 100])),
        ("ints_2d", np.array([[1, 2, 3], [4, 50, -6]])),
        ("ints_3d", np.arange(24).reshape(2, 3, 4)),
        ("i32", np.array([7, -123], dtype=np.int32)),
        ("bools", np.array([True, False, True])),
        ("bools_all_true", np.array([True, True])),
        ("bools_2d", np.array([[True], [False]])),
        ("floats_simple", np.array([1.0, 2.5, 3.0])),
        ("floats_integral", np.array([1.0, 2.0, -3.0])),
        ("floats_mixed", np.array([0.1, 0.25, -3.0, 100.125])),
        ("floats_2d", np.array([[1.5, -20.0], [0.001, 3.0]])),
        ("floats_third", np.array([1 / 3, 2 / 3, 1.0])),
        ("floats_exp_small", np.array([1e-5, 1.0])),
        ("floats_exp_mixed", np.array([1.5e-5, 2.0, -3.25])),
        ("floats_exp_large", np.array([1e10, 1.0, 123456.0])),
        ("floats_ratio", np.array([0.5, 2000.0])),
        ("floats_nonfinite", np.array([np.nan, 1.0, -np.inf])),
        ("floats_only_nan", np.array([np.nan, np.inf])),
        ("floats_negzero", np.array([-0.0, 1.5])),
        ("floats_zeros", np.zeros(3)),
        ("f32", np.array([0.1, 0.2, 1.0], dtype=np.float32)),
        ("f32_2d", np.array([[3.14159265, 2.0], [-1.0, 1e6]], dtype=np.float32)),
        ("f16", np.array([0.1, 0.5, -2.0], dtype=np.float16)),
        ("complex", np.array([1 + 2j, 3 - 4.5j])),
        ("complex_2d", np.array([[1 + 0j, 0.5 - 1j], [-2 + 2.25j, 0j]])),
        ("c64", np.array([0.1 + 0.2j, -1j], dtype=np.complex64)),
        ("complex_nan", np.array([complex(np.nan, 1), complex(1, np.inf)])),
        ("wrap_ints", np.arange(30)),
        ("wrap_floats", np.linspace(0, 1, 20)),
        ("wrap_2d", np.arange(40.0).reshape(2, 20) / 7),
        ("summary_1d", np.arange(2000)),
        ("summary_2d", np.arange(2000.0).reshape(40, 50)),
        ("summary_3d", np.arange(1200).reshape(10, 10, 12)),
        ("summary_one_axis", np.arange(1002).reshape(2, 501)),
        ("empty", np.zeros((0, 3))),
        ("scalar_int", np.array(7)),
        ("scalar_float", np.array(1.5)),
        ("scalar_float_integral", np.array(2.0)),
        ("scalar_float_small", np.array(1.5e-5)),
        ("scalar_f32_large", np.array(72243088.0, dtype=np.float32)),
        ("scalar_complex", np.array(1 - 2.5j)),
        ("scalar_imag", np.array(2j)),
        ("scalar_bool", np.array(False)),
        ("f32_large_integral", np.array([72243088.0, 1.0], dtype=np.float32)),
        ("f16_large", np.array([-45056.0, 65504.0, np.inf], dtype=np.float16)),
        ("one", np.array([42.5])),
    ]
    out = []
    for name, a in cases:
        out.append({"name": name, "dtype": tg_name(a.dtype), "shape": list(a.shape),
                    "values": enc_values(a), "str": str(a), "repr": repr(a)})
    with open(os.path.join(HERE, "data", "print.json"), "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"{len(valid)} valid, {len(bad)} bad .npy files; {len(out)} print cases")


if __name__ == "__main__":
    main()
