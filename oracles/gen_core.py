#!/usr/bin/python3
"""Oracle cases for Tangent's tensor core (creation, unary, binary, cast,
reduce, views, matmul), written to oracles/data/<family>.json.

Expected values come only from NumPy 1.24 (with NEP 50 "weak" promotion),
SciPy and PyTorch; see oracles/README.md for the file format.
Run through oracles/regen.sh (Debian's /usr/bin/python3)."""
import json
import os
import sys
import warnings

import numpy as np

np._set_promotion_state("weak")   # NEP 50: no value-based casting, Python scalars are weak

import scipy.special as sps       # noqa: E402
import torch                      # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")
GEN = "oracles/gen_core.py"
warnings.filterwarnings("ignore", category=RuntimeWarning)   # NaN/inf results are intended

NP = {"bool": np.bool_, "i32": np.int32, "i64": np.int64, "f32": np.float32,
      "f64": np.float64, "c64": np.complex64, "c128": np.complex128, "f16": np.float16}
NAME = {np.dtype(v): k for k, v in NP.items()}
FLOATS = ["f32", "f64"]
CPLX = ["c64", "c128"]
INTS = ["i32", "i64"]
ALL = ["bool", "i32", "i64", "f32", "f64", "c64", "c128"]


def dname(a):
    return NAME[np.asarray(a).dtype]


def enc_f(v):
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return v


def tj(a):
    """An array as a JSON tensor (row-major data of its own dtype)."""
    a = np.asarray(a)
    d = dname(a)
    flat = a.ravel(order="C")
    if d == "bool":
        data = [bool(x) for x in flat]
    elif d in INTS:   # beyond 2^53 as strings: JSON readers go through doubles
        data = [int(x) if abs(int(x)) < 2 ** 53 else str(int(x)) for x in flat]
    elif d in CPLX:
        data = [[enc_f(x.real), enc_f(x.imag)] for x in flat]
    else:
        data = [enc_f(x) for x in flat]
    return {"dtype": d, "shape": list(a.shape), "data": data}


def view_np(a, steps):
    """NumPy version of the harness's view steps."""
    for st in steps or []:
        k = st[0]
        if k == "permute":
            a = a.transpose(st[1])
        elif k == "slice":
            idx = [slice(None)] * a.ndim
            idx[st[1]] = slice(st[2], st[3], st[4])
            a = a[tuple(idx)]
        elif k == "expand":
            shape = list(st[1])
            off = len(shape) - a.ndim
            shape = [a.shape[i - off] if s == -1 else s for i, s in enumerate(shape)]
            a = np.broadcast_to(a, shape)
        elif k == "diagonal":
            a = np.diagonal(a, st[1], st[2], st[3])
        elif k == "real":
            a = a.real
        elif k == "imag":
            a = a.imag
        else:
            raise ValueError(k)
    return a


class Family:
    def __init__(self, name, seed):
        self.name = name
        self.cases = []
        self.names = set()
        self.rng = np.random.default_rng(seed)

    def add(self, name, op, ins=(), fn=None, attrs=None, error=None, rtol=None, atol=None,
            xfail=None, shares=None, outs=None):
        """ins: arrays or (array, view steps); fn(*viewed inputs) -> output(s)."""
        assert name not in self.names, name
        self.names.add(name)
        jins, vals = [], []
        for x in ins:
            base, view = (x if isinstance(x, tuple) else (x, None))
            base = np.asarray(base)
            j = tj(base)
            if view:
                j["view"] = view
            jins.append(j)
            vals.append(view_np(base, view))
        c = {"name": name, "op": op, "attrs": attrs or {}, "inputs": jins}
        if error:
            c["error"] = error
        else:
            if outs is None:
                with np.errstate(all="ignore"):
                    outs = fn(*vals)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            c["outputs"] = [tj(o) for o in outs]
            if shares is not None:
                c["shares_memory"] = bool(shares)
        if rtol is not None:
            c["rtol"] = rtol
        if atol is not None:
            c["atol"] = atol
        if xfail:
            c["xfail"] = xfail
        self.cases.append(c)

    # random data ---------------------------------------------------------
    def rand(self, d, shape, lo=-2.0, hi=2.0):
        r = self.rng
        if d == "bool":
            return r.random(shape) < 0.5
        if d in INTS:
            return r.integers(int(np.floor(lo)), int(np.floor(hi)) + 1, size=shape).astype(NP[d])
        if d in FLOATS or d == "f16":
            return r.uniform(lo, hi, size=shape).astype(NP[d])
        return (r.uniform(lo, hi, size=shape) + 1j * r.uniform(lo, hi, size=shape)).astype(NP[d])

    def write(self):
        path = os.path.join(OUT, self.name + ".json")
        doc = {"generator": GEN, "numpy": np.__version__, "cases": self.cases}
        with open(path, "w") as f:
            f.write('{"generator": %s, "numpy": %s, "cases": [\n' % (json.dumps(GEN), json.dumps(np.__version__)))
            f.write(",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in doc["cases"]))
            f.write("\n]}\n")
        print("%-10s %4d cases  %7d bytes" % (self.name, len(self.cases), os.path.getsize(path)))


def hi_prec(a):
    """The input as f64 / c128 (Tangent computes float functions of ints and
    bools in f64)."""
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def float_result_dtype(d):
    return d if d in FLOATS + CPLX else "f64"


def via_hp(f, out_dtype):
    """f computed in f64/c128 and rounded to out_dtype: a reference more
    accurate than NumPy's own f32 loops."""
    def g(*xs):
        return np.asarray(f(*[hi_prec(x) for x in xs])).astype(NP[out_dtype])
    return g


# Standard input views: (base shape, view steps) giving non-contiguous,
# negative-stride and broadcast layouts.
V_T = ([4, 3], [["permute", [1, 0]]])                                  # -> (3, 4)
V_NEG = ([3, 5], [["slice", 1, None, None, -2]])                       # -> (3, 3), negative stride
V_BCAST = ([1, 4], [["expand", [3, 4]]])                               # -> (3, 4), stride 0
V_MIX = ([2, 3, 4], [["permute", [2, 0, 1]], ["slice", 0, 3, 0, -1]])  # -> (3, 2, 3)


# ============================================================ creation
def gen_creation():
    F = Family("creation", 1)
    for d in ALL:
        F.add("zeros/%s_2x3" % d, "zeros", attrs={"dtype": d, "shape": [2, 3]}, fn=lambda: np.zeros((2, 3), NP[d]))
        F.add("ones/%s_3" % d, "ones", attrs={"dtype": d, "shape": [3]}, fn=lambda: np.ones((3,), NP[d]))
    F.add("zeros/f32_empty", "zeros", attrs={"dtype": "f32", "shape": [0, 3]}, fn=lambda: np.zeros((0, 3), np.float32))
    F.add("zeros/f64_0d", "zeros", attrs={"dtype": "f64", "shape": []}, fn=lambda: np.zeros((), np.float64))
    F.add("ones/i64_1x1x2", "ones", attrs={"dtype": "i64", "shape": [1, 1, 2]}, fn=lambda: np.ones((1, 1, 2), np.int64))
    for d, v in [("f32", 2.5), ("f64", -1.25), ("i32", 7), ("i64", -3), ("bool", 1), ("c64", 0.5), ("c128", -2),
                 ("f32", "inf"), ("f64", "nan"), ("f32", 1e-3)]:
        fv = float(v)
        F.add("full/%s_%s" % (d, v), "full", attrs={"dtype": d, "shape": [2, 2], "value": enc_f(fv)},
              fn=lambda: np.full((2, 2), fv, NP[d]))
    F.add("full/i32_trunc_2.7", "full", attrs={"dtype": "i32", "shape": [3], "value": 2.7},
          fn=lambda: np.full((3,), 2.7).astype(np.int32))
    F.add("full/bool_0.5", "full", attrs={"dtype": "bool", "shape": [2], "value": 0.5},
          fn=lambda: np.full((2,), 0.5).astype(np.bool_))
    F.add("full/f32_empty", "full", attrs={"dtype": "f32", "shape": [2, 0], "value": 3.0},
          fn=lambda: np.full((2, 0), 3.0, np.float32))
    for d in CPLX:
        F.add("full_complex/%s" % d, "full_complex", attrs={"dtype": d, "shape": [2, 1], "re": 1.5, "im": -0.25},
              fn=lambda: np.full((2, 1), 1.5 - 0.25j, NP[d]))
    F.add("full_complex/f32_imag_error", "full_complex", attrs={"dtype": "f32", "shape": [2], "re": 1, "im": 2},
          error="TG_ERR_DTYPE")
    F.add("full_complex/f64_zero_imag", "full_complex", attrs={"dtype": "f64", "shape": [2], "re": 1, "im": 0},
          fn=lambda: np.full((2,), 1.0))
    for d, v in [("f32", 3.5), ("i64", -4), ("bool", 0), ("c128", 2)]:
        F.add("scalar/%s" % d, "scalar", attrs={"dtype": d, "value": v}, fn=lambda: np.array(v, NP[d]))
    F.add("scalar_complex/c64", "scalar_complex", attrs={"dtype": "c64", "re": -1, "im": 0.5},
          fn=lambda: np.array(-1 + 0.5j, np.complex64))
    x = F.rand("f32", [4, 3])
    F.add("zeros_like/f32_transposed", "zeros_like", [(x, [["permute", [1, 0]]])], fn=lambda a: np.zeros_like(a))
    xi = F.rand("i32", [2, 3])
    F.add("ones_like/i32", "ones_like", [xi], fn=lambda a: np.ones_like(a))
    xc = F.rand("c64", [3])
    F.add("full_like/c64", "full_like", [xc], attrs={"value": -2.5}, fn=lambda a: np.full_like(a, -2.5))
    F.add("full_like/i64_trunc", "full_like", [F.rand("i64", [2, 2])], attrs={"value": -2.5},
          fn=lambda a: np.full(a.shape, -2.5).astype(np.int64))
    F.add("full_like/f64_bcast", "full_like", [(F.rand("f64", [1, 3]), [["expand", [2, 3]]])], attrs={"value": 4},
          fn=lambda a: np.full((2, 3), 4.0))
    F.add("full_like/bool_empty", "full_like", [np.zeros((0, 2), np.bool_)], attrs={"value": 1},
          fn=lambda a: np.ones((0, 2), np.bool_))
    for n, m in [(3, -1), (2, 4), (4, 2), (0, -1), (1, 1), (3, 0)]:
        for d in ["f32", "i64", "bool", "c128"]:
            F.add("eye/%s_%dx%d" % (d, n, m), "eye", attrs={"dtype": d, "n": n, "m": m},
                  fn=lambda: np.eye(n, None if m < 0 else m, dtype=NP[d]))
    for d, a, b, s in [("f64", 0, 5, 1), ("f32", 0, 1, 0.1), ("f64", 1, -2, -0.5), ("i32", 0, 10, 3),
                       ("i64", -5, 5, 2), ("f64", 3, 3, 1), ("f64", 3, 1, 1), ("i32", 10, 0, -3),
                       ("f64", 0.5, 2.75, 0.25), ("f32", -1, 1, 0.3), ("c128", 0, 3, 1)]:
        F.add("arange/%s_%s_%s_%s" % (d, a, b, s), "arange", attrs={"dtype": d, "start": a, "stop": b, "step": s},
              fn=lambda: np.arange(a, b, s).astype(NP[d]) if d in INTS else np.arange(a, b, s, dtype=NP[d]))
    F.add("arange/step_zero", "arange", attrs={"dtype": "f64", "start": 0, "stop": 1, "step": 0}, error="TG_ERR_ARG")
    for d, a, b, n in [("f64", 0, 1, 5), ("f32", -1, 1, 7), ("f64", 2, -3, 4), ("f64", 0, 1, 1), ("f64", 0, 1, 0),
                       ("f32", 1, 1, 3), ("i64", 0, 10, 4), ("i32", -5, 5, 4), ("f64", 0, 1, 2), ("c128", 0, 2, 3)]:
        F.add("linspace/%s_%s_%s_%d" % (d, a, b, n), "linspace", attrs={"dtype": d, "start": a, "stop": b, "num": n},
              fn=lambda: np.linspace(a, b, n, dtype=NP[d]))
    F.add("linspace/negative_num", "linspace", attrs={"dtype": "f64", "start": 0, "stop": 1, "num": -1},
          error="TG_ERR_ARG")
    F.add("zeros/negative_size", "zeros", attrs={"dtype": "f32", "shape": [2, -1]}, error="TG_ERR_SHAPE")
    return F


# ============================================================ unary
# op -> (numpy function on f64/c128, real domain, defined for complex)
UNARY_FLOAT = {
    "reciprocal": (lambda x: 1 / x, (0.2, 3), True),
    "exp": (np.exp, (-3, 3), True),
    "expm1": (np.expm1, (-2, 2), True),
    "log": (np.log, (0.1, 5), True),
    "log1p": (np.log1p, (-0.9, 4), True),
    "log2": (np.log2, (0.1, 5), True),
    "log10": (np.log10, (0.1, 5), True),
    "sqrt": (np.sqrt, (0, 5), True),
    "rsqrt": (lambda x: 1 / np.sqrt(x), (0.1, 5), True),
    "sin": (np.sin, (-3, 3), True),
    "cos": (np.cos, (-3, 3), True),
    "tan": (np.tan, (-1.4, 1.4), True),
    "asin": (np.arcsin, (-0.99, 0.99), True),
    "acos": (np.arccos, (-0.99, 0.99), True),
    "atan": (np.arctan, (-3, 3), True),
    "sinh": (np.sinh, (-3, 3), True),
    "cosh": (np.cosh, (-3, 3), True),
    "tanh": (np.tanh, (-3, 3), True),
    "asinh": (np.arcsinh, (-3, 3), True),
    "acosh": (np.arccosh, (1.01, 5), True),
    "atanh": (np.arctanh, (-0.95, 0.95), True),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), (-5, 5), True),
    "gelu": (lambda x: 0.5 * x * (1 + sps.erf(x / np.sqrt(2))), (-4, 4), False),
    "silu": (lambda x: x * sps.expit(x), (-5, 5), False),
    "softplus": (lambda x: np.logaddexp(0, x), (-5, 5), False),
    "erf": (sps.erf, (-2.5, 2.5), False),
    "erfc": (sps.erfc, (-2.5, 2.5), False),
    "floor": (np.floor, (-3, 3), False),
    "ceil": (np.ceil, (-3, 3), False),
    "round": (np.rint, (-3, 3), False),
    "trunc": (np.trunc, (-3, 3), False),
}


