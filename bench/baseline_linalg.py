#!/usr/bin/python3
"""NumPy/SciPy and PyTorch baselines of the linalg suite (cases as bench_linalg.c).

    OPENBLAS_NUM_THREADS=N OMP_NUM_THREADS=N baseline_linalg.py --threads N [--filter S]

Primal cases run numpy.linalg (scipy.linalg.lu_factor for lu) and
torch.linalg; grad_sum cases run PyTorch only: vjp = forward + backward of the
summed outputs from scratch, jvp = one forward-mode pass with dual tensors
(torch.autograd.forward_ad). Timing and output as baseline.py.
"""
import argparse
import sys

import numpy as np
import scipy.linalg
import torch
import torch.autograd.forward_ad as fwAD

from baseline import emit, measure

OPS = ("solve", "eigh", "qr", "svd")


def cases():
    """(name, op, mode, n, batch, rhs) in bench_linalg.c's order."""
    out = []
    for op in OPS:
        for n in (2, 4):
            for b in (16, 64):
                out.append((f"batched_{op}_{n}x{n}_b{b}", op, "primal", n, b, 1))
    for n in (2, 4):
        for b in (16, 64):
            out.append((f"grad_sum_batched_solve_vjp_{n}x{n}_b{b}", "solve", "vjp", n, b, 1))
    for op in OPS:
        for n in (2, 4, 8, 64, 256, 1024):
            out.append((f"{op}_{n}", op, "primal", n, 0, 1))
    out += [("solve_64_rhs16", "solve", "primal", 64, 0, 16), ("solve_64_rhs64", "solve", "primal", 64, 0, 64),
            ("lu_256", "lu", "primal", 256, 0, 1), ("lu_1024", "lu", "primal", 1024, 0, 1)]
    for op in ("solve", "eigh", "qr", "lu", "svd_s"):
        for n in (2, 4, 8, 256, 512):
            for mode in ("vjp", "jvp"):
                out.append((f"grad_sum_{op}_{mode}_{n}", op, mode, n, 0, 1))
    return out


def inputs(op, n, batch, rhs, seed):
    rng = np.random.default_rng(seed)
    shape = (batch, n, n) if batch else (n, n)
    a = rng.standard_normal(shape)
    if op == "eigh":
        a = a + np.swapaxes(a, -1, -2)
    if op in ("solve", "lu"):
        a = a + n * np.eye(n)
    b = rng.standard_normal(shape[:-1] + (rhs,)) if op == "solve" else None
    return a, b


def primal(lib, op, a, b):
    if lib == "numpy":
        f = {"solve": lambda: np.linalg.solve(a, b), "eigh": lambda: np.linalg.eigh(a),
             "qr": lambda: np.linalg.qr(a), "svd": lambda: np.linalg.svd(a, full_matrices=False),
             "lu": lambda: scipy.linalg.lu_factor(a)}
        return f[op]
    ta, tb = torch.from_numpy(a), (torch.from_numpy(b) if b is not None else None)
    f = {"solve": lambda: torch.linalg.solve(ta, tb), "eigh": lambda: torch.linalg.eigh(ta),
         "qr": lambda: torch.linalg.qr(ta), "svd": lambda: torch.linalg.svd(ta, full_matrices=False),
         "lu": lambda: torch.linalg.lu_factor(ta)}
    return f[op]


def loss(op, a, b):
    if op == "solve":
        return torch.linalg.solve(a, b).sum()
    if op == "eigh":
        w, v = torch.linalg.eigh(a)
        return w.sum() + v.sum()
    if op == "qr":
        q, r = torch.linalg.qr(a)
        return q.sum() + r.sum()
    if op == "lu":
        _, l, u = torch.linalg.lu(a)
        return l.sum() + u.sum()
    return torch.linalg.svdvals(a).sum()


def vjp(op, a, b):
    ta = torch.from_numpy(a).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_() if b is not None else None

    def step():
        ta.grad = None
        if tb is not None:
            tb.grad = None
        loss(op, ta, tb).backward()
    return step


def jvp(op, a, b, seed):
    rng = np.random.default_rng(seed + 1000)
    da = rng.standard_normal(a.shape)
    if op == "eigh":
        da = da + np.swapaxes(da, -1, -2)
    ta, tda = torch.from_numpy(a), torch.from_numpy(da)
    tb = torch.from_numpy(b) if b is not None else None
    tdb = torch.from_numpy(rng.standard_normal(b.shape)) if b is not None else None

    def step():
        with fwAD.dual_level():
            pa = fwAD.make_dual(ta, tda)
            pb = fwAD.make_dual(tb, tdb) if tb is not None else None
            fwAD.unpack_dual(loss(op, pa, pb)).tangent
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--filter", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"baseline_linalg: numpy {np.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}", file=sys.stderr)
    for k, (name, op, mode, n, batch, rhs) in enumerate(cases()):
        if args.filter and args.filter not in name:
            continue
        a, b = inputs(op, n, batch, rhs, k + 1)
        if mode == "primal":
            for lib in ("numpy", "torch"):
                median, count = measure(primal(lib, op, a, b))
                emit("linalg", name, lib, args.threads, median, count)
        else:
            fn = vjp(op, a, b) if mode == "vjp" else jvp(op, a, b, k + 1)
            median, count = measure(fn)
            emit("linalg", name, "torch", args.threads, median, count)


if __name__ == "__main__":
    main()
