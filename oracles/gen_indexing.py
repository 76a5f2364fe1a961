#!/usr/bin/python3
"""Oracle cases for Tangent's indexing, shaping, sort and scan ops.

Expected values come from NumPy 1.24 / PyTorch 1.13 (Debian's, run with
/usr/bin/python3). Fixed seeds: re-running gives the same file.

Writes oracles/data/indexing.json:
  {"generator": ..., "cases": [{"name", "op", "attrs", "inputs", "outputs", "error"?}]}
An input is {"dtype", "shape", "data"} (flat row-major; complex as [re, im];
NaN/inf as "nan"/"inf"/"-inf") plus an optional "view" list applied in
order to that base tensor: ["permute", perm], ["slice", axis, start, stop,
step] (null bounds are Python's None), ["expand", shape].
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "indexing.json")
NP = {"bool": np.bool_, "i32": np.int32, "i64": np.int64, "f32": np.float32, "f64": np.float64,
      "c64": np.complex64, "c128": np.complex128}
NAME = {np.dtype(v): k for k, v in NP.items()}
rng = np.random.default_rng(20240611)
cases = []


def enc_real(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def encode(a):
    a = np.array(a, order="C")        # ascontiguousarray would make 0-d 1-d
    d = NAME[a.dtype]
    flat = a.reshape(-1)
    if d == "bool":
        data = [bool(v) for v in flat]
    elif d in ("i32", "i64"):
        data = [int(v) for v in flat]
    elif d in ("c64", "c128"):
        data = [[enc_real(v.real), enc_real(v.imag)] for v in flat]
    else:
        data = [enc_real(v) for v in flat]
    return {"dtype": d, "shape": list(a.shape), "data": data}


def rand(dtype, shape, lo=-5, hi=5):
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if dtype in ("i32", "i64"):
        return rng.integers(lo, hi, size=shape).astype(NP[dtype])
    if dtype in ("c64", "c128"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(NP[dtype])
    return rng.standard_normal(shape).astype(NP[dtype])


def apply_view(a, view):
    for v in view or []:
        if v[0] == "permute":
            a = np.transpose(a, v[1])
        elif v[0] == "slice":
            sl = [slice(None)] * a.ndim
            sl[v[1]] = slice(v[2], v[3], v[4])
            a = a[tuple(sl)]
        elif v[0] == "expand":
            a = np.broadcast_to(a, v[1])
    return a


class In:
    """A base array plus the views the C side applies to it."""

    def __init__(self, base, view=None):
        self.base, self.view = base, view
        self.arr = apply_view(base, view)

    def json(self):
        j = encode(self.base)
        if self.view:
            j["view"] = self.view
        return j


def add(name, op, attrs, inputs, outputs=None, error=None):
    inputs = [i if isinstance(i, In) else In(i) for i in inputs]
    c = {"name": name, "op": op, "attrs": attrs, "inputs": [i.json() for i in inputs],
         "outputs": [encode(o) for o in (outputs or [])]}
    if error:
        c["error"] = error
    cases.append(c)


def raises(fn):
    try:
        fn()
    except Exception:
        return True
    return False


# ---- gather / scatter_add / index_select / one_hot ------------------------------
def np_gather(x, axis, idx):
    # torch semantics: x is only read where index has coordinates; trim, then
    # NumPy's take_along_axis (which also takes negative indices).
    sl = tuple(slice(0, idx.shape[d]) if d != axis % x.ndim else slice(None) for d in range(x.ndim))
    return np.take_along_axis(x[sl], idx.astype(np.int64), axis)


def np_scatter_add(x, axis, idx, src):
    axis %= x.ndim
    out = x.copy()
    size = x.shape[axis]
    grids = np.indices(idx.shape, sparse=True)
    pos = tuple((idx.astype(np.int64) % size if size else idx) if d == axis else grids[d] for d in range(x.ndim))
    sl = tuple(slice(0, s) for s in idx.shape)
    np.add.at(out, pos, src[sl])
    return out


def gather_case(name, x, axis, idx):
    xa = x.arr if isinstance(x, In) else x
    want = np_gather(xa, axis, idx)
    if (idx >= 0).all():
        t = torch.gather(torch.from_numpy(np.ascontiguousarray(xa)), axis, torch.from_numpy(idx.astype(np.int64)))
        assert np.array_equal(t.numpy(), want, equal_nan=True), name
    add(name, "gather", {"axis": axis}, [x, idx], [want])


for dt in ["f32", "f64", "i32", "i64", "bool", "c64", "c128"]:
    x = rand(dt, (3, 4))
    idx = rng.integers(-4, 4, size=(3, 5)).astype(np.int64)
    gather_case(f"gather/axis1_{dt}", x, 1, idx)
gather_case("gather/axis0_i32index", rand("f64", (4, 3)), 0, rng.integers(0, 4, size=(2, 3)).astype(np.int32))
gather_case("gather/neg_axis_smaller_index", rand("f32", (3, 4, 5)), -1,
            rng.integers(-5, 5, size=(2, 3, 7)).astype(np.int64))
gather_case("gather/permuted_input", In(rand("f64", (4, 3)), [["permute", [1, 0]]]), 1,
            rng.integers(0, 4, size=(3, 2)).astype(np.int64))
gather_case("gather/negative_stride", In(rand("c64", (5, 3)), [["slice", 0, None, None, -2]]), 0,
            rng.integers(-3, 3, size=(4, 3)).astype(np.int64))
gather_case("gather/empty_index", rand("f32", (3, 4)), 1, np.zeros((3, 0), np.int64))
gather_case("gather/size1", rand("i64", (1, 1)), 0, np.zeros((1, 1), np.int64))
add("gather/err_index_range", "gather", {"axis": 1}, [rand("f32", (2, 3)), np.array([[0, 3], [1, 0]])],
    error="TG_ERR_ARG")
assert raises(lambda: torch.gather(torch.zeros(2, 3), 1, torch.tensor([[0, 3], [1, 0]])))
add("gather/err_index_neg_range", "gather", {"axis": 0}, [rand("f32", (2, 3)), np.array([[-3, 0, 0]])],
    error="TG_ERR_ARG")
add("gather/err_index_dtype", "gather", {"axis": 0}, [rand("f32", (2, 3)), np.zeros((2, 3), np.float32)],
    error="TG_ERR_DTYPE")
add("gather/err_rank", "gather", {"axis": 0}, [rand("f32", (2, 3)), np.zeros((2,), np.int64)], error="TG_ERR_SHAPE")
add("gather/err_index_too_big", "gather", {"axis": 0}, [rand("f32", (2, 3)), np.zeros((2, 4), np.int64)],
    error="TG_ERR_SHAPE")
add("gather/err_axis", "gather", {"axis": 2}, [rand("f32", (2, 3)), np.zeros((2, 3), np.int64)], error="TG_ERR_ARG")


def scatter_case(name, x, axis, idx, src):
    want = np_scatter_add(x, axis, idx, src)
    if NAME[x.dtype] in ("f32", "f64", "i64"):
        t = torch.from_numpy(x.copy()).scatter_add(axis, torch.from_numpy(idx.astype(np.int64) % x.shape[axis]),
                                                   torch.from_numpy(src))
        assert np.allclose(t.numpy(), want), name
    add(name, "scatter_add", {"axis": axis}, [x, idx, src], [want])


for dt in ["f32", "f64", "i32", "i64", "bool", "c64", "c128"]:
    scatter_case(f"scatter_add/axis0_{dt}", rand(dt, (3, 4)), 0, rng.integers(-3, 3, size=(5, 4)), rand(dt, (5, 4)))
scatter_case("scatter_add/axis1_small_index", rand("f64", (3, 4)), 1, rng.integers(0, 4, size=(2, 6)),
             rand("f64", (3, 7)))
scatter_case("scatter_add/neg_axis_3d", rand("f32", (2, 3, 4)), -2, rng.integers(-3, 3, size=(2, 5, 4)).astype(np.int32),
             rand("f32", (2, 5, 4)))
scatter_case("scatter_add/empty", rand("f32", (2, 3)), 1, np.zeros((2, 0), np.int64), rand("f32", (2, 0)))
add("scatter_add/err_range", "scatter_add", {"axis": 0}, [rand("f32", (2, 2)), np.array([[2, 0]]), rand("f32", (1, 2))],
    error="TG_ERR_ARG")
add("scatter_add/err_src_dtype", "scatter_add", {"axis": 0},
    [rand("f32", (2, 2)), np.array([[1, 0]]), rand("f64", (1, 2))], error="TG_ERR_DTYPE")
add("scatter_add/err_src_small", "scatter_add", {"axis": 0},
    [rand("f32", (2, 2)), np.array([[1, 0]]), rand("f32", (1, 1))], error="TG_ERR_SHAPE")


def index_select_case(name, x, axis, idx):
    xa = x.arr if isinstance(x, In) else x
    want = np.take(xa, idx.astype(np.int64), axis=axis)
    if (idx >= 0).all() and xa.size:
        t = torch.index_select(torch.from_numpy(np.ascontiguousarray(xa)), axis, torch.from_numpy(idx.astype(np.int64)))
        assert np.array_equal(t.numpy(), want, equal_nan=True), name
    add(name, "index_select", {"axis": axis}, [x, idx], [want])


for dt in ["f32", "i32", "bool", "c128"]:
    index_select_case(f"index_select/axis1_{dt}", rand(dt, (2, 5, 3)), 1, np.array([4, 0, -1, 2, 2], np.int64))
index_select_case("index_select/neg_axis_i32", rand("f64", (3, 4)), -1, np.array([3, -4], np.int32))
index_select_case("index_select/transposed", In(rand("i64", (3, 4)), [["permute", [1, 0]]]), 0,
                  np.array([1, 1, 3], np.int64))
index_select_case("index_select/empty_index", rand("f32", (3, 4)), 0, np.zeros((0,), np.int64))
add("index_select/err_range", "index_select", {"axis": 0}, [rand("f32", (3, 2)), np.array([0, -4])], error="TG_ERR_ARG")
add("index_select/err_2d_index", "index_select", {"axis": 0}, [rand("f32", (3, 2)), np.zeros((1, 1), np.int64)],
    error="TG_ERR_SHAPE")
add("index_select/err_dtype", "index_select", {"axis": 0}, [rand("f32", (3, 2)), np.zeros((1,), np.bool_)],
    error="TG_ERR_DTYPE")

for name, idx, nc in [("one_hot/i64_2d", rng.integers(0, 4, size=(2, 3)), 4),
                      ("one_hot/i32_1d", rng.integers(0, 5, size=(6,)).astype(np.int32), 5),
                      ("one_hot/empty", np.zeros((0,), np.int64), 3)]:
    want = torch.nn.functional.one_hot(torch.from_numpy(idx.astype(np.int64)), nc).numpy()
    add(name, "one_hot", {"num_classes": nc}, [idx], [want])
add("one_hot/err_range", "one_hot", {"num_classes": 3}, [np.array([0, 3])], error="TG_ERR_ARG")
add("one_hot/err_negative", "one_hot", {"num_classes": 3}, [np.array([0, -1])], error="TG_ERR_ARG")
add("one_hot/err_dtype", "one_hot", {"num_classes": 3}, [np.array([0.0, 1.0])], error="TG_ERR_DTYPE")
assert raises(lambda: torch.nn.functional.one_hot(torch.tensor([0, 3]), 3))

# ---- concat / stack / split -----------------------------------------------------
def concat_case(name, xs, axis):
    arrs = [x.arr if isinstance(x, In) else x for x in xs]
    add(name, "concat", {"axis": axis}, xs, [np.concatenate(arrs, axis=axis)])


concat_case("concat/f32_axis0", [rand("f32", (2, 3)), rand("f32", (1, 3)), rand("f32", (4, 3))], 0)
concat_case("concat/neg_axis", [rand("f64", (2, 3)), rand("f64", (2, 1))], -1)
concat_case("concat/promote_i32_f32", [rand("i32", (2, 2)), rand("f32", (2, 3))], 1)
concat_case("concat/promote_i64_f32", [rand("i64", (2,)), rand("f32", (3,))], 0)
concat_case("concat/promote_bool_i32_c64", [rand("bool", (1, 2)), rand("i32", (1, 2)), rand("c64", (1, 2))], 0)
concat_case("concat/c128", [rand("c128", (2, 2)), rand("c128", (2, 2))], 1)
concat_case("concat/views", [In(rand("f32", (3, 2)), [["permute", [1, 0]]]),
                             In(rand("f32", (2, 5)), [["slice", 1, None, None, -2]])], 1)
concat_case("concat/with_empty", [rand("i64", (2, 0)), rand("i64", (2, 3)), rand("i64", (2, 0))], 1)
concat_case("concat/single", [rand("bool", (2, 3))], 0)
add("concat/err_shape", "concat", {"axis": 0}, [rand("f32", (2, 3)), rand("f32", (2, 4))], error="TG_ERR_SHAPE")
add("concat/err_rank", "concat", {"axis": 0}, [rand("f32", (2, 3)), rand("f32", (3,))], error="TG_ERR_SHAPE")
add("concat/err_axis", "concat", {"axis": 2}, [rand("f32", (2, 3)), rand("f32", (2, 3))], error="TG_ERR_ARG")
add("concat/err_0d", "concat", {"axis": 0}, [np.array(1.0), np.array(2.0)], error="TG_ERR_SHAPE")
assert raises(lambda: np.concatenate([np.zeros((2, 3)), np.zeros((2, 4))], 0))

for name, xs, axis in [("stack/axis0_f32", [rand("f32", (2, 3)) for _ in range(3)], 0),
                       ("stack/last_axis_c64", [rand("c64", (2, 3)) for _ in range(2)], -1),
                       ("stack/middle_i32", [rand("i32", (2, 3)) for _ in range(4)], 1),
                       ("stack/single_empty", [rand("f64", (0, 2))], 0)]:
    add(name, "stack", {"axis": axis}, xs, [np.stack(xs, axis=axis)])
add("stack/err_shape", "stack", {"axis": 0}, [rand("f32", (2, 3)), rand("f32", (3, 2))], error="TG_ERR_SHAPE")
add("stack/err_axis", "stack", {"axis": 3}, [rand("f32", (2, 3)), rand("f32", (2, 3))], error="TG_ERR_ARG")


def split_case(name, x, axis, n_out, sizes):
    xa = x.arr if isinstance(x, In) else x
    if sizes is None:
        pieces = np.split(xa, n_out, axis=axis)
    else:
        pieces = np.split(xa, np.cumsum(sizes)[:-1], axis=axis)
    add(name, "split", {"axis": axis, "n_out": n_out, "sizes": sizes}, [x], pieces)


split_case("split/equal_f32", rand("f32", (6, 2)), 0, 3, None)
split_case("split/sizes_c128", rand("c128", (2, 7)), -1, 3, [2, 0, 5])
split_case("split/view_input", In(rand("i32", (4, 6)), [["permute", [1, 0]]]), 0, 2, None)
split_case("split/one_piece", rand("bool", (3,)), 0, 1, None)
add("split/err_uneven", "split", {"axis": 0, "n_out": 4, "sizes": None}, [rand("f32", (6, 2))], error="TG_ERR_SHAPE")
add("split/err_sum", "split", {"axis": 1, "n_out": 2, "sizes": [1, 2]}, [rand("f32", (2, 4))], error="TG_ERR_SHAPE")
add("split/err_negative", "split", {"axis": 1, "n_out": 2, "sizes": [5, -1]}, [rand("f32", (2, 4))],
    error="TG_ERR_ARG")
add("split/err_axis", "split", {"axis": -3, "n_out": 1, "sizes": None}, [rand("f32", (2, 4))], error="TG_ERR_ARG")
assert raises(lambda: np.split(np.zeros(6), 4))

# ---- pad / flip / tril / triu ----------------------------------------------------
def pad_case(name, x, pads, value):
    xa = x.arr if isinstance(x, In) else x
    want = np.pad(xa, np.array(pads, dtype=np.int64).reshape(-1, 2), constant_values=value)
    add(name, "pad", {"pads": pads, "value": value}, [x], [want])


pad_case("pad/f32_2d", rand("f32", (2, 3)), [1, 0, 2, 1], 0.5)
pad_case("pad/i32_3d", rand("i32", (2, 1, 2)), [0, 1, 1, 1, 0, 2], -7)
pad_case("pad/c64_value", rand("c64", (2,)), [2, 1], 3.0)
pad_case("pad/bool_ones", rand("bool", (2, 2)), [1, 1, 0, 0], 1)
pad_case("pad/no_pad_view", In(rand("f64", (3, 4)), [["slice", 1, None, None, -1]]), [0, 0, 0, 0], 9)
pad_case("pad/empty_input", rand("f64", (0, 2)), [1, 1, 0, 1], 2.0)
add("pad/err_negative", "pad", {"pads": [0, -1, 0, 0], "value": 0}, [rand("f32", (2, 3))], error="TG_ERR_ARG")

for name, x, axes in [("flip/all_f32", rand("f32", (2, 3, 4)), None),
                      ("flip/axis1_i64", rand("i64", (2, 3, 4)), [1]),
                      ("flip/neg_axes_c64", rand("c64", (3, 4)), [-1, 0]),
                      ("flip/bool_1d", rand("bool", (5,)), [0]),
                      ("flip/none", rand("f64", (2, 2)), [])]:
    add(name, "flip", {"axes": axes}, [x], [np.flip(x, axis=None if axes is None else tuple(axes))])
xv = In(rand("f64", (4, 3)), [["permute", [1, 0]], ["slice", 1, None, None, 2]])
add("flip/view_input", "flip", {"axes": [1]}, [xv], [np.flip(xv.arr, axis=1)])
add("flip/err_repeated", "flip", {"axes": [0, -2]}, [rand("f32", (2, 3))], error="TG_ERR_ARG")
add("flip/err_axis", "flip", {"axes": [2]}, [rand("f32", (2, 3))], error="TG_ERR_ARG")

for op, fn in [("tril", np.tril), ("triu", np.triu)]:
    for k in [0, 1, -1, 5, -5]:
        x = rand("f64", (3, 4))
        add(f"{op}/k{k}_f64", op, {"k": k}, [x], [fn(x, k)])
    x = rand("c64", (2, 3, 3))
    add(f"{op}/batched_c64", op, {"k": 0}, [x], [fn(x, 0)])
    x = rand("i32", (4, 2))
    add(f"{op}/tall_i32", op, {"k": -1}, [x], [fn(x, -1)])
    x = rand("bool", (3, 3))
    add(f"{op}/bool", op, {"k": 1}, [x], [fn(x, 1)])
    xv = In(rand("f32", (3, 4)), [["permute", [1, 0]]])
    add(f"{op}/transposed", op, {"k": 0}, [xv], [fn(xv.arr, 0)])
    add(f"{op}/empty", op, {"k": 0}, [rand("f32", (0, 3))], [fn(np.zeros((0, 3), np.float32), 0)])
    add(f"{op}/err_1d", op, {"k": 0}, [rand("f32", (3,))], error="TG_ERR_SHAPE")

# ---- sort / argsort / topk --------------------------------------------------------
def torch_sort(a, axis, desc):
    v, i = torch.sort(torch.from_numpy(np.ascontiguousarray(a)), dim=axis, descending=desc, stable=True)
    return v.numpy(), i.numpy()


def sort_case(name, x, axis, desc):
    xa = x.arr if isinstance(x, In) else x
    if desc:
        v, i = torch_sort(xa, axis, True)
    else:
        i = np.argsort(xa, axis=axis, kind="stable")
        v = np.sort(xa, axis=axis, kind="stable")
        if NAME[xa.dtype] != "bool":
            tv, ti = torch_sort(xa, axis, False)
            assert np.array_equal(tv, v, equal_nan=True) and np.array_equal(ti, i), name
    add(name, "sort", {"axis": axis, "descending": desc}, [x], [v, i.astype(np.int64)])
    add(name.replace("sort/", "argsort/"), "argsort", {"axis": axis, "descending": desc}, [x], [i.astype(np.int64)])


ties = np.array([[3, 1, 2, 1, 3, 0, 1], [5, 5, 5, 5, 5, 5, 5]], np.int64)
sort_case("sort/ties_asc_i64", ties, 1, False)
sort_case("sort/ties_desc_i64", ties, 1, True)
nan = np.array([[2.0, np.nan, -1.0, np.nan, 0.0, np.inf, -np.inf, 2.0]], np.float64)
sort_case("sort/nan_asc_f64", nan, -1, False)
sort_case("sort/nan_desc_f64", nan, -1, True)
sort_case("sort/nan_asc_f32", nan.astype(np.float32), 1, False)
for dt in ["f32", "i32", "bool"]:
    sort_case(f"sort/axis0_{dt}", rand(dt, (9, 3), -3, 3), 0, False)
    sort_case(f"sort/axis0_desc_{dt}", rand(dt, (9, 3), -3, 3), 0, True)
sort_case("sort/long_ties_f64", np.round(rng.standard_normal((2, 200)) * 3), 1, False)
sort_case("sort/long_ties_desc_i32", rng.integers(0, 10, size=(3, 150)).astype(np.int32), -1, True)
sort_case("sort/permuted", In(rand("f32", (5, 4)), [["permute", [1, 0]]]), 1, False)
sort_case("sort/negative_stride", In(rand("i64", (3, 8), -4, 4), [["slice", 1, None, None, -1]]), 1, True)
sort_case("sort/expanded", In(rand("f64", (1, 5)), [["expand", [3, 5]]]), 0, False)
sort_case("sort/empty", np.zeros((2, 0), np.float32), 1, False)
sort_case("sort/size1", rand("f32", (4, 1)), 1, True)
add("sort/err_complex", "sort", {"axis": 0, "descending": False}, [rand("c64", (3,))], error="TG_ERR_DTYPE")
add("sort/err_axis", "sort", {"axis": 2, "descending": False}, [rand("f32", (3, 2))], error="TG_ERR_ARG")
add("argsort/err_axis", "argsort", {"axis": -3, "descending": False}, [rand("f32", (3, 2))], error="TG_ERR_ARG")


def topk_case(name, x, k, axis, largest):
    xa = x.arr if isinstance(x, In) else x
    # Order: torch's stable sort (ties to the lower index); values checked
    # against torch.topk itself.
    v, i = torch_sort(xa, axis, largest)
    sl = [slice(None)] * xa.ndim
    sl[axis] = slice(0, k)
    v, i = v[tuple(sl)], i[tuple(sl)]
    tv, _ = torch.topk(torch.from_numpy(np.ascontiguousarray(xa)), k, dim=axis, largest=largest, sorted=True)
    assert np.array_equal(tv.numpy(), v, equal_nan=True), name
    add(name, "topk", {"k": k, "axis": axis, "largest": largest}, [x], [v, i.astype(np.int64)])


topk_case("topk/largest_f32", rand("f32", (3, 10)), 4, 1, True)
topk_case("topk/smallest_f64_axis0", rand("f64", (6, 3)), 2, 0, False)
topk_case("topk/ties_i64", ties, 3, 1, True)
topk_case("topk/ties_smallest_i64", ties, 3, -1, False)
topk_case("topk/nan_largest", nan, 3, 1, True)
topk_case("topk/nan_smallest", nan, 3, 1, False)
topk_case("topk/k0", rand("f32", (2, 5)), 0, 1, True)
topk_case("topk/k_all_i32", rand("i32", (2, 5)), 5, 1, False)
topk_case("topk/view", In(rand("f64", (4, 6)), [["slice", 1, None, None, -1]]), 2, 1, True)
add("topk/err_k_big", "topk", {"k": 6, "axis": 1, "largest": True}, [rand("f32", (2, 5))], error="TG_ERR_ARG")
add("topk/err_k_neg", "topk", {"k": -1, "axis": 1, "largest": True}, [rand("f32", (2, 5))], error="TG_ERR_ARG")
assert raises(lambda: torch.topk(torch.zeros(2, 5), 6, 1))

# ---- cumsum / cumprod ---------------------------------------------------------------
for op, fn in [("cumsum", np.cumsum), ("cumprod", np.cumprod)]:
    for dt in ["bool", "i32", "i64", "f32", "f64", "c64", "c128"]:
        x = rand(dt, (3, 5), -3, 4)
        add(f"{op}/axis1_{dt}", op, {"axis": 1}, [x], [fn(x, axis=1)])
    x = rand("f64", (4, 2, 3))
    add(f"{op}/axis0_3d", op, {"axis": 0}, [x], [fn(x, axis=0)])
    x = rand("f32", (4, 2, 3))
    add(f"{op}/neg_axis", op, {"axis": -2}, [x], [fn(x, axis=-2)])
    xv = In(rand("f64", (3, 5)), [["permute", [1, 0]], ["slice", 0, None, None, -1]])
    add(f"{op}/strided_view", op, {"axis": 0}, [xv], [fn(xv.arr, axis=0)])
    xv = In(rand("i32", (1, 4)), [["expand", [3, 4]]])
    add(f"{op}/expanded_i32", op, {"axis": 0}, [xv], [fn(xv.arr, axis=0)])
    add(f"{op}/empty", op, {"axis": 1}, [rand("f32", (2, 0))], [fn(np.zeros((2, 0), np.float32), axis=1)])
    x = np.array([[1.0, np.nan, 2.0]], np.float64)
    add(f"{op}/nan", op, {"axis": 1}, [x], [fn(x, axis=1)])
    add(f"{op}/err_axis", op, {"axis": 2}, [rand("f32", (2, 3))], error="TG_ERR_ARG")

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "oracles/gen_indexing.py", "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"{len(cases)} cases -> {OUT}")