def csign(z):
    r = np.abs(z)
    return np.where(r == 0, 0, z / np.where(r == 0, 1, r))


def gen_unary():
    F = Family("unary", 2)
    cdomain = (-1.2, 1.2)
    for op, (f, (lo, hi), has_c) in UNARY_FLOAT.items():
        for d in FLOATS:
            F.add("%s/%s_contig" % (op, d), op, [F.rand(d, [2, 3], lo, hi)], fn=via_hp(f, d))
            F.add("%s/%s_mix" % (op, d), op, [(F.rand(d, V_MIX[0], lo, hi), V_MIX[1])], fn=via_hp(f, d))
        F.add("%s/f64_neg_stride" % op, op, [(F.rand("f64", V_NEG[0], lo, hi), V_NEG[1])], fn=via_hp(f, "f64"))
        F.add("%s/f32_bcast" % op, op, [(F.rand("f32", V_BCAST[0], lo, hi), V_BCAST[1])], fn=via_hp(f, "f32"))
        F.add("%s/f32_empty" % op, op, [np.zeros((0, 3), np.float32)], fn=via_hp(f, "f32"))
        F.add("%s/f64_0d" % op, op, [np.array(F.rand("f64", [1], lo, hi)[0])], fn=via_hp(f, "f64"))
        ilo, ihi = max(lo, -3), min(hi, 3)
        if ihi - ilo >= 1 and not (op in ("log", "log2", "log10", "rsqrt", "reciprocal") and ilo <= 0):
            xi = np.arange(int(np.ceil(ilo)), int(np.floor(ihi)) + 1, dtype=np.int32)
            F.add("%s/i32_to_f64" % op, op, [xi], fn=via_hp(f, "f64"))
            F.add("%s/i64_to_f64" % op, op, [xi.astype(np.int64).reshape(1, -1)], fn=via_hp(f, "f64"))
        if op not in ("log", "log2", "log10", "rsqrt", "reciprocal", "acosh"):
            F.add("%s/bool_to_f64" % op, op, [np.array([True, False, True])], fn=via_hp(f, "f64"))
        if has_c:
            for d in CPLX:
                F.add("%s/%s_contig" % (op, d), op, [F.rand(d, [2, 3], *cdomain)], fn=via_hp(f, d))
            F.add("%s/c64_transposed" % op, op, [(F.rand("c64", V_T[0], *cdomain), V_T[1])], fn=via_hp(f, "c64"))
            F.add("%s/c128_neg_stride" % op, op, [(F.rand("c128", V_NEG[0], *cdomain), V_NEG[1])],
                  fn=via_hp(f, "c128"))
        else:
            F.add("%s/c64_error" % op, op, [F.rand("c64", [2])], error="TG_ERR_DTYPE")

    # special values, through f64 then rounded
    sp = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1.5, 2.5, -0.5, 1e-30, 100.0, -100.0])
    special_ops = ["exp", "expm1", "log", "log1p", "sqrt", "tanh", "sigmoid", "softplus", "erf", "erfc", "floor",
                   "ceil", "round", "trunc", "atan", "reciprocal", "sin", "sinh", "cosh", "asinh"]
    for op in special_ops:
        f = UNARY_FLOAT[op][0]
        for d in FLOATS:
            F.add("%s/%s_special" % (op, d), op, [sp.astype(NP[d])], fn=via_hp(f, d))
    fin = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-30, 3.0, -3.0])
    for op in ["gelu", "silu"]:
        f = UNARY_FLOAT[op][0]
        for d in FLOATS:
            F.add("%s/%s_special" % (op, d), op, [np.append(fin, [np.nan, np.inf]).astype(NP[d])], fn=via_hp(f, d))
    # softplus must be stable for large |x|
    big = np.array([-800.0, -100.0, -30.0, 30.0, 100.0, 800.0])
    F.add("softplus/f64_large", "softplus", [big], fn=via_hp(UNARY_FLOAT["softplus"][0], "f64"))
    F.add("softplus/f32_large", "softplus", [big.astype(np.float32)], fn=via_hp(UNARY_FLOAT["softplus"][0], "f32"))
    F.add("sigmoid/f64_large", "sigmoid", [big], fn=via_hp(sps.expit, "f64"))
    F.add("round/f64_half_even", "round", [np.array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 4.5000001, 1e16 + 2])],
          fn=np.rint)

    # sign-preserving / integer-friendly ops
    simple = {
        "neg": (np.negative, ["i32", "i64", "f32", "f64", "c64", "c128"]),
        "abs": (np.abs, ["bool", "i32", "i64", "f32", "f64", "c64", "c128"]),
        "sign": (None, ["i32", "i64", "f32", "f64", "c64", "c128"]),
        "square": (np.square, ["i32", "i64", "f32", "f64", "c64", "c128"]),
        "relu": (lambda x: np.where(x < 0, np.zeros((), x.dtype), x), ["i32", "i64", "f32", "f64"]),
    }
    for op, (f, dts) in simple.items():
        for d in dts:
            x = F.rand(d, [3, 4], -3, 3)
            if d in FLOATS:
                x.flat[:3] = [0.0, -0.0, np.nan]
            if d in CPLX:
                x.flat[0] = 0
                x.flat[1] = -2.0
            if op == "sign":
                g = (lambda a: csign(a).astype(a.dtype)) if d in CPLX else np.sign
            else:
                g = f
            F.add("%s/%s" % (op, d), op, [x], fn=g)
            F.add("%s/%s_view" % (op, d), op, [(F.rand(d, V_MIX[0], -3, 3), V_MIX[1])], fn=g)
        F.add("%s/empty" % op, op, [np.zeros((2, 0), np.int64)], fn=f or np.sign)
    F.add("neg/bool_error", "neg", [np.array([True])], error="TG_ERR_DTYPE")
    F.add("relu/c64_error", "relu", [F.rand("c64", [2])], error="TG_ERR_DTYPE")
    F.add("abs/c128_inf_nan", "abs", [np.array([complex(np.inf, np.nan), complex(3, -4), complex(-0.0, 0)])],
          fn=np.abs)
    F.add("abs/i32_min_wraps", "abs", [np.array([np.iinfo(np.int32).min, -5, 5], np.int32)], fn=np.abs)

    # complex-specific
    for d in ["c64", "c128", "f32", "i32", "bool"]:
        F.add("conj/%s" % d, "conj", [F.rand(d, [2, 3])],
              fn=lambda a: np.conj(a) if a.dtype.kind == "c" else a)     # real x: x itself
    F.add("conj/c64_view", "conj", [(F.rand("c64", V_MIX[0]), V_MIX[1])], fn=np.conj)
    for d in CPLX:
        x = F.rand(d, [2, 4])
        x.flat[:4] = [0, -1, complex(-1, -0.0), complex(0, 1)]
        F.add("angle/%s" % d, "angle", [x], fn=np.angle)
    angle_real = np.array([1.5, -2.0, 0.0, -0.0, np.inf, -np.inf, np.nan])
    for d in FLOATS:
        F.add("angle/%s" % d, "angle", [angle_real.astype(NP[d])],
              fn=lambda a: np.arctan2(np.zeros_like(a), a))
    F.add("angle/i32_to_f64", "angle", [np.array([-3, 0, 4], np.int32)],
          fn=lambda a: np.arctan2(0.0, a.astype(np.float64)))

    # predicates
    fx = np.array([np.nan, np.inf, -np.inf, 0.0, -1.5, 2.0])
    cx = np.array([complex(np.nan, 0), complex(0, np.inf), complex(1, 2), 0, complex(-np.inf, np.nan), -1j])
    for op, f in [("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite), ("logical_not", np.logical_not)]:
        for d in FLOATS:
            F.add("%s/%s" % (op, d), op, [fx.astype(NP[d])], fn=f)
        for d in CPLX:
            F.add("%s/%s" % (op, d), op, [cx.astype(NP[d])], fn=f)
        for d in ["i32", "i64", "bool"]:
            F.add("%s/%s" % (op, d), op, [F.rand(d, [2, 3], -1, 1)], fn=f)
        F.add("%s/f64_view" % op, op, [(np.tile(fx, 4).reshape(4, 6)[:, :3].copy(), V_T[1])], fn=f)
    # inputs through the diagonal / real / imag view steps (non-unit, odd strides)
    F.add("exp/f64_diagonal_view", "exp", [(F.rand("f64", [3, 4, 5]), [["diagonal", 1, 0, 2]])], fn=via_hp(np.exp, "f64"))
    F.add("sin/f32_real_view", "sin", [(F.rand("c64", [3, 4]), [["real"]])], fn=via_hp(np.sin, "f32"))
    F.add("sqrt/c128_of_bcast_diag", "sqrt", [(F.rand("c128", [1, 4]), [["expand", [4, 4]], ["diagonal", -1, 1, 0]])],
          fn=via_hp(np.sqrt, "c128"))
    F.add("neg/f64_imag_view_neg", "neg", [(F.rand("c128", [3, 4]), [["imag"], ["slice", 1, None, None, -1]])],
          fn=np.negative)
    # acosh / atanh / log outside their real domain give NaN, as NumPy's
    out_dom = np.array([-1.0, -0.5, 0.0, 2.0])
    for op in ["log", "sqrt", "acosh", "atanh", "asin"]:
        F.add("%s/f64_outside_domain" % op, op, [out_dom], fn=via_hp(UNARY_FLOAT[op][0], "f64"))
    return F


# ============================================================ binary
def gen_binary():
    F = Family("binary", 3)
    arith = {
        "add": (np.add, ALL, (-3, 3)),
        "sub": (np.subtract, ["i32", "i64", "f32", "f64", "c64", "c128"], (-3, 3)),
        "mul": (np.multiply, ALL, (-3, 3)),
        "div": (np.true_divide, ["i32", "i64", "f32", "f64", "c64", "c128", "bool"], (0.5, 3)),
        "maximum": (np.maximum, ["bool", "i32", "i64", "f32", "f64"], (-3, 3)),
        "minimum": (np.minimum, ["bool", "i32", "i64", "f32", "f64"], (-3, 3)),
        "atan2": (np.arctan2, ["f32", "f64", "i32", "i64"], (-3, 3)),
        "eq": (np.equal, ALL, (-1, 1)),
        "ne": (np.not_equal, ALL, (-1, 1)),
        "lt": (np.less, ["bool", "i32", "i64", "f32", "f64"], (-1, 1)),
        "le": (np.less_equal, ["bool", "i32", "i64", "f32", "f64"], (-1, 1)),
        "gt": (np.greater, ["bool", "i32", "i64", "f32", "f64"], (-1, 1)),
        "ge": (np.greater_equal, ["bool", "i32", "i64", "f32", "f64"], (-1, 1)),
        "logical_and": (np.logical_and, ALL, (-1, 1)),
        "logical_or": (np.logical_or, ALL, (-1, 1)),
        "logical_xor": (np.logical_xor, ALL, (-1, 1)),
    }
    def hp2(f):
        def g(a, b):
            r = f(a, b)
            if r.dtype.kind in "fc" and a.dtype.kind in "fc":
                r2 = f(hi_prec(a), hi_prec(b)).astype(r.dtype)
                return r2
            return r
        return g
    for op, (f, dts, (lo, hi)) in arith.items():
        g = hp2(f)
        for d in dts:
            a, b = F.rand(d, [2, 1, 3], lo, hi), F.rand(d, [4, 3], lo, hi)
            if op == "div" and d in INTS + ["bool"]:
                b = F.rand(d, [4, 3], -2, 2)          # zeros give inf / nan
            F.add("%s/%s_bcast" % (op, d), op, [a, b], fn=g)
        F.add("%s/f64_empty" % op, op, [F.rand("f64", [0, 3]), F.rand("f64", [1, 3])], fn=g)
        F.add("%s/f32_0d_and_row" % op, op, [np.array(np.float32(1.5)), F.rand("f32", [1, 4], lo, hi)], fn=g)
        F.add("%s/f32_bcast_mismatch" % op, op, [F.rand("f32", [2, 3]), F.rand("f32", [4])], error="TG_ERR_SHAPE")
    for op, (f, dts, (lo, hi)) in arith.items():
        g = hp2(f)
        for d in dts:
            F.add("%s/%s_views" % (op, d), op,
                  [(F.rand(d, V_MIX[0], lo, hi), V_MIX[1]), (F.rand(d, [2, 5], lo, hi), [["slice", 1, None, None, -2]])],
                  fn=g)      # (3, 2, 3) op (2, 3) with a negative stride

    # mixed dtypes: NumPy's promotion lattice (NEP 50, all strong)
    pairs = [("f32", "i32"), ("i32", "f32"), ("c64", "f64"), ("i32", "i64"), ("bool", "f32"), ("bool", "i32"),
             ("f32", "c64"), ("f32", "f64"), ("i64", "f32"), ("c64", "i64"), ("bool", "c64"), ("i64", "c128"),
             ("f64", "c64"), ("bool", "i64"), ("i32", "f64")]
    for op in ["add", "mul", "sub", "div", "maximum", "eq", "lt", "pow"]:
        f = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "div": np.true_divide, "maximum": np.maximum,
             "eq": np.equal, "lt": np.less, "pow": np.power}[op]
        for da, db in pairs:
            if op in ("maximum", "lt") and "c" in da + db:
                continue
            if op in ("sub", "pow") and da == "bool" and db == "bool":
                continue
            if op == "pow" and "c" in da + db:
                continue
            lo = 1 if op in ("div", "pow") else -3
            hi = 2 if op == "pow" else 3
            a, b = F.rand(da, [2, 3], lo, hi), F.rand(db, [3], lo, hi)
            F.add("%s/promote_%s_%s" % (op, da, db), op, [a, b], fn=hp2(f))

    F.add("add/f64_diagonal_and_real_views", "add", [(F.rand("f64", [4, 4]), [["diagonal", 0, 0, 1]]),
                                                     (F.rand("c128", [4]), [["real"]])], fn=np.add)
    F.add("mul/c64_diagonal_view_bcast", "mul", [(F.rand("c64", [2, 3, 3]), [["diagonal", 0, 1, 2]]),
                                                 F.rand("c64", [1, 3])], fn=hp2(np.multiply))
    for d in INTS:
        m = np.iinfo(NP[d]).min
        F.add("remainder/%s_min_by_minus_one" % d, "remainder", [np.array([m, m, -1], NP[d]), np.array([-1, 1, m], NP[d])],
              fn=np.remainder)
    # NaN propagation of maximum / minimum
    na = np.array([np.nan, 1.0, np.nan, -np.inf, 2.0, 0.0])
    nb = np.array([0.0, np.nan, np.nan, 5.0, np.inf, -0.0])
    for op, f in [("maximum", np.maximum), ("minimum", np.minimum)]:
        for d in FLOATS:
            F.add("%s/%s_nan" % (op, d), op, [na.astype(NP[d]), nb.astype(NP[d])], fn=f)
        F.add("%s/c64_error" % op, op, [F.rand("c64", [2]), F.rand("c64", [2])], error="TG_ERR_DTYPE")

    # pow
    for d in FLOATS:
        a, b = F.rand(d, [3, 4], 0.1, 3), F.rand(d, [4], -2, 2)
        F.add("pow/%s_bcast" % d, "pow", [a, b], fn=hp2(np.power))
        F.add("pow/%s_special" % d, "pow", [np.array([0.0, 0.0, -2.0, -2.0, 2.0, np.nan, 1.0, np.inf], NP[d]),
                                            np.array([0.0, -1.0, 3.0, 0.5, np.inf, 0.0, np.nan, -1.0], NP[d])],
              fn=hp2(np.power))
        F.add("pow/%s_neg_stride" % d, "pow", [(F.rand(d, V_NEG[0], 0.2, 2), V_NEG[1]), F.rand(d, [1, 3], -2, 3)],
              fn=hp2(np.power))
    for d in CPLX:
        F.add("pow/%s" % d, "pow", [F.rand(d, [2, 3], -1.5, 1.5), F.rand(d, [3], -1.5, 1.5)], fn=hp2(np.power))
        F.add("pow/%s_zero_exponent" % d, "pow", [np.array([0, 1 + 1j, -2], NP[d]), np.array([0, 0, 2], NP[d])],
              fn=hp2(np.power))
    for d in INTS:
        a = np.array([[-3, -2, -1, 0, 1, 2, 3]], NP[d]).T
        b = np.array([0, 1, 2, 3, 5], NP[d])
        F.add("pow/%s_table" % d, "pow", [a, b], fn=np.power)
    F.add("pow/i64_large", "pow", [np.array([2, 3, -7], np.int64), np.array([62, 39, 21], np.int64)], fn=np.power)

    # remainder: Python's %, the sign of the divisor
    for d in FLOATS:
        a = F.rand(d, [4, 5], -7, 7)
        b = np.array([-3.0, -1.5, 0.7, 2.0, 3.0], NP[d])
        F.add("remainder/%s" % d, "remainder", [a, b], fn=hp2(np.remainder))
        F.add("remainder/%s_special" % d, "remainder",
              [np.array([5.0, -5.0, 1.0, np.inf, 3.0, 0.0, -0.0], NP[d]),
               np.array([0.0, 3.0, np.inf, 2.0, np.nan, -2.0, 2.0], NP[d])], fn=np.remainder)
    for d in INTS:
        a = np.arange(-7, 8, dtype=NP[d]).reshape(-1, 1)
        b = np.array([-3, -2, -1, 1, 2, 3, 0], NP[d])
        F.add("remainder/%s_table" % d, "remainder", [a, b], fn=np.remainder)
    F.add("remainder/i32_f32", "remainder", [np.array([7, -7], np.int32), np.array([2.5, 2.5], np.float32)],
          fn=np.remainder)
    F.add("remainder/c64_error", "remainder", [F.rand("c64", [2]), F.rand("c64", [2])], error="TG_ERR_DTYPE")
    F.add("atan2/c64_error", "atan2", [F.rand("c64", [2]), F.rand("c64", [2])], error="TG_ERR_DTYPE")
    F.add("atan2/f64_signed_zeros", "atan2", [np.array([0.0, -0.0, 0.0, -0.0, 1.0, np.inf]),
                                              np.array([0.0, 0.0, -0.0, -0.0, -np.inf, np.inf])], fn=np.arctan2)
    F.add("lt/c64_error", "lt", [F.rand("c64", [2]), F.rand("c64", [2])], error="TG_ERR_DTYPE")
    F.add("sub/bool_error", "sub", [np.array([True]), np.array([False])], error="TG_ERR_DTYPE")
    F.add("eq/f64_nan", "eq", [np.array([np.nan, 1.0, np.inf]), np.array([np.nan, 1.0, np.inf])], fn=np.equal)
    F.add("ne/f64_nan", "ne", [np.array([np.nan, 1.0, -0.0]), np.array([np.nan, 2.0, 0.0])], fn=np.not_equal)
    F.add("eq/c128_parts", "eq", [np.array([1 + 2j, 1 + 2j, 0j]), np.array([1 + 2j, 1 - 2j, -0.0 + 0j])], fn=np.equal)
    F.add("logical_and/c64_imag_only", "logical_and", [np.array([1j, 0, 1], np.complex64), np.array([True, True, True])],
          fn=np.logical_and)
    F.add("logical_or/f32_nan", "logical_or", [np.array([np.nan, 0.0, -0.0], np.float32), np.array([0, 0, 0], np.int32)],
          fn=np.logical_or)
    F.add("add/i32_wraps", "add", [np.array([2147483647, -2147483648], np.int32), np.array([1, -1], np.int32)],
          fn=np.add)
    F.add("mul/i64_wraps", "mul", [np.array([4611686018427387904, 3], np.int64), np.array([4, -5], np.int64)],
          fn=np.multiply)

    # where
    c = F.rand("bool", [2, 1])
    F.add("where/f32_f64_bcast", "where", [c, F.rand("f32", [1, 3]), np.array(2.5)], fn=np.where)
    F.add("where/i32_f32", "where", [F.rand("bool", [3]), F.rand("i32", [3]), F.rand("f32", [2, 3])], fn=np.where)
    F.add("where/c64_i64", "where", [F.rand("bool", [2, 2]), F.rand("c64", [2, 2]), F.rand("i64", [2])], fn=np.where)
    F.add("where/bool_bool", "where", [F.rand("bool", [4]), F.rand("bool", [4]), F.rand("bool", [4])], fn=np.where)
    F.add("where/f32_cond", "where", [np.array([0.0, np.nan, -2.0], np.float32), F.rand("f64", [3]), F.rand("f64", [3])],
          fn=np.where)
    F.add("where/views", "where", [(F.rand("bool", [3, 3]), V_T[1]), (F.rand("f64", V_NEG[0]), V_NEG[1]),
                                   (F.rand("f64", [1, 3]), [["expand", [3, 3]]])], fn=np.where)
    F.add("where/c128_views", "where", [F.rand("bool", [3, 1]), (F.rand("c128", V_T[0]), V_T[1]), np.array(1j)],
          fn=np.where)
    F.add("where/empty", "where", [np.zeros((0, 2), np.bool_), F.rand("f32", [2]), F.rand("f32", [1])], fn=np.where)
    F.add("where/bcast_mismatch", "where", [F.rand("bool", [2]), F.rand("f32", [3]), F.rand("f32", [3])],
          error="TG_ERR_SHAPE")

    # clamp: bounds as weak Python scalars (ints when integral; an infinite bound is no bound)
    def clip(lo, hi):
        def w(v):
            return None if abs(v) == float("inf") else (int(v) if float(v).is_integer() else v)
        def g(x):
            r = x
            if w(hi) is not None:
                r = np.minimum(r, w(hi))
            if w(lo) is not None:
                r = np.maximum(r, w(lo))
            return r
        return g
    for name, d, lo, hi in [("f32_both", "f32", -0.5, 1.0), ("f64_lo", "f64", 0.25, float("inf")),
                            ("f64_hi", "f64", float("-inf"), -0.5), ("i32_int", "i32", -1, 2),
                            ("i32_float", "i32", -1.5, 1.5), ("i64_none", "i64", float("-inf"), float("inf")),
                            ("f32_none", "f32", float("-inf"), float("inf")), ("bool_int", "bool", 0, 0)]:
        x = F.rand(d, [3, 4], -3, 3)
        if d in FLOATS:
            x.flat[0] = np.nan
        F.add("clamp/%s" % name, "clamp", [x], attrs={"lo": enc_f(lo), "hi": enc_f(hi)}, fn=clip(lo, hi))
    F.add("clamp/f64_view", "clamp", [(F.rand("f64", V_MIX[0], -2, 2), V_MIX[1])], attrs={"lo": -1, "hi": 1},
          fn=clip(-1, 1))
    F.add("clamp/f32_empty", "clamp", [np.zeros((0,), np.float32)], attrs={"lo": -1, "hi": 1}, fn=clip(-1, 1))

    # complex(re, im)
    def mk_complex(dt):
        def g(re, im):
            re, im = np.broadcast_arrays(re, im)
            return (re.astype(np.float64) + 1j * im.astype(np.float64)).astype(NP[dt])
        return g
    F.add("complex/f32", "complex", [F.rand("f32", [2, 3]), F.rand("f32", [3])], fn=mk_complex("c64"))
    F.add("complex/f64_views", "complex", [(F.rand("f64", V_T[0]), V_T[1]), (F.rand("f64", V_NEG[0]), [["slice", 1, None, None, -1], ["slice", 1, 1, None, None]])],
          fn=mk_complex("c128"))
    F.add("complex/f32_f64", "complex", [F.rand("f32", [2]), F.rand("f64", [2])], fn=mk_complex("c128"))
    F.add("complex/i32_to_c128", "complex", [F.rand("i32", [3]), F.rand("i32", [3])], fn=mk_complex("c128"))
    F.add("complex/special", "complex", [np.array([np.nan, np.inf, 0.0]), np.array([1.0, -np.inf, -0.0])],
          fn=mk_complex("c128"))
    F.add("complex/c64_error", "complex", [F.rand("c64", [2]), F.rand("f32", [2])], error="TG_ERR_DTYPE")
    F.add("complex/bcast_mismatch", "complex", [F.rand("f32", [2]), F.rand("f32", [3])], error="TG_ERR_SHAPE")

    # *_scalar: the scalar is a weak Python scalar (int when integral, as Tangent's C API)
    def w(s):
        return int(s) if float(s).is_integer() else s
    sc = {
        "add_scalar": lambda x, s: x + w(s),
        "sub_scalar": lambda x, s: x - w(s),
        "rsub_scalar": lambda x, s: w(s) - x,
        "mul_scalar": lambda x, s: x * w(s),
        "div_scalar": lambda x, s: x / w(s),
        "rdiv_scalar": lambda x, s: w(s) / x,
        "pow_scalar": lambda x, s: x ** w(s),
        "maximum_scalar": lambda x, s: np.maximum(x, w(s)),
        "minimum_scalar": lambda x, s: np.minimum(x, w(s)),
        "eq_scalar": lambda x, s: np.equal(x, w(s)),
        "lt_scalar": lambda x, s: np.less(x, w(s)),
        "gt_scalar": lambda x, s: np.greater(x, w(s)),
    }
    for op, f in sc.items():
        combos = [("f32", 2.5), ("f64", -1.0), ("i32", 2.5), ("i32", 2.0), ("i64", -3.0), ("bool", 2.0),
                  ("bool", 0.5), ("f32", 3.0)]
        if op not in ("maximum_scalar", "minimum_scalar", "lt_scalar", "gt_scalar"):
            combos += [("c64", 2.5), ("c128", -1.5)]
        for d, s in combos:
            if op == "pow_scalar" and d in INTS + ["bool"] and s < 0:
                continue
            lo = 0.5 if op in ("pow_scalar", "rdiv_scalar") else -3
            x = F.rand(d, [2, 3], lo, 3)
            if op in ("rdiv_scalar",) and d in INTS:
                x = F.rand(d, [2, 3], 1, 3)

            def g(a, f=f, s=s):
                r = f(a, s)
                if r.dtype == np.int8:          # NumPy 1.24's bool ** int loop; NEP 50 (NumPy 2) gives i64
                    r = f(a.astype(np.int64), s)
                if r.dtype.kind in "fc":        # reference in double precision
                    r2 = f(hi_prec(a), s)
                    r = np.asarray(r2).astype(r.dtype)
                return r
            F.add("%s/%s_%s" % (op, d, s), op, [x], attrs={"scalar": s}, fn=g)
        F.add("%s/f64_view" % op, op, [(F.rand("f64", V_MIX[0], 0.5, 3), V_MIX[1])], attrs={"scalar": 1.5},
              fn=lambda a, f=f: f(a, 1.5))
    F.add("eq_scalar/f32_weak_0.1", "eq_scalar", [np.array([0.1, 0.2, 0.1], np.float32)], attrs={"scalar": 0.1},
          fn=lambda a: np.equal(a, 0.1))
    F.add("lt_scalar/f32_weak_0.1", "lt_scalar", [np.array([0.1, 0.09, 0.11], np.float32)], attrs={"scalar": 0.1},
          fn=lambda a: np.less(a, 0.1))
    F.add("maximum_scalar/f64_nan", "maximum_scalar", [np.array([np.nan, 1.0, -1.0])], attrs={"scalar": 0},
          fn=lambda a: np.maximum(a, 0))
    F.add("minimum_scalar/f32_nan_scalar", "minimum_scalar", [np.array([2.0, -1.0], np.float32)],
          attrs={"scalar": "nan"}, fn=lambda a: np.minimum(a, float("nan")))
    F.add("add_scalar/f32_inf", "add_scalar", [np.array([1.0, -np.inf], np.float32)], attrs={"scalar": "inf"},
          fn=lambda a: a + float("inf"))
    F.add("pow_scalar/f32_half", "pow_scalar", [np.array([4.0, 2.0, 0.0], np.float32)], attrs={"scalar": 0.5},
          fn=lambda a: (a.astype(np.float64) ** 0.5).astype(np.float32))
    F.add("div_scalar/i32_by_zero", "div_scalar", [np.array([1, 0, -1], np.int32)], attrs={"scalar": 0},
          fn=lambda a: a / 0)

    # in place (PyTorch semantics: a keeps its dtype)
    def tinplace(method):
        def g(a, b):
            ta = torch.from_numpy(np.array(a))
            getattr(ta, method)(torch.from_numpy(np.array(b)))
            return ta.numpy()
        return g
    F.add("add_/f32_bcast", "add_", [F.rand("f32", [2, 3]), F.rand("f32", [3])], fn=tinplace("add_"))
    F.add("sub_/f64_f32", "sub_", [F.rand("f64", [2, 3]), F.rand("f32", [2, 1])], fn=tinplace("sub_"))
    F.add("mul_/i64", "mul_", [F.rand("i64", [4]), F.rand("i64", [4])], fn=tinplace("mul_"))
    F.add("div_/c128_f64", "div_", [F.rand("c128", [3]), F.rand("f64", [3], 0.5, 2)], fn=tinplace("div_"))
    F.add("add_/f32_plus_f64", "add_", [F.rand("f32", [3]), F.rand("f64", [3])], fn=tinplace("add_"))
    F.add("add_/f32_transposed", "add_", [(F.rand("f32", V_T[0]), V_T[1]), F.rand("f32", [1, 4])],
          fn=lambda a, b: a + b)
    F.add("add_/bcast_dst_error", "add_", [F.rand("f32", [3]), F.rand("f32", [2, 3])], error="TG_ERR_SHAPE")
    F.add("mul_/f64_complex_error", "mul_", [F.rand("f64", [3]), F.rand("c128", [3])], error="TG_ERR_DTYPE")
    # PyTorch refuses a result of a higher kind than the destination (float into int, int into bool)
    F.add("add_/i32_plus_f32_error", "add_", [F.rand("i32", [2]), F.rand("f32", [2])], error="TG_ERR_DTYPE")
    F.add("div_/i32_error", "div_", [F.rand("i32", [2], 1, 3), F.rand("i32", [2], 1, 3)], error="TG_ERR_DTYPE")
    F.add("add_/bool_plus_i64_error", "add_", [F.rand("bool", [2]), F.rand("i64", [2])], error="TG_ERR_DTYPE")
    F.add("add_/i32_plus_i64", "add_", [F.rand("i32", [2]), F.rand("i64", [2])], fn=tinplace("add_"))
    F.add("copy_/f32_from_f64_bcast", "copy_", [F.rand("f32", [2, 3]), F.rand("f64", [3])],
          fn=lambda a, b: np.broadcast_to(b, a.shape).astype(a.dtype))
    F.add("copy_/i32_from_f64", "copy_", [F.rand("i32", [3]), np.array([1.7, -1.7, 3.0])],
          fn=lambda a, b: b.astype(np.int32))
    F.add("copy_/shape_error", "copy_", [F.rand("f32", [2, 3]), F.rand("f32", [2])], error="TG_ERR_SHAPE")
    F.add("fill_/f64_view", "fill_", [(F.rand("f64", V_NEG[0]), V_NEG[1])], attrs={"value": -2.5},
          fn=lambda a: np.full(a.shape, -2.5))
    F.add("fill_/i32", "fill_", [F.rand("i32", [2, 2])], attrs={"value": 7}, fn=lambda a: np.full(a.shape, 7, np.int32))
    # 16 axes (TG_MAX_DIMS), one operand of 15 broadcast against it
    F.add("add/f64_rank16_bcast", "add", [F.rand("f64", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2]), F.rand("f64", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2][1:])], fn=np.add)
    F.add("mul/c128_rank16_bcast", "mul", [F.rand("c128", [2] + [1] * 15), F.rand("c128", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2])], fn=np.multiply)
    return F


