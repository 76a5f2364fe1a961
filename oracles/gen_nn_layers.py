#!/usr/bin/env python3
"""Writes oracles/data/nn_layers.json (checked by tests/test_oracle_nn_layers.c):
PyTorch 1.13 references for the nn layers and optimisers.

- "softmax", "log_softmax" (attrs.axis), "linear" (attrs.act: "none"/"relu";
  inputs x, w[, b]), "cross_entropy" (attrs.reduction; inputs logits, labels):
  values from torch.nn.functional in f64 from the exact inputs, rounded to the
  result dtype; f32 and f64; non-contiguous inputs through "view" steps; error
  cases (bad labels, dtypes, shapes, axes).
- "vjp:<op>" / "jvp:<op>": as gen_grad.py (attrs.n_primal primals, then
  cotangents / tangents; attrs.wrt the differentiated primals), from
  torch.autograd.grad and torch.autograd.forward_ad in the case's dtype.
- "optim_sgd" / "optim_adam": inputs the initial parameter then the
  gradients of 5 steps; outputs the parameter after each step, from
  torch.optim.SGD (dampening 0, nesterov off) / torch.optim.Adam in the
  case's dtype. attrs: lr, momentum, weight_decay / beta1, beta2, eps, and
  via ("grads": explicit gradients, "tape": gradients accumulated by backward).
Run with /usr/bin/python3."""
import json
import pathlib

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn.functional as F

rng = np.random.default_rng(20261123)
NP = {"f32": np.float32, "f64": np.float64, "i32": np.int32, "i64": np.int64}
TD = {"f32": torch.float32, "f64": torch.float64}
cases = []


def dname(a):
    return {np.dtype(v): k for k, v in NP.items()}[np.asarray(a).dtype]


def enc_f(v):
    v = float(v)
    if v != v:
        return "nan"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    return v


def enc(a):
    a = np.asarray(a)
    d = dname(a)
    flat = a.ravel(order="C")
    data = [int(v) for v in flat] if d in ("i32", "i64") else [enc_f(v) for v in flat]
    return {"dtype": d, "shape": list(a.shape), "data": data}


def view_np(a, steps):
    for st in steps or []:
        if st[0] == "permute":
            a = a.transpose(st[1])
        elif st[0] == "slice":
            idx = [slice(None)] * a.ndim
            idx[st[1]] = slice(st[2], st[3], st[4])
            a = a[tuple(idx)]
        else:
            raise ValueError(st[0])
    return a


def enc_in(x):
    base, view = x if isinstance(x, tuple) else (x, None)
    e = enc(base)
    if view:
        e["view"] = view
    return e


def value(x):
    base, view = x if isinstance(x, tuple) else (x, None)
    return np.ascontiguousarray(view_np(np.asarray(base), view))


