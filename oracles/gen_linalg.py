#!/usr/bin/env python3
"""Writes oracles/data/linalg.json: numpy.linalg values (NumPy 1.24) for
solve, inv, matrix_power, cross, vector_norm, det, slogdet, triangular solves (scipy.linalg.solve_triangular)
and cholesky in f32/f64/c64/c128 on well-conditioned (I*2 + 0.3 noise) or SPD
matrices, and torch.linalg VJPs (PyTorch 1.13) for solve, inv, det,
cholesky, cross, vector_norm and matrix_power (n = 3 and -2), and torch forward-mode
JVPs for solve, inv, det, cholesky and matrix_power (n = -2). Run with /usr/bin/python3."""
import json, pathlib
import numpy as np
import scipy.linalg
import torch
from linalg_common import DT, Random, enc

rand = Random(20260611)
rng, rnd, wellcond = rand.rng, rand.rnd, rand.wellcond
cases = []

def spd(shape, dt):
    m = rnd(shape, dt)
    return (m @ np.conj(np.swapaxes(m, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(DT[dt])

def add(name, op, inputs, outs, attrs=None, dt='f64'):
    lowp = dt in ('f32', 'c64')
    hi = [np.asarray(x).astype(np.complex128 if np.iscomplexobj(x) else np.float64) for x in inputs]
    outs = [np.asarray(o) for o in outs(*hi)]
    scale = max(1.0, max(float(np.max(np.abs(o))) for o in outs))
    tol = {"rtol": 1e-4, "atol": 1e-4 * scale} if lowp else {"rtol": 1e-9, "atol": 1e-11 * scale}
    cast = lambda o: o.astype(DT[dt]) if o.dtype.kind in 'fc' and np.iscomplexobj(o) == (dt[0] == 'c') \
        else o.astype(np.float32 if lowp else np.float64)
    cases.append({"name": f"{name}/{dt}", "op": op, "attrs": attrs or {}, "inputs": [enc(x) for x in inputs],
                  "outputs": [enc(cast(o)) for o in outs], **tol})

for dt in DT:
    a = wellcond((2, 3, 3), dt)
    add("solve_matrix_broadcast", "solve", [a, rnd((3, 2), dt)],  # torch.linalg.solve's broadcasting
        lambda a, b: [torch.linalg.solve(torch.tensor(a), torch.tensor(b)).numpy()], dt=dt)
    add("solve_vector", "solve", [a[0], rnd((3,), dt)], lambda a, b: [np.linalg.solve(a, b)], dt=dt)
    add("inv", "inv", [a], lambda a: [np.linalg.inv(a)], dt=dt)
    for k in (0, 1, 2, 5, -1, -3):
        add(f"matrix_power_{k}", "matrix_power", [a], lambda a, k=k: [np.linalg.matrix_power(a, k)], {"n": k}, dt)
    add("cross_broadcast", "cross", [rnd((2, 1, 3), dt), rnd((4, 3), dt)],
        lambda a, b: [np.cross(a, b)], {"dim": -1}, dt)
    add("cross_dim0", "cross", [rnd((3, 5), dt), rnd((3, 5), dt)], lambda a, b: [np.cross(a, b, axis=0)],
        {"dim": 0}, dt)
    for o in (2, 1, 3, 0.5, -1.5, 'inf', '-inf'):
        fo = float(o)
        add(f"vector_norm_{o}", "vector_norm", [rnd((3, 4), dt)],
            lambda x, fo=fo: [np.linalg.norm(x, ord=fo, axis=1)], {"ord": o, "axes": [1], "keepdim": False}, dt)
    add("vector_norm_all_keepdim", "vector_norm", [rnd((2, 3, 2), dt)],
        lambda x: [np.sqrt(np.sum(np.abs(x) ** 2, keepdims=True))], {"ord": 2, "axes": [], "keepdim": True}, dt)
    add("det", "det", [wellcond((4, 4), dt)], lambda a: [np.linalg.det(a)], dt=dt)
    add("slogdet", "slogdet", [-wellcond((2, 4, 4), dt)], lambda a: list(np.linalg.slogdet(a)), dt=dt)
    u = wellcond((2, 3, 3), dt)
    b = rnd((2, 3, 2), dt)
    add("trsolve_upper", "triangular_solve", [u, b],
        lambda u, b: [np.stack([scipy.linalg.solve_triangular(u[i], b[i], lower=False) for i in range(2)])],
        {"upper": True, "left": True, "unit": False}, dt)
    add("trsolve_lower_unit", "triangular_solve", [u, b],
        lambda u, b: [np.stack([scipy.linalg.solve_triangular(u[i], b[i], lower=True, unit_diagonal=True)
                                for i in range(2)])], {"upper": False, "left": True, "unit": True}, dt)
    add("cholesky", "cholesky", [spd((2, 4, 4), dt)], lambda a: [np.linalg.cholesky(a)], {"upper": False}, dt)
    add("cholesky_upper", "cholesky", [spd((4, 4), dt)],
        lambda a: [np.conj(np.linalg.cholesky(a)).T], {"upper": True}, dt)

# ---- VJPs (op "vjp:<name>": primals, then the output cotangent -> primal cotangents) ----
def tvjp(name, fn, primals, attrs=None, op=None):
    ts = [torch.tensor(p, requires_grad=True) for p in primals]
    y = fn(*ts)
    g = rnd(tuple(y.shape), 'c128' if y.is_complex() else 'f64')
    grads = torch.autograd.grad(y, ts, torch.tensor(g))
    cases.append({"name": f"vjp:{name}/{primals[0].dtype}", "op": f"vjp:{op or name}", "attrs": attrs or {},
                  "inputs": [enc(p) for p in primals] + [enc(g)], "outputs": [enc(x.detach().numpy()) for x in grads],
                  "rtol": 1e-9, "atol": 1e-11})

for dt in ('f64', 'c128'):
    tvjp("solve", torch.linalg.solve, [wellcond((2, 3, 3), dt), rnd((2, 3, 2), dt)])
    tvjp("inv", torch.linalg.inv, [wellcond((3, 3), dt)])
    for o in (2, 3, 'inf'):
        tvjp(f"vector_norm_{o}", lambda x, o=o: torch.linalg.vector_norm(x, ord=float(o), dim=(0,)), [rnd((4, 2), dt)],
             {"ord": o, "axes": [0], "keepdim": False}, "vector_norm")
    tvjp("cross", lambda a, b: torch.linalg.cross(a, b, dim=0), [rnd((3, 2), dt), rnd((3, 1), dt)], {"dim": 0})
    for k in (3, -2):
        tvjp(f"matrix_power_{k}", lambda a, k=k: torch.linalg.matrix_power(a, k), [wellcond((2, 3, 3), dt)], {"n": k},
             "matrix_power")
    tvjp("det", torch.linalg.det, [wellcond((2, 3, 3), dt)])
    tvjp("cholesky", torch.linalg.cholesky, [spd((3, 3), dt)], {"upper": False})

# ---- JVPs (op "jvp:<name>": primals, then one tangent per primal -> the output tangent; torch forward AD) ----
import torch.autograd.forward_ad as fwAD

def tjvp(name, fn, primals, attrs=None, op=None, hermitian=False):
    tans = [rnd(p.shape, 'c128' if np.iscomplexobj(p) else 'f64').astype(p.dtype) for p in primals]
    if hermitian:  # cholesky reads one triangle, torch's rule assumes A-dot = A-dot^H: give it one
        tans = [(t + np.conj(np.swapaxes(t, -1, -2))) / 2 for t in tans]
    with fwAD.dual_level():
        y = fn(*[fwAD.make_dual(torch.tensor(p), torch.tensor(t)) for p, t in zip(primals, tans)])
        yt = fwAD.unpack_dual(y).tangent
    cases.append({"name": f"jvp:{name}/{primals[0].dtype}", "op": f"jvp:{op or name}", "attrs": attrs or {},
                  "inputs": [enc(p) for p in primals] + [enc(t) for t in tans], "outputs": [enc(yt.numpy())],
                  "rtol": 1e-9, "atol": 1e-11})

for dt in ('f64', 'c128'):
    tjvp("solve", torch.linalg.solve, [wellcond((2, 3, 3), dt), rnd((2, 3, 2), dt)])
    tjvp("solve_broadcast_b", torch.linalg.solve, [wellcond((2, 3, 3), dt), rnd((3, 2), dt)], op="solve")
    tjvp("inv", torch.linalg.inv, [wellcond((3, 3), dt)])
    tjvp("det", torch.linalg.det, [wellcond((2, 3, 3), dt)])
    tjvp("cholesky", torch.linalg.cholesky, [spd((3, 3), dt)], {"upper": False}, hermitian=True)
    tjvp("matrix_power_-2", lambda a: torch.linalg.matrix_power(a, -2), [wellcond((2, 3, 3), dt)], {"n": -2},
         "matrix_power")

# ---- small batched solves (linalg/small.c): orders 1-4 over batches of two
# full blocks of eight and a part, a broadcast B and a transposed A (strided
# lanes), more right-hand sides than the lanes path takes, inv and det ----
def pivoting(shape, dt):
    """wellcond with each matrix's rows shuffled: partial pivoting must swap."""
    a = wellcond(shape, dt)
    for i in range(shape[0]):
        a[i] = a[i][rng.permutation(shape[-1])]
    return a

for dt in DT:
    for n in (1, 2, 4):
        add(f"solve_small_{n}", "solve", [pivoting((19, n, n), dt), rnd((19, n, 2), dt)],
            lambda a, b: [np.linalg.solve(a, b)], dt=dt)
    add("solve_small_broadcast_b", "solve", [pivoting((19, 3, 3), dt), rnd((3, 1), dt)],
        lambda a, b: [np.linalg.solve(a, np.broadcast_to(b, (19, 3, 1)))], dt=dt)
    add("solve_small_transposed_a", "solve_mT", [pivoting((13, 4, 4), dt), rnd((13, 4, 1), dt)],
        lambda at, b: [np.linalg.solve(np.swapaxes(at, -1, -2), b)], dt=dt)
    add("solve_small_rhs6", "solve", [pivoting((11, 4, 4), dt), rnd((11, 4, 6), dt)],
        lambda a, b: [np.linalg.solve(a, b)], dt=dt)
    add("inv_small", "inv", [pivoting((10, 4, 4), dt)], lambda a: [np.linalg.inv(a)], dt=dt)
    add("det_small", "det", [pivoting((10, 3, 3), dt)], lambda a: [np.linalg.det(a)], dt=dt)

# the differentiated small solve (factors kept, lanes with one right-hand side, the adjoint solve)
tvjp("solve_small", torch.linalg.solve, [pivoting((19, 4, 4), "f64"), rnd((19, 4, 1), "f64")], op="solve")
tjvp("solve_small", torch.linalg.solve, [pivoting((19, 2, 2), "f64"), rnd((19, 2, 1), "f64")], op="solve")

out = {"generator": "oracles/gen_linalg.py", "numpy": np.__version__, "torch": torch.__version__, "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "linalg.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases")