# ============================================================ cast
def gen_cast():
    F = Family("cast", 4)
    src_vals = {
        "bool": np.array([True, False, True, True, False, False]),
        "i32": np.array([-7, -1, 0, 1, 2, 16777217], np.int32),
        "i64": np.array([-7, -1, 0, 1, 2 ** 40 + 1, 16777217], np.int64),
        "f32": np.array([-2.7, -1.5, -0.0, 0.3, 2.5, 100.9], np.float32),
        "f64": np.array([-2.7, -1.5, -0.0, 0.3, 2.5, 1e10 + 0.7], np.float64),
        "c64": np.array([-2.7 + 1j, -1.5, 1j, 0.3 - 2j, 2.5 + 0.5j, 100.9], np.complex64),
        "c128": np.array([-2.7 + 1j, -1.5, 1j, 0.3 - 2j, 2.5 + 0.5j, 1e10 + 0.7], np.complex128),
    }
    special = {"f32": np.array([np.nan, np.inf, -np.inf, 1e-40, 3.4e38], np.float32),
               "f64": np.array([np.nan, np.inf, -np.inf, 1e-300, 1e300]),
               "c64": np.array([complex(np.nan, 1), complex(np.inf, -np.inf), 1e-40j], np.complex64),
               "c128": np.array([complex(np.nan, 1), complex(np.inf, -np.inf), 1e-300j])}

    def conv(to):
        def g(a):
            if a.dtype.kind == "c" and to not in CPLX:
                if to == "bool":
                    return a != 0
                return a.real.astype(NP[to])
            return a.astype(NP[to])
        return g
    for s in ALL:
        for t in ALL:
            x = src_vals[s]
            if s == "i64" and t == "i32":
                x = np.array([-7, -1, 0, 1, 2, 2 ** 31 - 1], np.int64)
            if s in ("f64", "c128") and t == "i32":
                x = np.append(x[:-1], x[:1])      # 1e10 does not fit
            F.add("cast/%s_to_%s" % (s, t), "cast", [x.reshape(2, 3)], attrs={"dtype": t}, fn=conv(t))
        F.add("cast/%s_to_f64_view" % s, "cast", [(np.resize(src_vals[s], V_MIX[0]), V_MIX[1])], attrs={"dtype": "f64" if s not in CPLX else "c128"},
              fn=conv("f64" if s not in CPLX else "c128"))
    for s, x in special.items():
        for t in ["bool", "f32", "f64", "c64", "c128"]:
            F.add("cast/%s_special_to_%s" % (s, t), "cast", [x], attrs={"dtype": t}, fn=conv(t))
    F.add("cast/f64_bcast_to_i32", "cast", [(np.array([[1.9, -1.9, 0.5]]), [["expand", [4, 3]]])],
          attrs={"dtype": "i32"}, fn=conv("i32"))
    F.add("cast/c128_imag_view_to_f32", "cast", [(src_vals["c128"], [["imag"]])], attrs={"dtype": "f32"},
          fn=conv("f32"))
    F.add("cast/f32_empty_to_c128", "cast", [np.zeros((0, 2), np.float32)], attrs={"dtype": "c128"},
          fn=conv("c128"))
    F.add("cast/i64_0d_to_f32", "cast", [np.array(-5, np.int64)], attrs={"dtype": "f32"}, fn=conv("f32"))
    F.add("cast/f64_rounding_to_f32", "cast", [np.array([1 + 2 ** -24, 1 + 3 * 2 ** -24, 0.1, 1e-46, 3.5e38])],
          attrs={"dtype": "f32"}, fn=conv("f32"))
    for d in ["f32", "i32", "c64"]:
        F.add("copy/%s_view" % d, "copy", [(F.rand(d, V_MIX[0]), V_MIX[1])], fn=lambda a: a.copy())
        F.add("contiguous/%s_view" % d, "contiguous", [(F.rand(d, V_NEG[0]), V_NEG[1])], fn=lambda a: a.copy())
    return F