def rnd(shape, dt, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(NP[dt])


def t64(a):
    a = np.asarray(a)
    return torch.from_numpy(np.array(a, dtype=np.float64 if a.dtype.kind == "f" else a.dtype, copy=True))


def tdt(a):
    return torch.from_numpy(np.array(a, copy=True))


def add(name, op, ins, outs=None, attrs=None, error=None, **extra):
    c = {"name": name, "op": op, "attrs": attrs or {}, "inputs": [enc_in(x) for x in ins]}
    if error:
        c["error"] = error
    else:
        c["outputs"] = [enc(o) for o in outs]
    c.update(extra)
    cases.append(c)


def fwd(name, op, fn, ins, attrs, dt):
    """Forward value in f64 from the exact inputs, rounded to dt."""
    y = fn(*[t64(value(x)) for x in ins])
    # f32 GEMM sums round differently from the f64 reference: an absolute margin for linear
    tol = {"rtol": 1e-5, "atol": 1e-5} if dt == "f32" and op == "linear" else {}
    add(f"{name}/{dt}", op, ins, [y.numpy().astype(NP[dt])], attrs, **tol)


def grads(name, op, fn, ins, attrs, dt, wrt=None):
    """vjp:<op> and jvp:<op> cases in dtype dt (torch computing in dt)."""
    vals = [value(x) for x in ins]
    n = len(ins)
    wrt = list(range(n)) if wrt is None else wrt
    at = dict(attrs, n_primal=n)
    if wrt != list(range(n)):
        at["wrt"] = wrt
    prim = [tdt(v) for v in vals]
    for i in wrt:
        prim[i].requires_grad_(True)
    y = fn(*prim)
    cot = rnd(tuple(y.shape), dt)
    gs = torch.autograd.grad([y], [prim[i] for i in wrt], [tdt(cot)])
    tol = {"rtol": 2e-5, "atol": 1e-5} if dt == "f32" else {"rtol": 1e-11, "atol": 1e-12}
    add(f"vjp:{name}/{dt}", "vjp:" + op, list(ins) + [cot], [g.numpy() for g in gs], at, **tol)
    tans = [rnd(vals[i].shape, dt) for i in wrt]
    with fwAD.dual_level():
        p = [tdt(v) for v in vals]
        for k, i in enumerate(wrt):
            p[i] = fwAD.make_dual(p[i], tdt(tans[k]))
        _, yt = fwAD.unpack_dual(fn(*p))
    add(f"jvp:{name}/{dt}", "jvp:" + op, list(ins) + tans, [yt.detach().numpy()], at, **tol)


ACT = {"none": lambda y: y, "relu": F.relu}


def lin(act):
    return lambda x, w, b=None: ACT[act](F.linear(x, w, b))


for dt in ("f32", "f64"):
    # ---- softmax / log_softmax ----
    for op, tf in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        f = lambda ax, tf=tf: (lambda x: tf(x, dim=ax))
        fwd(f"{op}_last", op, f(-1), [rnd((3, 5), dt)], {"axis": -1}, dt)
        fwd(f"{op}_middle", op, f(1), [rnd((2, 4, 3), dt)], {"axis": 1}, dt)
        fwd(f"{op}_first", op, f(0), [rnd((4, 3), dt)], {"axis": 0}, dt)
        fwd(f"{op}_vector", op, f(0), [rnd((6,), dt)], {"axis": 0}, dt)
        fwd(f"{op}_large", op, f(-1), [rnd((2, 4), dt, 300.0) + np.array(800, NP[dt])], {"axis": -1}, dt)
        fwd(f"{op}_neg_inf", op, f(-1), [np.array([[0.5, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]], NP[dt])],
            {"axis": -1}, dt)
        fwd(f"{op}_permuted", op, f(-2), [(rnd((5, 3, 4), dt), [["permute", [2, 0, 1]]])], {"axis": -2}, dt)
        fwd(f"{op}_sliced", op, f(1), [(rnd((4, 7), dt), [["slice", 1, 6, None, -2]])], {"axis": 1}, dt)
        add(f"{op}_axis_range/{dt}", op, [rnd((2, 3), dt)], attrs={"axis": 2}, error="TG_ERR_ARG")
        grads(f"{op}_last", op, f(-1), [rnd((3, 4), dt)], {"axis": -1}, dt)
        grads(f"{op}_middle_permuted", op, f(1), [(rnd((3, 2, 4), dt), [["permute", [1, 2, 0]]])], {"axis": 1}, dt)
    # ---- linear ----
    for act in ("none", "relu"):
        fwd(f"linear_{act}", "linear", lin(act), [rnd((4, 6), dt), rnd((3, 6), dt), rnd((3,), dt)], {"act": act}, dt)
        fwd(f"linear_{act}_batched", "linear", lin(act), [rnd((2, 3, 5), dt), rnd((4, 5), dt), rnd((4,), dt)],
            {"act": act}, dt)
        fwd(f"linear_{act}_vector", "linear", lin(act), [rnd((5,), dt), rnd((3, 5), dt), rnd((3,), dt)],
            {"act": act}, dt)
        fwd(f"linear_{act}_nobias", "linear", lin(act), [rnd((4, 6), dt), rnd((5, 6), dt)], {"act": act}, dt)
        # x transposed (column-major), w a transposed view, b strided
        fwd(f"linear_{act}_views", "linear", lin(act),
            [(rnd((6, 4), dt), [["permute", [1, 0]]]), (rnd((6, 3), dt), [["permute", [1, 0]]]),
             (rnd((6,), dt), [["slice", 0, None, None, 2]])], {"act": act}, dt)
        fwd(f"linear_{act}_sliced_x", "linear", lin(act),
            [(rnd((2, 4, 9), dt), [["slice", 2, 1, 7, None]]), rnd((3, 6), dt), rnd((3,), dt)], {"act": act}, dt)
        grads(f"linear_{act}", "linear", lin(act), [rnd((4, 5), dt), rnd((3, 5), dt), rnd((3,), dt)], {"act": act}, dt)
        grads(f"linear_{act}_batched_views", "linear", lin(act),
              [(rnd((5, 2, 3), dt), [["permute", [1, 2, 0]]]), (rnd((5, 4), dt), [["permute", [1, 0]]]),
               rnd((4,), dt)], {"act": act}, dt)
        grads(f"linear_{act}_nobias", "linear", lin(act), [rnd((3, 4), dt), rnd((2, 4), dt)], {"act": act}, dt)
    add(f"linear_in_mismatch/{dt}", "linear", [rnd((2, 5), dt), rnd((3, 4), dt), rnd((3,), dt)],
        attrs={"act": "none"}, error="TG_ERR_SHAPE")
    add(f"linear_bias_mismatch/{dt}", "linear", [rnd((2, 4), dt), rnd((3, 4), dt), rnd((2,), dt)],
        attrs={"act": "relu"}, error="TG_ERR_SHAPE")
    # ---- cross_entropy ----
    for lt in ("i64", "i32"):
        lab = rng.integers(0, 4, size=5).astype(NP[lt])
        for red in ("mean", "sum", "none"):
            ce = lambda x, y, red=red: F.cross_entropy(x, y.long(), reduction=red)
            fwd(f"cross_entropy_{red}_{lt}", "cross_entropy", ce, [rnd((5, 4), dt, 2.0), lab], {"reduction": red}, dt)
            fwd(f"cross_entropy_{red}_{lt}_transposed", "cross_entropy", ce,
                [(rnd((4, 5), dt, 2.0), [["permute", [1, 0]]]), lab], {"reduction": red}, dt)
            grads(f"cross_entropy_{red}_{lt}", "cross_entropy", ce, [rnd((5, 4), dt, 2.0), lab], {"reduction": red},
                  dt, wrt=[0])
    ce_mean = lambda x, y: F.cross_entropy(x, y.long())
    fwd("cross_entropy_large_logits", "cross_entropy", ce_mean,
        [rnd((3, 6), dt, 50.0) + np.array(1000, NP[dt]), np.array([5, 0, 2], np.int64)], {"reduction": "mean"}, dt)
    x = rnd((3, 4), dt)
    add(f"cross_entropy_label_too_big/{dt}", "cross_entropy", [x, np.array([1, 4, 0], np.int64)],
        attrs={"reduction": "mean"}, error="TG_ERR_ARG")
    add(f"cross_entropy_label_negative/{dt}", "cross_entropy", [x, np.array([1, 2, -1], np.int32)],
        attrs={"reduction": "sum"}, error="TG_ERR_ARG")
    add(f"cross_entropy_label_dtype/{dt}", "cross_entropy", [x, np.array([1, 2, 0], NP[dt])],
        attrs={"reduction": "mean"}, error="TG_ERR_DTYPE")
    add(f"cross_entropy_label_length/{dt}", "cross_entropy", [x, np.array([1, 2], np.int64)],
        attrs={"reduction": "none"}, error="TG_ERR_SHAPE")
    add(f"cross_entropy_logits_rank/{dt}", "cross_entropy", [rnd((2, 3, 4), dt), np.array([1, 2], np.int64)],
        attrs={"reduction": "none"}, error="TG_ERR_SHAPE")


# ---- optimisers: 5 steps from fixed gradients ----
def optim_case(name, op, make, shape, dt, attrs, via):
    p0 = rnd(shape, dt)
    gs = [rnd(shape, dt) for _ in range(5)]
    p = torch.nn.Parameter(tdt(p0))
    opt = make([p])
    outs = []
    for g in gs:
        p.grad = tdt(g)
        opt.step()
        outs.append(p.detach().numpy().copy())
    tol = {"rtol": 1e-5, "atol": 1e-6} if dt == "f32" else {"rtol": 1e-13, "atol": 1e-14}
    add(f"{name}_{via}/{dt}", op, [p0] + gs, outs, dict(attrs, via=via), **tol)


for dt in ("f32", "f64"):
    for via in ("grads", "tape"):
        for mom, wd in ((0.0, 0.0), (0.9, 0.0), (0.9, 0.01), (0.0, 0.05)):
            optim_case(f"sgd_m{mom}_wd{wd}", "optim_sgd",
                       lambda ps, mom=mom, wd=wd: torch.optim.SGD(ps, lr=0.1, momentum=mom, weight_decay=wd),
                       (3, 4), dt, {"lr": 0.1, "momentum": mom, "weight_decay": wd}, via)
        for lr, b1, b2, eps in ((1e-3, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-6)):
            optim_case(f"adam_lr{lr}_b{b1}_{b2}", "optim_adam",
                       lambda ps, lr=lr, b1=b1, b2=b2, eps=eps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps),
                       (5,), dt, {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}, via)

out = {"generator": "oracles/gen_nn_layers.py", "numpy": np.__version__, "torch": torch.__version__, "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "nn_layers.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")
