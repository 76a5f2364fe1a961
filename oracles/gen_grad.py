#!/usr/bin/python3
"""Oracle cases for Tangent's derivative rules, written to
oracles/data/grad.json and checked by tests/test_oracle_grad.c.

Expected values come only from PyTorch 1.13: reverse mode from
torch.autograd.grad(outputs, inputs, grad_outputs), forward mode from
torch.autograd.forward_ad (dual numbers), else functorch.jvp, else no JVP
case for that op (the generator prints which). PyTorch's complex convention
(conjugate Wirtinger, docs: AD-REFERENCE.md section 1) is Tangent's.

Case layout (the harness format of oracles/README.md):
- "op" is "vjp:<name>" or "jvp:<name>", <name> a key of the forward table of
  tests/test_oracle_grad.c (mostly the tg_<name> function);
- "inputs" are the op's primal inputs (attrs.n_primal of them; index and
  condition tensors included), then for vjp one cotangent of the op's output,
  for jvp one tangent per differentiated primal;
- attrs.wrt lists the differentiated primals (absent: all); the other attrs
  are the op's (axes, keepdim, correction, p, shape, perm, ...);
- "outputs": vjp: the cotangent of each primal of wrt; jvp: the tangent of
  the op's output.
Run through oracles/regen.sh (Debian's /usr/bin/python3)."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torch.autograd.forward_ad as fwAD

try:
    import functorch
except ImportError:      # pragma: no cover
    functorch = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_core as core  # noqa: E402  (tj, view_np, Family's writer)

GEN = "oracles/gen_grad.py"
core.GEN = GEN
RTOL, ATOL = 1e-10, 1e-12        # the two sides round differently: different formulas
NO_VJP = {}                       # case -> reason, printed at the end
NO_JVP = {}                       # op -> reason, printed at the end
JVP_VIA_FUNCTORCH = set()


TDT = {torch.float64: "f64", torch.complex128: "c128"}


def tt(a):
    a = np.asarray(a)
    return torch.from_numpy(np.array(a, order="C", copy=True))


def as_np(t, like):
    """A torch result as NumPy; None (input the output does not depend on) -> zeros like `like`."""
    if t is None:
        return np.zeros(np.shape(like), dtype=np.asarray(like).dtype)
    return t.detach().resolve_conj().resolve_neg().numpy().copy()


class Grad(core.Family):
    def vjp_jvp(self, name, op, fn, ins, attrs=None, wrt=None, jvp=True, xfail=None, rtol=RTOL, atol=ATOL,
                cot=None, jvp_fn=None):
        """ins: primal arrays or (array, view steps); fn(*torch primals) -> one tensor.
        Adds "vjp:<op>" (and "jvp:<op>") cases named vjp:<name> / jvp:<name>.
        jvp_fn: the function forward mode differentiates instead of fn (same values)."""
        attrs = dict(attrs or {})
        vals = []
        for x in ins:
            base, view = (x if isinstance(x, tuple) else (x, None))
            vals.append(core.view_np(np.asarray(base), view))
        n = len(ins)
        wrt = list(range(n)) if wrt is None else list(wrt)
        attrs["n_primal"] = n
        if wrt != list(range(n)):
            attrs["wrt"] = wrt

        # reverse mode
        prim = [tt(v) for v in vals]
        for i in wrt:
            prim[i].requires_grad_(True)
        try:
            y = fn(*prim)
        except RuntimeError as e:       # PyTorch has no such op (for this dtype): no case
            NO_VJP[name] = str(e).splitlines()[0]
            return
        if cot is None:
            cot = self.rand(TDT[y.dtype], tuple(y.shape))
        cot = np.asarray(cot, dtype=core.NP[TDT[y.dtype]])
        gs = torch.autograd.grad([y], [prim[i] for i in wrt], [tt(cot)], allow_unused=True)
        outs = [as_np(g, vals[i]) for g, i in zip(gs, wrt)]
        self.add("vjp:" + name, "vjp:" + op, list(ins) + [cot], attrs=attrs, outs=outs, xfail=xfail,
                 rtol=rtol, atol=atol)
        if not jvp:
            return
        # forward mode
        tans = [self.rand(core.dname(vals[i]), vals[i].shape) for i in wrt]
        yt = None
        try:
            with fwAD.dual_level():
                p = [tt(v) for v in vals]
                for k, i in enumerate(wrt):
                    p[i] = fwAD.make_dual(p[i], tt(tans[k]))
                y = (jvp_fn or fn)(*p)
                pr, yt = fwAD.unpack_dual(y)
                yt = as_np(yt, np.zeros(tuple(pr.shape), core.NP[TDT[pr.dtype]]))
        except (RuntimeError, NotImplementedError) as e:
            if functorch is None:
                NO_JVP[op] = str(e).splitlines()[0]
                return
            try:
                def g(*d):
                    q = [tt(v) for v in vals]
                    for k, i in enumerate(wrt):
                        q[i] = d[k]
                    return (jvp_fn or fn)(*q)
                _, yt = functorch.jvp(g, tuple(tt(vals[i]) for i in wrt), tuple(tt(t) for t in tans))
                yt = as_np(yt, None)
                JVP_VIA_FUNCTORCH.add(op)
            except Exception as e2:  # noqa: BLE001
                NO_JVP[op] = str(e2).splitlines()[0]
                return
        self.add("jvp:" + name, "jvp:" + op, list(ins) + tans, attrs=attrs, outs=[yt], xfail=xfail,
                 rtol=rtol, atol=atol)


def t_sign(x):
    """tg_sign: torch.sign for real x (derivative 0), torch.sgn (x/|x|) for complex."""
    return torch.sgn(x) if x.is_complex() else torch.sign(x)


def to_c(t):
    """Forward mode of a real operand of a complex binary op goes through an explicit cast:
    torch 1.13's forward AD of pow(real, complex) drops the imaginary part of the base's term
    (finite differences and its own reverse mode disagree with it), the cast avoids that."""
    return t.to(torch.complex128)


def cplx(a):
    return np.asarray(a, dtype=np.complex128)


def main():
    g = Grad("grad", 20240607)
    R = g.rand

    # ---- unary ---------------------------------------------------------------
    un = [  # name, torch fn, (lo, hi), complex too
        ("neg", torch.neg, (-2, 2), True), ("exp", torch.exp, (-2, 2), True), ("log", torch.log, (0.5, 3), True),
        ("log2", torch.log2, (0.5, 3), True), ("log10", torch.log10, (0.5, 3), True),
        ("sqrt", torch.sqrt, (0.5, 3), True), ("sin", torch.sin, (-2, 2), True), ("cos", torch.cos, (-2, 2), True),
        ("tan", torch.tan, (-1, 1), True), ("tanh", torch.tanh, (-2, 2), True),
        ("sigmoid", torch.sigmoid, (-3, 3), True), ("asin", torch.asin, (-0.8, 0.8), True),
        ("acos", torch.acos, (-0.8, 0.8), True), ("atan", torch.atan, (-0.8, 0.8), True),
        ("sinh", torch.sinh, (-2, 2), True), ("cosh", torch.cosh, (-2, 2), True),
        ("asinh", torch.asinh, (-2, 2), True), ("acosh", torch.acosh, (1.2, 3), True),
        ("atanh", torch.atanh, (-0.8, 0.8), True), ("expm1", torch.expm1, (-2, 2), True),
        ("log1p", torch.log1p, (0.1, 3), True), ("rsqrt", torch.rsqrt, (0.5, 3), True),
        ("reciprocal", torch.reciprocal, (0.5, 2), True), ("square", torch.square, (-2, 2), True),
        ("abs", torch.abs, (-2, 2), True), ("sign", t_sign, (-2, 2), True), ("angle", torch.angle, (-2, 2), True),
        ("conj", torch.conj, (-2, 2), True), ("real", torch.real, (-2, 2), True), ("imag", torch.imag, (-2, 2), None),
        ("relu", torch.relu, (-2, 2), False), ("gelu", F.gelu, (-3, 3), False), ("silu", F.silu, (-3, 3), False),
        ("softplus", F.softplus, (-3, 3), False), ("erf", torch.erf, (-2, 2), False),
        ("erfc", torch.erfc, (-2, 2), False), ("floor", torch.floor, (-3, 3), False),
    ]
    for op, fn, (lo, hi), cx in un:
        if cx is not None:
            g.vjp_jvp(op + "/f64", op, fn, [R("f64", (2, 3), lo, hi)])
        if cx is not False:
            g.vjp_jvp(op + "/c128", op, fn, [R("c128", (2, 3), lo, hi)])
    # a non-contiguous input (transposed view)
    g.vjp_jvp("exp/f64_transposed", "exp", torch.exp, [(R("f64", (3, 2)), [["permute", [1, 0]]])])
    g.vjp_jvp("sin/c128_negstep", "sin", torch.sin, [(R("c128", (2, 4)), [["slice", 1, None, None, -2]])])

    # ---- non-differentiable points (AD-REFERENCE.md section 2) --------------
    z3 = np.array([-1.5, 0.0, 2.0])
    g.vjp_jvp("relu/at_zero", "relu", torch.relu, [z3], cot=[0.7, 0.9, 1.1])
    g.vjp_jvp("abs/at_zero", "abs", torch.abs, [z3], cot=[0.7, 0.9, 1.1])
    g.vjp_jvp("sign/f64_with_zero", "sign", t_sign, [z3], cot=[0.7, 0.9, 1.1])
    g.vjp_jvp("sqrt/at_zero", "sqrt", torch.sqrt, [np.array([0.0, 4.0])], cot=[1.0, 0.5])
    g.vjp_jvp("abs/c128_at_zero", "abs", torch.abs, [cplx([0, 3 + 4j, -1j])], cot=[0.7, 0.9, 1.1])
    g.vjp_jvp("sign/c128_with_zero", "sign", t_sign, [cplx([0, 3 + 4j, -1j])])
    g.vjp_jvp("angle/f64_signs", "angle", torch.angle, [np.array([-2.0, 0.0, 3.0])])

    # ---- binary ------------------------------------------------------------------
    bins = [("add", torch.add, (-2, 2), True), ("sub", torch.sub, (-2, 2), True), ("mul", torch.mul, (-2, 2), True),
            ("div", torch.div, (0.5, 2), True), ("pow", torch.pow, (0.5, 2), True),
            ("maximum", torch.maximum, (-2, 2), False), ("minimum", torch.minimum, (-2, 2), False),
            ("atan2", torch.atan2, (0.5, 2), False)]
    shapes = [("same", (2, 3), (2, 3)), ("bcast_row", (2, 3), (3,)), ("bcast_both", (2, 1), (1, 3))]
    for op, fn, (lo, hi), cx in bins:
        for d in (["f64", "c128"] if cx else ["f64"]):
            for tag, sa, sb in shapes:
                if d == "c128" and tag == "same":
                    continue
                g.vjp_jvp("%s/%s_%s" % (op, d, tag), op, fn, [R(d, sa, lo, hi), R(d, sb, lo, hi)])
        if cx:   # a real operand of a complex op gets the real part of its cotangent
            g.vjp_jvp(op + "/f64_c128", op, fn, [R("f64", (2, 3), lo, hi), R("c128", (3,), lo, hi)],
                      jvp_fn=lambda a, b, fn=fn: fn(to_c(a), b))
    # (a negative real base is left out: torch 1.13 takes the real log there, giving NaN)
    g.vjp_jvp("pow/f64_base_c128_exp", "pow", torch.pow,
              [np.array([0.5, 0.0, 2.0, 0.0]), cplx([0.5 + 0.3j, 2, 1 - 1j, 1.5])],
              jvp_fn=lambda a, b: torch.pow(to_c(a), b))
    g.vjp_jvp("pow/c128_zero_base", "pow", torch.pow, [cplx([0, 1 + 1j, 0]), cplx([2, 0.5 - 1j, 3])])
    g.vjp_jvp("pow/f64_zero_base", "pow", torch.pow, [np.array([0.0, 1.5, 0.0]), np.array([2.0, -0.5, 0.0])])
    g.vjp_jvp("pow/f64_scalar_exponent", "pow", torch.pow, [R("f64", (2, 3), 0.5, 2), np.array(2.5)])
    g.vjp_jvp("maximum/ties", "maximum", torch.maximum,
              [np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 0.0, 3.0, 4.0])], cot=[0.4, 1.0, -2.0, 3.0])
    g.vjp_jvp("minimum/ties", "minimum", torch.minimum,
              [np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 0.0, 3.0, 4.0])], cot=[0.4, 1.0, -2.0, 3.0])
    g.vjp_jvp("maximum/ties_bcast", "maximum", torch.maximum,
              [np.array([[1.0, 2.0], [0.5, 2.0]]), np.array([2.0])], cot=[[1.0, 2.0], [3.0, 4.0]])
    for d in ["f64", "c128"]:
        cond = g.rng.random((2, 3)) < 0.5
        g.vjp_jvp("where/" + d, "where", torch.where, [cond, R(d, (2, 3)), R(d, (3,))], wrt=[1, 2])
    g.vjp_jvp("where/bcast_cond", "where", torch.where,
              [np.array([True, False, True]), R("f64", (2, 1)), R("f64", (2, 3))], wrt=[1, 2])

    # ---- reductions ------------------------------------------------------------
    def red(tfn):
        return lambda at: (lambda x: tfn(x, at))

    def axes_kw(a):
        ax, kd = a.get("axes"), a.get("keepdim", False)
        return (tuple(ax) if ax is not None else tuple(range(2)), kd)

    def t_sum(x, a):
        ax, kd = axes_kw(a)
        return torch.sum(x, dim=ax, keepdim=kd)

    def t_mean(x, a):
        ax, kd = axes_kw(a)
        return torch.mean(x, dim=ax, keepdim=kd)

    def t_prod(x, a):
        if a.get("axes") is None:
            return torch.prod(x)
        y = torch.prod(x, dim=a["axes"][0], keepdim=a.get("keepdim", False))
        return y

    def t_amax(x, a):
        ax, kd = axes_kw(a)
        return torch.amax(x, dim=ax, keepdim=kd)

    def t_amin(x, a):
        ax, kd = axes_kw(a)
        return torch.amin(x, dim=ax, keepdim=kd)

    def t_lse(x, a):
        ax, kd = axes_kw(a)
        return torch.logsumexp(x, dim=ax, keepdim=kd)

    def t_var(x, a):
        ax, kd = axes_kw(a)
        return torch.var(x, dim=ax, unbiased=bool(a["correction"]), keepdim=kd)

    def t_std(x, a):
        ax, kd = axes_kw(a)
        return torch.std(x, dim=ax, unbiased=bool(a["correction"]), keepdim=kd)

    def t_norm(x, a):
        ax, kd = axes_kw(a)
        p = float("inf") if a["p"] == "inf" else a["p"]
        return torch.linalg.vector_norm(x, ord=p, dim=ax, keepdim=kd)

    RED = {"sum": t_sum, "mean": t_mean, "prod": t_prod, "max": t_amax, "min": t_amin, "logsumexp": t_lse,
           "var": t_var, "std": t_std, "norm": t_norm}

    def R_(name, op, x, attrs, **kw):
        g.vjp_jvp(name, op, red(RED[op])(attrs), [x], attrs=attrs, **kw)

    for d in ["f64", "c128"]:
        R_("sum/%s_all" % d, "sum", R(d, (2, 3)), {})
        R_("sum/%s_ax1_keep" % d, "sum", R(d, (2, 3)), {"axes": [1], "keepdim": True})
        R_("mean/%s_ax0" % d, "mean", R(d, (2, 3)), {"axes": [0]})
        R_("prod/%s_ax1" % d, "prod", R(d, (2, 3), 0.5, 2), {"axes": [1]})
        R_("var/%s_ax0_ddof1" % d, "var", R(d, (3, 2)), {"axes": [0], "correction": 1})
        R_("norm/%s_p2_ax1" % d, "norm", R(d, (2, 3)), {"p": 2, "axes": [1]})
        R_("norm/%s_p1_all" % d, "norm", R(d, (2, 3)), {"p": 1})
        R_("norm/%s_pinf_ax0_keep" % d, "norm", R(d, (2, 3)), {"p": "inf", "axes": [0], "keepdim": True})
        R_("sum/%s_transposed" % d, "sum", (R(d, (3, 2)), [["permute", [1, 0]]]), {"axes": [1]})
    R_("mean/f64_all", "mean", R("f64", (2, 3)), {})
    R_("prod/f64_all", "prod", R("f64", (2, 3), 0.5, 2), {})
    R_("prod/one_zero", "prod", np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]]), {"axes": [1]})
    R_("prod/two_zeros", "prod", np.array([[2.0, 0.0, 0.0], [0.0, -2.0, 0.5]]), {"axes": [1]})
    R_("prod/all_one_zero", "prod", np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5]]), {})
    R_("prod/c128_one_zero", "prod", cplx([[2 + 1j, 0, 3 - 1j], [1j, 0, 0]]), {"axes": [1]})
    R_("max/ax1", "max", R("f64", (2, 4)), {"axes": [1]})
    R_("min/all", "min", R("f64", (2, 4)), {})
    R_("max/ties", "max", np.array([1.0, 3.0, 3.0]), {"axes": [0]}, cot=2.0)
    R_("max/ties_ax1_keep", "max", np.array([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0]]), {"axes": [1], "keepdim": True},
       cot=[[2.0], [3.0]])
    R_("min/ties_all", "min", np.array([[1.0, 3.0, -1.0], [-1.0, 2.0, -1.0]]), {}, cot=1.5)
    R_("logsumexp/ax1", "logsumexp", R("f64", (2, 4)), {"axes": [1]})
    R_("logsumexp/all", "logsumexp", R("f64", (2, 3)), {})
    R_("var/f64_all_ddof0", "var", R("f64", (2, 3)), {"correction": 0})
    R_("std/f64_all_ddof0", "std", R("f64", (2, 3)), {"correction": 0})
    R_("std/f64_ax1_ddof1", "std", R("f64", (2, 4)), {"axes": [1], "correction": 1})
    R_("std/c128_ax1_ddof1", "std", R("c128", (2, 4)), {"axes": [1], "correction": 1})
    R_("norm/p2_zero_vector", "norm", np.zeros(4), {"p": 2, "axes": [0]}, cot=1.0)
    R_("norm/c128_p2_zero_vector", "norm", np.zeros(3, np.complex128), {"p": 2, "axes": [0]}, cot=1.0)
    R_("norm/p1_with_zero", "norm", np.array([1.0, 0.0, -2.0]), {"p": 1, "axes": [0]}, cot=1.0)
    R_("norm/pinf_ties", "norm", np.array([1.0, -3.0, 3.0]), {"p": "inf", "axes": [0]}, cot=1.0)

    # ---- matmul ------------------------------------------------------------------
    mm = [("2d", (3, 4), (4, 2)), ("vec_mat", (4,), (4, 2)), ("mat_vec", (3, 4), (4,)), ("dot", (4,), (4,)),
          ("batched_bcast", (2, 3, 4), (4, 2)), ("batched_both", (2, 1, 3, 4), (3, 4, 2))]
    for tag, sa, sb in mm:
        g.vjp_jvp("matmul/f64_" + tag, "matmul", torch.matmul, [R("f64", sa), R("f64", sb)])
    for tag, sa, sb in [mm[0], mm[1], mm[4]]:
        g.vjp_jvp("matmul/c128_" + tag, "matmul", torch.matmul, [R("c128", sa), R("c128", sb)])
    g.vjp_jvp("matmul/f64_transposed", "matmul", torch.matmul,
              [(R("f64", (4, 3)), [["permute", [1, 0]]]), R("f64", (4, 2))])

    # ---- views ---------------------------------------------------------------------
    for d in ["f64", "c128"]:
        g.vjp_jvp("reshape/" + d, "reshape", lambda x: x.reshape(3, 4), [R(d, (2, 6))], attrs={"shape": [3, -1]})
        g.vjp_jvp("permute/" + d, "permute", lambda x: x.permute(2, 0, 1), [R(d, (2, 3, 4))],
                  attrs={"perm": [2, 0, 1]})
        g.vjp_jvp("slice/%s_step2" % d, "slice", lambda x: x[:, 1:5:2], [R(d, (2, 5))],
                  attrs={"axis": 1, "start": 1, "stop": 5, "step": 2})
        g.vjp_jvp("diagonal/%s_off1" % d, "diagonal", lambda x: torch.diagonal(x, 1, 0, 1), [R(d, (3, 4))],
                  attrs={"offset": 1, "axis1": 0, "axis2": 1})
        g.vjp_jvp("expand/" + d, "expand", lambda x: x.expand(2, 3, 4), [R(d, (3, 1))],
                  attrs={"shape": [2, 3, 4]})
    # negative steps: torch has none, so x[::-2] = flip then step 2
    g.vjp_jvp("slice/f64_negstep", "slice", lambda x: torch.flip(x, [1])[:, ::2], [R("f64", (2, 5))],
              attrs={"axis": 1, "start": None, "stop": None, "step": -2})
    g.vjp_jvp("slice/f64_neg_bounds", "slice", lambda x: x[-3:-1], [R("f64", (5, 2))],
              attrs={"axis": 0, "start": -3, "stop": -1, "step": 1})
    g.vjp_jvp("diagonal/f64_neg_offset_3d", "diagonal", lambda x: torch.diagonal(x, -1, 2, 0),
              [R("f64", (3, 2, 4))], attrs={"offset": -1, "axis1": 2, "axis2": 0})
    g.vjp_jvp("select/f64", "select", lambda x: x[:, -1], [R("f64", (2, 3))], attrs={"axis": 1, "index": -1})
    g.vjp_jvp("flip/c128", "flip", lambda x: torch.flip(x, [0]), [R("c128", (3, 2))], attrs={"axes": [0]})
    g.vjp_jvp("expand/f64_new_axes", "expand", lambda x: x.expand(2, 2, 3), [R("f64", (3,))],
              attrs={"shape": [2, 2, -1]})

    # ---- indexing ----------------------------------------------------------------
    for d in ["f64", "c128"]:
        g.vjp_jvp("gather/" + d, "gather", lambda x, i: torch.gather(x, 1, i),
                  [R(d, (2, 4)), np.array([[3, 0, 3], [1, 1, 2]], np.int64)], attrs={"axis": 1}, wrt=[0])
        g.vjp_jvp("index_select/" + d, "index_select", lambda x, i: torch.index_select(x, 0, i),
                  [R(d, (3, 2)), np.array([2, 0, 2, 2], np.int64)], attrs={"axis": 0}, wrt=[0])
        g.vjp_jvp("scatter_add/" + d, "scatter_add", lambda x, i, s: torch.scatter_add(x, 1, i, s),
                  [R(d, (2, 4)), np.array([[1, 1, 0], [3, 0, 3]], np.int64), R(d, (2, 3))],
                  attrs={"axis": 1}, wrt=[0, 2])
    g.vjp_jvp("gather/f64_ax0", "gather", lambda x, i: torch.gather(x, 0, i),
              [R("f64", (3, 2)), np.array([[2, 0], [2, 2]], np.int64)], attrs={"axis": 0}, wrt=[0])

    # ---- shaping -------------------------------------------------------------------
    for d in ["f64", "c128"]:
        g.vjp_jvp("concat/%s_ax0" % d, "concat", lambda a, b: torch.cat([a, b], 0),
                  [R(d, (2, 3)), R(d, (1, 3))], attrs={"axis": 0})
        g.vjp_jvp("pad/" + d, "pad", lambda x: F.pad(x, (2, 1, 1, 0), value=1.5), [R(d, (2, 3))],
                  attrs={"pads": [1, 0, 2, 1], "value": 1.5})
        g.vjp_jvp("cumsum/%s_ax1" % d, "cumsum", lambda x: torch.cumsum(x, 1), [R(d, (2, 4))], attrs={"axis": 1})
        g.vjp_jvp("cumprod/%s_ax1" % d, "cumprod", lambda x: torch.cumprod(x, 1), [R(d, (2, 4), 0.5, 2)],
                  attrs={"axis": 1})
    g.vjp_jvp("concat/f64_three_ax1", "concat", lambda a, b, c: torch.cat([a, b, c], 1),
              [R("f64", (2, 1)), R("f64", (2, 3)), R("f64", (2, 2))], attrs={"axis": 1})
    g.vjp_jvp("cumsum/f64_ax0", "cumsum", lambda x: torch.cumsum(x, 0), [R("f64", (3, 2))], attrs={"axis": 0})
    g.vjp_jvp("cumprod/f64_ax0_negative", "cumprod", lambda x: torch.cumprod(x, 0), [R("f64", (4, 2), -2, -0.5)],
              attrs={"axis": 0})

    # ---- sort / topk (values; distinct elements) --------------------------------
    def distinct(shape):
        return g.rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) * 0.5 - 2.0

    g.vjp_jvp("sort/asc_ax1", "sort", lambda x: torch.sort(x, 1, False).values, [distinct((2, 4))],
              attrs={"axis": 1, "descending": False})
    g.vjp_jvp("sort/desc_ax0", "sort", lambda x: torch.sort(x, 0, True).values, [distinct((3, 2))],
              attrs={"axis": 0, "descending": True})
    g.vjp_jvp("topk/largest_ax1", "topk", lambda x: torch.topk(x, 2, 1, True).values, [distinct((2, 5))],
              attrs={"k": 2, "axis": 1, "largest": True})
    g.vjp_jvp("topk/smallest_ax0", "topk", lambda x: torch.topk(x, 2, 0, False).values, [distinct((4, 3))],
              attrs={"k": 2, "axis": 0, "largest": False})

    g.write()
    if JVP_VIA_FUNCTORCH:
        print("jvp through functorch:", ", ".join(sorted(JVP_VIA_FUNCTORCH)))
    for name, why in sorted(NO_VJP.items()):
        print("no case for %s: %s" % (name, why))
    for op, why in sorted(NO_JVP.items()):
        print("no jvp case for %s: %s" % (op, why))


if __name__ == "__main__":
    main()