# ============================================================ reduce
def gen_reduce():
    F = Family("reduce", 5)

    def red(f, axes, keepdim, out_dtype=None, hp=True):
        def g(x):
            ax = None if axes is None else tuple(axes)
            xx = hi_prec(x) if (hp and x.dtype.kind in "fc") else x
            r = np.asarray(f(xx, axis=ax, keepdims=keepdim))
            od = out_dtype(x) if out_dtype else x.dtype
            return r.astype(od)
        return g
    int64_ = lambda x: np.int64 if x.dtype.kind in "bi" else x.dtype  # noqa: E731
    flt = lambda x: np.float64 if x.dtype.kind in "bi" else x.dtype  # noqa: E731
    real = lambda x: np.float64 if x.dtype.kind in "bi" else (np.float32 if x.dtype in (np.float32, np.complex64) else np.float64)  # noqa: E731,E501
    boolean = lambda x: np.bool_  # noqa: E731

    def lse(x, axis=None, keepdims=False):
        if x.size == 0 or (axis is not None and any(x.shape[a] == 0 for a in axis)):
            return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
        return sps.logsumexp(x, axis=axis, keepdims=keepdims)

    def norm(p):
        def f(x, axis=None, keepdims=False):
            a = np.abs(x)
            if p == 1:
                return np.sum(a, axis=axis, keepdims=keepdims)
            if p == 2:
                return np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))
            return np.max(a, axis=axis, keepdims=keepdims)
        return f

    def var(ddof, sq=False):
        def f(x, axis=None, keepdims=False):
            r = np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)
            return np.sqrt(r) if sq else r
        return f

    ops = {
        "sum": (np.sum, ALL, int64_),
        "prod": (np.prod, ALL, int64_),
        "mean": (np.mean, ["i32", "i64", "bool", "f32", "f64", "c64", "c128"], flt),
        "max": (np.max, ["bool", "i32", "i64", "f32", "f64"], None),
        "min": (np.min, ["bool", "i32", "i64", "f32", "f64"], None),
        "all": (np.all, ALL, boolean),
        "any": (np.any, ALL, boolean),
        "logsumexp": (lse, ["f32", "f64", "i32"], flt),
        "var": (var(1), ["f32", "f64", "i32", "c64", "c128"], real),
        "std": (var(1, True), ["f32", "f64", "i64", "c128"], real),
        "var0": (var(0), ["f64", "c64"], real),
        "norm1": (norm(1), ["f32", "f64", "c64", "i32"], real),
        "norm2": (norm(2), ["f32", "f64", "c128", "i64"], real),
        "norminf": (norm(np.inf), ["f32", "f64", "c64", "i32"], real),
    }
    axes_sets = [(None, False), (None, True), ([1], False), ([-1], True), ([0, 2], False), ([2, 0], True),
                 ([], False), ([-3, -2, -1], False), ([0, 1, 2], True)]

    def opcall(op):
        if op in ("var0",):
            return "var", {"correction": 0}
        if op == "var":
            return "var", {"correction": 1}
        if op == "std":
            return "std", {"correction": 1}
        if op.startswith("norm"):
            return "norm", {"p": {"norm1": 1, "norm2": 2, "norminf": "inf"}[op]}
        return op, {}
    for op, (f, dts, od) in ops.items():
        name, extra = opcall(op)
        for d in dts:
            lo, hi = (-1.5, 1.5) if op == "prod" else (-3, 3)
            x = F.rand(d, [2, 3, 4], lo, hi)
            for k, (axes, keep) in enumerate(axes_sets):
                if d not in ("f64", "f32") and k not in (0, 2, 4, 6):
                    continue
                attrs = dict(extra, keepdim=keep)
                if axes is not None:
                    attrs["axes"] = axes
                tag = "all" if axes is None else ("none" if axes == [] else "_".join(map(str, axes)))
                F.add("%s/%s_%s%s" % (op, d, tag, "_keep" if keep else ""), name, [x], attrs=attrs,
                      fn=red(f, axes, keep, od))
            F.add("%s/%s_view" % (op, d), name, [(F.rand(d, V_MIX[0], lo, hi), V_MIX[1])],
                  attrs=dict(extra, axes=[0, 2], keepdim=False), fn=red(f, [0, 2], False, od))
        F.add("%s/f64_bcast" % op, name, [(F.rand("f64", [1, 4]), [["expand", [3, 4]]])],
              attrs=dict(extra, axes=[0], keepdim=False), fn=red(f, [0], False, od))
        F.add("%s/f64_neg_stride_all" % op, name, [(F.rand("f64", V_NEG[0]), V_NEG[1])],
              attrs=dict(extra, keepdim=False), fn=red(f, None, False, od))
        F.add("%s/f32_size1_axes" % op, name, [F.rand("f32", [1, 3, 1])],
              attrs=dict(extra, axes=[0, 2], keepdim=False), fn=red(f, [0, 2], False, od))
        F.add("%s/bad_axis" % op, name, [F.rand("f32", [2, 3])], attrs=dict(extra, axes=[2]), error="TG_ERR_ARG")
        F.add("%s/repeated_axis" % op, name, [F.rand("f32", [2, 3])], attrs=dict(extra, axes=[1, -1]),
              error="TG_ERR_ARG")
        # empty input where NumPy defines a value
        if op in ("sum", "prod", "all", "any", "logsumexp", "norm1", "norm2", "mean", "var"):
            for axes in [None, [1], [0]]:
                e = np.zeros((2, 0, 3), np.float64)
                tag = "all" if axes is None else str(axes[0])
                F.add("%s/f64_empty_%s" % (op, tag), name, [e], attrs=dict(extra, keepdim=False,
                      **({} if axes is None else {"axes": axes})), fn=red(f, axes, False, od))
        if op in ("max", "min"):
            F.add("%s/f64_empty_error" % op, name, [np.zeros((2, 0))], attrs={"axes": [1]}, error="TG_ERR_SHAPE")
            F.add("%s/f64_empty_other_axis" % op, name, [np.zeros((2, 0))], attrs={"axes": [0]},
                  fn=red(f, [0], False, od))
            F.add("%s/c64_error" % op, name, [F.rand("c64", [2, 2])], attrs={}, error="TG_ERR_DTYPE")
            nanx = np.array([[1.0, np.nan, 3.0], [-np.inf, 2.0, 0.5]])
            F.add("%s/f64_nan" % op, name, [nanx], attrs={"axes": [1]}, fn=red(f, [1], False, od))
    F.add("sum/i32_to_i64_no_overflow", "sum", [np.full((4,), 2 ** 31 - 1, np.int32)], attrs={},
          fn=lambda a: np.sum(a))
    F.add("sum/f32_long", "sum", [F.rand("f32", [3, 1000])], attrs={"axes": [1]}, fn=red(np.sum, [1], False), atol=1e-4)
    # past one fixed block (65536 elements) of a full reduction, kept small on disk through a broadcast view
    F.add("sum/f64_long_all", "sum", [(F.rand("f64", [1, 100]), [["expand", [700, 100]]])], attrs={},
          fn=red(np.sum, None, False), atol=1e-9)
    F.add("mean/f32_long_bcast", "mean", [(F.rand("f32", [100, 1]), [["expand", [100, 700]]])], attrs={},
          fn=red(np.mean, None, False, flt))
    F.add("mean/f32_long", "mean", [F.rand("f32", [2000])], attrs={}, fn=red(np.mean, None, False, flt))
    F.add("logsumexp/f64_inf", "logsumexp", [np.array([[np.inf, 1.0], [-np.inf, -np.inf], [1000.0, 1000.0]])],
          attrs={"axes": [1]}, fn=red(lse, [1], False, flt))
    F.add("logsumexp/c64_error", "logsumexp", [F.rand("c64", [2])], attrs={}, error="TG_ERR_DTYPE")
    F.add("var/f64_ddof_ge_n", "var", [np.array([[1.0, 2.0], [3.0, 3.0]])], attrs={"axes": [1], "correction": 2},
          fn=red(var(2), [1], False, flt))
    F.add("all/f32_nan_truthy", "all", [np.array([np.nan, 1.0, -0.0], np.float32)], attrs={"axes": [0]},
          fn=lambda a: np.all(a, axis=0))
    F.add("any/c64_imag_only", "any", [np.array([[0, 1j], [0, 0]], np.complex64)], attrs={"axes": [1]},
          fn=lambda a: np.any(a, axis=1))
    F.add("sum/c128_real_view", "sum", [(F.rand("c128", [3, 4]), [["real"]])], attrs={"axes": [0]},
          fn=red(np.sum, [0], False))
    F.add("max/f64_diagonal_view", "max", [(F.rand("f64", [3, 4, 4]), [["diagonal", 0, 1, 2]])], attrs={"axes": [1]},
          fn=red(np.max, [1], False))
    F.add("prod/i32_0d", "prod", [np.array(7, np.int32)], attrs={}, fn=lambda a: np.prod(a))
    F.add("sum/f64_0d_axes_none", "sum", [np.array(2.5)], attrs={"axes": []}, fn=lambda a: np.sum(a, axis=()))
    F.add("mean/f64_0d_bad_axis", "mean", [np.array(2.5)], attrs={"axes": [0]}, error="TG_ERR_ARG")
    F.add("norm/p3_error", "norm", [F.rand("f64", [3])], attrs={"p": 3}, error="TG_ERR_ARG")

    # argmax / argmin
    for op, f in [("argmax", np.argmax), ("argmin", np.argmin)]:
        for d in ["bool", "i32", "i64", "f32", "f64"]:
            x = F.rand(d, [3, 4, 2], -2, 2)
            for axis, keep in [(0, False), (1, True), (-1, False)]:
                F.add("%s/%s_axis%d%s" % (op, d, axis, "_keep" if keep else ""), op, [x],
                      attrs={"axis": axis, "keepdim": keep},
                      fn=lambda a, f=f, axis=axis, keep=keep: f(a, axis=axis, keepdims=keep).astype(np.int64))
        F.add("%s/f64_ties_nan" % op, op, [np.array([[1.0, 3.0, 3.0, 1.0], [np.nan, 5.0, np.nan, -1.0],
                                                     [2.0, np.nan, -np.inf, np.inf]])],
              attrs={"axis": 1}, fn=lambda a, f=f: f(a, axis=1).astype(np.int64))
        F.add("%s/f32_view" % op, op, [(F.rand("f32", V_MIX[0]), V_MIX[1])], attrs={"axis": 0},
              fn=lambda a, f=f: f(a, axis=0).astype(np.int64))
        F.add("%s/f64_bcast" % op, op, [(F.rand("f64", [1, 4]), [["expand", [3, 4]]])], attrs={"axis": 0},
              fn=lambda a, f=f: f(a, axis=0).astype(np.int64))
        F.add("%s/f64_0d" % op, op, [np.array(2.0)], attrs={"axis": 0}, error="TG_ERR_ARG")
        F.add("%s/empty_error" % op, op, [np.zeros((2, 0))], attrs={"axis": 1}, error="TG_ERR_SHAPE")
        F.add("%s/empty_other_axis" % op, op, [np.zeros((2, 0))], attrs={"axis": 0},
              fn=lambda a, f=f: f(a, axis=0).astype(np.int64))
        F.add("%s/c64_error" % op, op, [F.rand("c64", [3])], attrs={"axis": 0}, error="TG_ERR_DTYPE")
        F.add("%s/bad_axis" % op, op, [F.rand("f32", [3])], attrs={"axis": 1}, error="TG_ERR_ARG")
    # 16 axes (TG_MAX_DIMS)
    h = F.rand("f64", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2])
    F.add("sum/f64_rank16_axes", "sum", [h], attrs={"axes": [0, 5, 15], "keepdim": False},
          fn=red(np.sum, [0, 5, 15], False))
    F.add("max/f64_rank16_keep", "max", [h], attrs={"axes": [2, 8], "keepdim": True}, fn=red(np.max, [2, 8], True))
    F.add("sum/f32_rank16_view_all", "sum", [(F.rand("f32", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2]), [["permute", list(range(15, -1, -1))]])],
          attrs={}, fn=red(np.sum, None, False))
    return F


# ============================================================ views
def gen_views():
    F = Family("views", 6)

    def vshares(out, inp):
        return None if out.size == 0 else bool(np.shares_memory(out, inp))

    def add(name, op, x, view, attrs, fn, error=None):
        base = np.asarray(x)
        if error:
            F.add(name, op, [(base, view)] if view else [base], attrs=attrs, error=error)
            return
        xv = view_np(base, view)
        out = fn(xv)
        F.add(name, op, [(base, view)] if view else [base], attrs=attrs, outs=[np.array(out)],
              shares=vshares(out, xv))

    def np_view_possible(x, shape):
        v = x.view()
        try:
            v.shape = shape
            return True
        except AttributeError:
            return False

    x = F.rand("f32", [2, 3, 4])
    for shape in [[6, 4], [4, -1], [24], [2, 12], [1, 2, 3, 4, 1], [-1], [3, 2, 2, 2], []]:
        if shape == []:
            xs = np.array([5.0], np.float32)
            add("reshape/f32_1_to_0d", "reshape", xs, None, {"shape": shape}, lambda a: a.reshape(()))
            add("view/f32_1_to_0d", "view", xs, None, {"shape": shape}, lambda a: a.reshape(()))
            continue
        add("reshape/f32_to_%s" % "x".join(map(str, shape)), "reshape", x, None, {"shape": shape},
            lambda a: a.reshape(shape))
        add("view/f32_to_%s" % "x".join(map(str, shape)), "view", x, None, {"shape": shape},
            lambda a: a.reshape(shape))
    # reshapes of non-contiguous inputs: a view where NumPy manages one, else a copy
    for vname, view, shape in [("transposed", [["permute", [2, 1, 0]]], [4, 6]),
                               ("transposed_split", [["permute", [2, 1, 0]]], [2, 2, 3, 2]),
                               ("sliced_merge_outer", [["slice", 2, 0, 2, None]], [6, 2]),
                               ("sliced_merge_inner", [["slice", 2, 0, 2, None]], [2, 6]),
                               ("neg_stride", [["slice", 0, None, None, -1]], [6, 4]),
                               ("neg_stride_flat", [["slice", 2, None, None, -1]], [24]),
                               ("bcast", [["slice", 0, 0, 1, None], ["expand", [3, 3, 4]]], [9, 4]),
                               ("bcast_flat", [["slice", 0, 0, 1, None], ["expand", [3, 3, 4]]], [36]),
                               ("size1_axis", [["slice", 1, 1, 2, None]], [2, 4]),
                               ("size1_axis_insert", [["slice", 1, 1, 2, None]], [2, 1, 4, 1])]:
        xv = view_np(x, view)
        add("reshape/%s" % vname, "reshape", x, view, {"shape": shape}, lambda a: a.reshape(shape))
        if np_view_possible(xv, shape):
            add("view/%s" % vname, "view", x, view, {"shape": shape}, lambda a: a.reshape(shape))
        else:
            add("view/%s_needs_copy" % vname, "view", x, view, {"shape": shape}, None, error="TG_ERR_SHAPE")
    add("reshape/two_minus_one", "reshape", x, None, {"shape": [-1, -1]}, None, error="TG_ERR_SHAPE")
    add("reshape/wrong_numel", "reshape", x, None, {"shape": [5, 5]}, None, error="TG_ERR_SHAPE")
    add("reshape/minus_one_indivisible", "reshape", x, None, {"shape": [5, -1]}, None, error="TG_ERR_SHAPE")
    add("reshape/empty_minus_one", "reshape", np.zeros((0, 4), np.float64), None, {"shape": [2, 0, -1]}, None,
        error="TG_ERR_SHAPE")       # NumPy: cannot infer -1 with zero elements
    add("reshape/c128", "reshape", F.rand("c128", [2, 3]), [["permute", [1, 0]]], {"shape": [6]},
        lambda a: a.reshape(6))

    for d, view in [("f64", None), ("i32", [["permute", [1, 0, 2]]]), ("c64", [["slice", 1, None, None, -1]]),
                    ("bool", None)]:
        add("flatten/%s%s" % (d, "_view" if view else ""), "flatten", F.rand(d, [2, 3, 2]), view, {},
            lambda a: a.reshape(-1))
    add("flatten/f32_0d", "flatten", np.array(3.0, np.float32), None, {}, lambda a: a.reshape(-1))

    y = F.rand("f64", [2, 3, 4])
    for perm in [[0, 1, 2], [2, 0, 1], [1, 0, 2], [-1, 0, 1]]:
        add("permute/%s" % "_".join(map(str, perm)), "permute", y, None, {"perm": perm},
            lambda a: a.transpose([p % 3 for p in perm]))
    add("permute/of_view", "permute", y, [["slice", 2, None, None, -2]], {"perm": [2, 1, 0]},
        lambda a: a.transpose(2, 1, 0))
    add("permute/repeated", "permute", y, None, {"perm": [0, 0, 1]}, None, error="TG_ERR_ARG")
    add("permute/out_of_range", "permute", y, None, {"perm": [0, 1, 3]}, None, error="TG_ERR_ARG")
    for a0, a1 in [(0, 1), (0, 2), (-1, 0), (1, 1)]:
        add("transpose/%d_%d" % (a0, a1), "transpose", y, None, {"axis0": a0, "axis1": a1},
            lambda a: np.swapaxes(a, a0, a1))
    add("transpose/bad_axis", "transpose", y, None, {"axis0": 0, "axis1": 3}, None, error="TG_ERR_ARG")
    add("mT/3d", "mT", y, None, {}, lambda a: np.swapaxes(a, -1, -2))
    add("mT/2d_view", "mT", F.rand("c64", [3, 4]), [["slice", 0, None, None, -1]], {}, lambda a: a.T)
    add("mT/1d_error", "mT", F.rand("f32", [3]), None, {}, None, error="TG_ERR_SHAPE")

    z = F.rand("i64", [5, 6], -100, 100)
    for ax, start, stop, step in [(0, 1, 4, None), (1, None, None, 2), (1, None, None, -1), (0, 4, 0, -2),
                                  (1, -2, None, None), (0, -100, 100, None), (1, 10, 20, None), (1, 5, 1, 1),
                                  (0, None, -100, -1), (1, -1, -7, -3), (-1, 1, None, 3), (0, 3, 3, None),
                                  (1, 100, None, -1), (0, None, None, 7)]:
        nm = "slice/ax%d_%s_%s_%s" % (ax, start, stop, step)
        add(nm, "slice", z, None, {"axis": ax, "start": start, "stop": stop, "step": step},
            lambda a: view_np(a, [["slice", ax, start, stop, step]]))
    add("slice/of_transposed_neg", "slice", z, [["permute", [1, 0]]], {"axis": 1, "start": None, "stop": None,
        "step": -2}, lambda a: a[:, ::-2])
    add("slice/step_zero", "slice", z, None, {"axis": 0, "start": None, "stop": None, "step": 0}, None,
        error="TG_ERR_ARG")
    add("slice/bad_axis", "slice", z, None, {"axis": 2, "start": 0, "stop": 1, "step": 1}, None, error="TG_ERR_ARG")
    add("slice/0d_error", "slice", np.array(1.0), None, {"axis": 0, "start": 0, "stop": 1, "step": 1}, None,
        error="TG_ERR_ARG")

    for ax, idx in [(0, 2), (1, -1), (-1, 0), (0, -5)]:
        add("select/ax%d_%d" % (ax, idx), "select", z, None, {"axis": ax, "index": idx},
            lambda a: a[(slice(None),) * (ax % 2) + (idx, Ellipsis)])
    add("select/of_view", "select", z, [["slice", 1, None, None, -1]], {"axis": 1, "index": 1}, lambda a: a[:, 1, ...])
    add("select/1d_to_0d", "select", F.rand("c128", [3]), None, {"axis": 0, "index": 2}, lambda a: a[2, ...])
    add("select/out_of_range", "select", z, None, {"axis": 0, "index": 5}, None, error="TG_ERR_ARG")
    add("select/out_of_range_neg", "select", z, None, {"axis": 1, "index": -7}, None, error="TG_ERR_ARG")

    w = F.rand("f32", [3, 1])
    for shape in [[3, 4], [2, 3, 5], [-1, 2], [2, -1, -1], [3, 1], [0, 3, 4]]:
        def bto(a, shape=shape):
            off = len(shape) - a.ndim
            s = [a.shape[i - off] if v == -1 else v for i, v in enumerate(shape)]
            return np.broadcast_to(a, s)
        nm = "x".join(map(str, shape)).replace("-1", "m1")
        add("expand/to_%s" % nm, "expand", w, None, {"shape": shape}, bto)
        if -1 not in shape:
            add("broadcast_to/to_%s" % nm, "broadcast_to", w, None, {"shape": shape}, bto)
    add("expand/0d", "expand", np.array(2.0), None, {"shape": [2, 2]}, lambda a: np.broadcast_to(a, (2, 2)))
    add("expand/of_view", "expand", F.rand("i32", [4, 1]), [["slice", 0, None, None, -2]], {"shape": [2, 2, 3]},
        lambda a: np.broadcast_to(a, (2, 2, 3)))
    add("expand/bad_size", "expand", w, None, {"shape": [4, 4]}, None, error="TG_ERR_SHAPE")
    add("expand/lower_rank", "expand", w, None, {"shape": [3]}, None, error="TG_ERR_SHAPE")
    add("broadcast_to/bad_size", "broadcast_to", w, None, {"shape": [2, 2]}, None, error="TG_ERR_SHAPE")

    s = F.rand("f64", [1, 3, 1, 2])
    add("squeeze/all", "squeeze", s, None, {}, lambda a: np.squeeze(a))
    add("squeeze/axis0", "squeeze", s, None, {"axes": [0]}, lambda a: np.squeeze(a, 0))
    add("squeeze/axes_neg", "squeeze", s, None, {"axes": [-2, 0]}, lambda a: np.squeeze(a, (2, 0)))
    add("squeeze/none_size1", "squeeze", F.rand("f64", [2, 3]), None, {}, lambda a: np.squeeze(a))
    add("squeeze/all_ones_to_0d", "squeeze", F.rand("i32", [1, 1]), None, {}, lambda a: np.squeeze(a))
    add("squeeze/of_view", "squeeze", s, [["permute", [3, 2, 1, 0]]], {}, lambda a: np.squeeze(a))
    add("squeeze/not_size1", "squeeze", s, None, {"axes": [1]}, None, error="TG_ERR_SHAPE")
    add("squeeze/bad_axis", "squeeze", s, None, {"axes": [4]}, None, error="TG_ERR_ARG")
    for ax in [0, 1, 2, -1, -3]:
        add("unsqueeze/%d" % ax, "unsqueeze", F.rand("f32", [2, 3]), None, {"axis": ax},
            lambda a: np.expand_dims(a, ax))
    add("unsqueeze/0d", "unsqueeze", np.array(1.0), None, {"axis": 0}, lambda a: np.expand_dims(a, 0))
    add("unsqueeze/of_view", "unsqueeze", F.rand("f32", [3, 4]), [["permute", [1, 0]]], {"axis": 1},
        lambda a: np.expand_dims(a, 1))
    add("unsqueeze/bad_axis", "unsqueeze", F.rand("f32", [2, 3]), None, {"axis": 3}, None, error="TG_ERR_ARG")

    m = F.rand("f64", [3, 4])
    for off in [0, 1, -1, 3, -2, 4, -3, 10]:
        add("diagonal/2d_off%d" % off, "diagonal", m, None, {"offset": off, "axis1": 0, "axis2": 1},
            lambda a: np.diagonal(a, off, 0, 1))
    add("diagonal/2d_swapped_axes", "diagonal", m, None, {"offset": 1, "axis1": 1, "axis2": 0},
        lambda a: np.diagonal(a, 1, 1, 0))
    t3 = F.rand("c64", [2, 3, 4])
    for off, a1, a2 in [(0, 0, 2), (1, 2, 0), (-1, -1, 1), (0, 1, 2)]:
        add("diagonal/3d_%d_%d_%d" % (off, a1, a2), "diagonal", t3, None, {"offset": off, "axis1": a1, "axis2": a2},
            lambda a: np.diagonal(a, off, a1, a2))
    add("diagonal/of_view", "diagonal", m, [["slice", 1, None, None, -1]], {"offset": 0, "axis1": 0, "axis2": 1},
        lambda a: np.diagonal(a))
    add("diagonal/same_axis", "diagonal", m, None, {"offset": 0, "axis1": 1, "axis2": -1}, None, error="TG_ERR_ARG")
    add("diagonal/1d_error", "diagonal", F.rand("f64", [3]), None, {"offset": 0, "axis1": 0, "axis2": 1}, None,
        error="TG_ERR_SHAPE")

    for d in CPLX:
        c = F.rand(d, [2, 3])
        add("real/%s" % d, "real", c, None, {}, lambda a: a.real)
        add("imag/%s" % d, "imag", c, None, {}, lambda a: a.imag)
        add("real/%s_view" % d, "real", c, [["permute", [1, 0]]], {}, lambda a: a.real)
        add("imag/%s_view" % d, "imag", c, [["slice", 1, None, None, -1]], {}, lambda a: a.imag)
    add("real/f32_itself", "real", F.rand("f32", [3]), None, {}, lambda a: a.real)
    add("real/i32_itself", "real", F.rand("i32", [3]), None, {}, lambda a: a.real)
    add("imag/f32_error", "imag", F.rand("f32", [3]), None, {}, None, error="TG_ERR_DTYPE")

    add("permute/0d", "permute", np.array(1.5), None, {"perm": []}, lambda a: a.transpose())
    add("squeeze/0d", "squeeze", np.array(1.5), None, {}, lambda a: np.squeeze(a))
    add("unsqueeze/0d_neg", "unsqueeze", np.array(1.5), None, {"axis": -1}, lambda a: np.expand_dims(a, -1))
    add("flatten/empty", "flatten", np.zeros((2, 0, 3)), None, {}, lambda a: a.reshape(-1))
    add("transpose/1d_same_axis", "transpose", F.rand("f32", [3]), None, {"axis0": 0, "axis1": -1},
        lambda a: np.swapaxes(a, 0, -1))
    add("diagonal/of_expanded", "diagonal", F.rand("f64", [1, 4]), [["expand", [3, 4]]],
        {"offset": 1, "axis1": 0, "axis2": 1}, lambda a: np.diagonal(a, 1))
    add("slice/of_expanded", "slice", F.rand("i32", [4, 1]), [["expand", [4, 5]]],
        {"axis": 1, "start": None, "stop": None, "step": -2}, lambda a: a[:, ::-2])
    add("reshape/diagonal_view", "reshape", F.rand("f64", [4, 4]), [["diagonal", 0, 0, 1]], {"shape": [2, 2]},
        lambda a: a.reshape(2, 2))
    add("reshape/real_view", "reshape", F.rand("c64", [2, 3]), [["real"]], {"shape": [3, 2]},
        lambda a: a.reshape(3, 2))
    add("view/real_view_split", "view", F.rand("c64", [2, 6]), [["real"]], {"shape": [2, 2, 3]},
        lambda a: a.reshape(2, 2, 3))
    for d, view in [("f32", [["permute", [1, 0]]]), ("c128", [["slice", 0, None, None, -1]]), ("i64", None),
                    ("bool", [["expand", [3, 2, 2]]]), ("f64", [["slice", 1, 1, 1, None]])]:
        base = F.rand(d, [2, 2])
        tag = "%s_%s" % (d, "view" if view else "contig")
        add("contiguous/%s" % tag, "contiguous", base, view, {}, lambda a: np.ascontiguousarray(a))
        add("copy/%s" % tag, "copy", base, view, {}, lambda a: np.array(a, copy=True))
    # 16 axes (TG_MAX_DIMS): permute, unsqueeze past the limit
    h = F.rand("f64", [2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1, 2])
    add("permute/rank16_reversed", "permute", h, None, {"perm": list(range(15, -1, -1))},
        lambda a: np.transpose(a, list(range(15, -1, -1))))
    add("permute/rank16_of_view", "permute", h, [["slice", 0, None, None, -1]], {"perm": [1, 0] + list(range(2, 16))},
        lambda a: np.transpose(a, [1, 0] + list(range(2, 16))))
    add("unsqueeze/rank16_over_max", "unsqueeze", h, None, {"axis": 0}, None, error="TG_ERR_SHAPE")
    return F


# ============================================================ matmul
def gen_matmul():
    F = Family("matmul", 7)

    def mm(a, b):
        r = np.matmul(a, b)
        if r.dtype.kind in "fc":
            r = np.matmul(hi_prec(a), hi_prec(b)).astype(r.dtype)
        return r
    shapes = [("1d_1d", [5], [5]), ("1d_2d", [4], [4, 3]), ("2d_1d", [3, 4], [4]), ("2d_2d", [3, 4], [4, 2]),
              ("batched", [2, 3, 4], [2, 4, 5]), ("bcast_batch", [2, 1, 3, 4], [3, 4, 2]),
              ("bcast_2d_3d", [3, 4], [2, 4, 3]), ("1d_3d", [4], [2, 4, 3]), ("3d_1d", [2, 3, 4], [4]),
              ("k0", [3, 0], [0, 2]), ("m0", [0, 3], [3, 2]), ("outer_1x1", [3, 1], [1, 4]), ("empty_batch", [0, 2, 3], [3, 2])]
    for d in ["f32", "f64", "c64", "c128", "i32", "i64"]:
        for nm, sa, sb in shapes:
            if d in INTS + CPLX and nm in ("bcast_2d_3d", "1d_3d", "outer_1x1"):
                continue
            F.add("matmul/%s_%s" % (d, nm), "matmul", [F.rand(d, sa, -2, 2), F.rand(d, sb, -2, 2)], fn=mm,
                  atol=1e-5 if d in ("f32", "c64") else None)
        # transposed and column-sliced operands, negative strides
        F.add("matmul/%s_transposed" % d, "matmul", [(F.rand(d, [4, 3], -2, 2), [["permute", [1, 0]]]),
                                                      (F.rand(d, [2, 4], -2, 2), [["permute", [1, 0]]])],
              fn=mm, atol=1e-5 if d in ("f32", "c64") else None)
        F.add("matmul/%s_col_sliced" % d, "matmul", [(F.rand(d, [3, 8], -2, 2), [["slice", 1, 1, 5, None]]),
                                                      (F.rand(d, [4, 6], -2, 2), [["slice", 1, None, None, 2]])],
              fn=mm, atol=1e-5 if d in ("f32", "c64") else None)
        F.add("matmul/%s_neg_stride" % d, "matmul", [(F.rand(d, [3, 4], -2, 2), [["slice", 0, None, None, -1]]),
                                                     (F.rand(d, [4, 2], -2, 2), [["slice", 1, None, None, -1]])],
              fn=mm, atol=1e-5 if d in ("f32", "c64") else None)
        F.add("matmul/%s_bcast_operand" % d, "matmul", [(F.rand(d, [1, 4], -2, 2), [["expand", [3, 4]]]),
                                                        F.rand(d, [2, 4, 2], -2, 2)],
              fn=mm, atol=1e-5 if d in ("f32", "c64") else None)
    F.add("matmul/f32_larger", "matmul", [F.rand("f32", [17, 33]), F.rand("f32", [33, 9])], fn=mm, atol=1e-4)
    F.add("matmul/f64_batched_transposed", "matmul", [(F.rand("f64", [2, 5, 3]), [["permute", [0, 2, 1]]]),
                                                      (F.rand("f64", [5, 4, 2]), [["permute", [1, 0, 2]], ["slice", 0, 0, 2, None]])], fn=mm)
    F.add("matmul/f64_real_view_operands", "matmul", [(F.rand("c128", [3, 4]), [["real"]]),
                                                      (F.rand("c128", [4, 2]), [["imag"], ["slice", 0, None, None, -1]])],
          fn=mm)
    F.add("matmul/c64_diagonal_batch", "matmul", [(F.rand("c64", [3, 2, 3, 3]), [["diagonal", 0, 0, 2], ["permute", [2, 0, 1]]]),
                                                  F.rand("c64", [3, 2])], fn=mm, atol=1e-5)
    F.add("matmul/promote_f32_f64", "matmul", [F.rand("f32", [2, 3]), F.rand("f64", [3, 2])], fn=mm)
    F.add("matmul/promote_i32_f32", "matmul", [F.rand("i32", [2, 3]), F.rand("f32", [3, 2])], fn=mm)
    F.add("matmul/promote_c64_f64", "matmul", [F.rand("c64", [2, 3]), F.rand("f64", [3])], fn=mm)
    # f16 (storage dtype): the exact product of the f16 operands rounded once
    # to f16; Tangent accumulates in f32, so a result may be 1 ulp away
    def mm16(a, b):
        return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.float16)
    for nm, sa, sb in [("2d_2d", [3, 4], [4, 2]), ("1d_2d", [4], [4, 3]), ("batched", [2, 3, 4], [2, 4, 5]),
                       ("bcast_batch", [2, 1, 3, 8], [3, 8, 2]), ("tiles", [40, 72], [72, 48]),
                       ("tiles_batched", [3, 20, 24], [3, 24, 136]), ("k0", [3, 0], [0, 2])]:
        F.add("matmul/f16_%s" % nm, "matmul", [F.rand("f16", sa), F.rand("f16", sb)], fn=mm16, rtol=1e-3, atol=1e-3)
    F.add("matmul/f16_transposed", "matmul", [(F.rand("f16", [64, 32]), [["permute", [1, 0]]]),
                                             (F.rand("f16", [48, 64]), [["permute", [1, 0]]])],
          fn=mm16, rtol=1e-3, atol=1e-3)
    F.add("matmul/f16_col_sliced", "matmul", [(F.rand("f16", [24, 40]), [["slice", 1, 8, 40, None]]),
                                             (F.rand("f16", [32, 33]), [["slice", 1, 1, 33, None]])],
          fn=mm16, rtol=1e-3, atol=1e-3)
    F.add("matmul/promote_f16_f32", "matmul", [F.rand("f16", [2, 3]), F.rand("f32", [3, 2])],
          fn=lambda a, b: np.matmul(a.astype(np.float32), b), atol=1e-5)
    F.add("matmul/inner_mismatch", "matmul", [F.rand("f32", [2, 3]), F.rand("f32", [4, 2])], error="TG_ERR_SHAPE")
    F.add("matmul/1d_mismatch", "matmul", [F.rand("f64", [3]), F.rand("f64", [4])], error="TG_ERR_SHAPE")
    F.add("matmul/batch_mismatch", "matmul", [F.rand("f32", [2, 2, 3]), F.rand("f32", [3, 3, 2])],
          error="TG_ERR_SHAPE")
    F.add("matmul/0d_error", "matmul", [np.array(2.0), F.rand("f64", [2])], error="TG_ERR_SHAPE")
    return F


FAMILIES = {"creation": gen_creation, "unary": gen_unary, "binary": gen_binary, "cast": gen_cast,
            "reduce": gen_reduce, "views": gen_views, "matmul": gen_matmul}


def main(argv):
    names = argv[1:] or list(FAMILIES)
    os.makedirs(OUT, exist_ok=True)
    for n in names:
        FAMILIES[n]().write()


if __name__ == "__main__":
    main(sys.argv)
