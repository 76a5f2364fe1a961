#!/usr/bin/env python3
"""Writes oracles/data/linalg_extra.json: values from SciPy / NumPy 1.24
(scipy.linalg.expm, numpy.linalg.norm over the last two axes,
numpy.linalg.cond, numpy.linalg.pinv, numpy.linalg.lstsq) in f32/f64/c64/c128
(batched, one transposed view each), and torch.linalg VJPs (PyTorch 1.13) of
matrix_exp, matrix_norm (every ord), cond, pinv (tall, wide, hermitian) and
lstsq (driver gelsd; solution only), and forward-mode JVPs (torch forward AD)
of matrix_exp, pinv (tall, wide), lstsq, matrix_norm (every ord, plain and
keepdim of a transposed view) and cond (every ord; 2 / -2 tall and wide, the
others square). Inputs are computed in f64/c128 and the expected values
rounded to the case's dtype. Run with /usr/bin/python3."""
import json, pathlib
import numpy as np
import scipy.linalg
import torch
from linalg_common import DT, Random, enc

np._set_promotion_state("weak")
rand = Random(20261123)
rng, rnd, wellcond = rand.rng, rand.rnd, rand.wellcond
cases = []
EPS = {'f32': float(np.finfo(np.float32).eps), 'f64': float(np.finfo(np.float64).eps)}
ORDS = {'fro': 'fro', 'nuc': 'nuc', '1': 1, '-1': -1, '2': 2, '-2': -2, 'inf': np.inf, '-inf': -np.inf}

def with_sv(shape, svals, dt):
    """Random U diag(svals) V^H of shape (..., m, n)."""
    m, n = shape[-2], shape[-1]
    u, _ = np.linalg.qr(rnd(shape[:-2] + (m, m), 'c128' if dt[0] == 'c' else 'f64'))
    v, _ = np.linalg.qr(rnd(shape[:-2] + (n, n), 'c128' if dt[0] == 'c' else 'f64'))
    d = np.zeros((m, n))
    k = len(svals)
    d[np.arange(k), np.arange(k)] = svals
    return (u @ d @ np.conj(np.swapaxes(v, -1, -2))).astype(DT[dt])

def mT(x):
    return np.swapaxes(x, -1, -2)

def tview(nd):
    return [["permute", list(range(nd - 2)) + [nd - 1, nd - 2]]]

def add(name, op, inputs, outs, attrs=None, dt='f64', views=None):
    """inputs are the base tensors; views (per input, optional) are applied
    before the op, by NumPy here and by the harness there."""
    lowp = dt in ('f32', 'c64')
    hi = [np.asarray(x).astype(np.complex128 if np.iscomplexobj(x) else np.float64) for x in inputs]
    if views:
        hi = [np.transpose(h, v[0][1]) if v else h for h, v in zip(hi, views)]
    outs = [np.asarray(o) for o in outs(*hi)]
    scale = max([1.0] + [float(np.max(np.abs(o[np.isfinite(o)]))) for o in outs
                         if o.size and o.dtype.kind in 'fc' and np.isfinite(o).any()])
    tol = {"rtol": 1e-4, "atol": 1e-4 * scale} if lowp else {"rtol": 1e-9, "atol": 1e-11 * scale}
    def cast(o):
        if o.dtype.kind in 'iu':
            return o.astype(np.int64)
        if np.iscomplexobj(o):
            return o.astype(DT[dt])
        return o.astype(np.float32 if lowp else np.float64)
    cases.append({"name": f"{name}/{dt}", "op": op, "attrs": attrs or {},
                  "inputs": [enc(x, views[i] if views else None) for i, x in enumerate(inputs)],
                  "outputs": [enc(cast(o)) for o in outs], **tol})

def expm(a):
    return np.stack([scipy.linalg.expm(m) for m in a.reshape((-1,) + a.shape[-2:])]).reshape(a.shape)

def lstsq_np(a, b, rcond):
    """numpy.linalg.lstsq per matrix, torch's batched layout: residuals (..., k)
    when m > n and every matrix has rank n, else (0,)."""
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    bm = b[..., None] if vec else b
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    A = np.broadcast_to(a, batch + a.shape[-2:]).reshape((-1,) + a.shape[-2:])
    B = np.broadcast_to(bm, batch + bm.shape[-2:]).reshape((-1,) + bm.shape[-2:])
    xs, rs, ranks, svs = [], [], [], []
    for i in range(A.shape[0]):
        x, r, rk, s = np.linalg.lstsq(A[i], B[i], rcond=rcond)
        xs.append(x); rs.append(r); ranks.append(rk); svs.append(s)
    m, n = a.shape[-2:]
    x = np.stack(xs).reshape(batch + (n, bm.shape[-1]))
    if vec:
        x = x[..., 0]
    res = np.stack(rs).reshape(batch + (bm.shape[-1],)) if m > n and all(r == n for r in ranks) \
        else np.zeros((0,))
    return [x, res, np.array(ranks, dtype=np.int64).reshape(batch), np.stack(svs).reshape(batch + (min(m, n),))]

for dt in DT:
    # matrix_exp: 1-norms from 0.01 to about 60 (Pade 3, 5, 7, 9, 13, 13 with squaring)
    for sc in (0.004, 0.06, 0.25, 0.6, 1.5, 20.0):
        add(f"matrix_exp_{sc}", "matrix_exp", [sc * rnd((2, 3, 3), dt)], lambda a: [expm(a)], dt=dt)
    add("matrix_exp_transposed", "matrix_exp", [rnd((2, 4, 4), dt)], lambda a: [expm(a)], dt=dt, views=[tview(3)])
    add("matrix_exp_1x1", "matrix_exp", [rnd((3, 1, 1), dt)], lambda a: [np.exp(a)], dt=dt)
    # matrix_norm: every ord, keepdim, transposed view
    a = rnd((2, 3, 4), dt)
    for o, po in ORDS.items():
        add(f"matrix_norm_{o}", "matrix_norm", [a], lambda x, po=po: [np.linalg.norm(x, po, axis=(-2, -1))],
            {"ord": o, "keepdim": False}, dt)
        add(f"matrix_norm_{o}_keepdim_T", "matrix_norm", [a],
            lambda x, po=po: [np.linalg.norm(x, po, axis=(-2, -1), keepdims=True)], {"ord": o, "keepdim": True}, dt,
            views=[tview(3)])
    # cond: 2 / -2 for any shape, the others for square A; an exactly singular item gives inf.
    # NumPy returns complex for complex A with these ords (its inv's dtype): real part, as torch
    for o in (None, '2', '-2'):
        add(f"cond_{o}_wide", "cond", [rnd((2, 3, 4), dt)],
            lambda x, o=o: [np.linalg.cond(x, None if o is None else ORDS[o])], {"ord": o}, dt)
    for o in ('fro', 'nuc', '1', '-1', 'inf', '-inf', '2'):
        add(f"cond_{o}_square", "cond", [wellcond((2, 3, 3), dt)],
            lambda x, o=o: [np.real(np.linalg.cond(x, ORDS[o]))], {"ord": o}, dt)
    sing = np.stack([wellcond((3, 3), dt), np.array([[1, 2, 3], [2, 4, 6], [0, 1, 1]], dtype=DT[dt])])
    add("cond_fro_singular", "cond", [sing], lambda x: [np.real(np.linalg.cond(x, "fro"))], {"ord": "fro"}, dt)
    # pinv: tall, wide, transposed, rank-deficient, an rtol cut, hermitian
    e = EPS['f32' if dt in ('f32', 'c64') else 'f64']
    for nm, shape in (("tall", (2, 5, 3)), ("wide", (2, 3, 5))):
        add(f"pinv_{nm}", "pinv", [rnd(shape, dt)], lambda x, sh=shape: [np.linalg.pinv(x, rcond=e * max(sh[-2:]))],
            {"rtol": -1, "hermitian": False}, dt)
    add("pinv_transposed", "pinv", [rnd((2, 3, 4), dt)], lambda x: [np.linalg.pinv(x, rcond=e * 4)],
        {"rtol": -1, "hermitian": False}, dt, views=[tview(3)])
    rd = with_sv((2, 4, 4), [3.0, 1.5], dt)     # rank 2
    add("pinv_rank2", "pinv", [rd], lambda x: [np.linalg.pinv(x, rcond=1e-4)], {"rtol": 1e-4, "hermitian": False}, dt)
    cut = with_sv((5, 3), [3.0, 1.0, 1e-3], dt)
    add("pinv_rtol_cut", "pinv", [cut], lambda x: [np.linalg.pinv(x, rcond=1e-2)], {"rtol": 1e-2, "hermitian": False},
        dt)
    h = rnd((2, 4, 4), dt)
    h = (h + np.conj(mT(h))) / 2
    add("pinv_hermitian", "pinv", [h], lambda x: [np.linalg.pinv(x, rcond=e * 4, hermitian=True)],
        {"rtol": -1, "hermitian": True}, dt)
    hr = with_sv((4, 4), [2.0, 1.0], dt)
    hr = (hr @ np.conj(mT(hr))).astype(DT[dt])   # Hermitian PSD, rank 2
    add("pinv_hermitian_rank2", "pinv", [hr], lambda x: [np.linalg.pinv(x, rcond=1e-4, hermitian=True)],
        {"rtol": 1e-4, "hermitian": True}, dt)
    # lstsq: tall (residuals), wide, vector B, broadcast B, rank-deficient, transposed A
    rc = -1
    add("lstsq_tall", "lstsq", [rnd((2, 5, 3), dt), rnd((2, 5, 2), dt)],
        lambda a, b: lstsq_np(a, b, e * 5), {"rcond": rc}, dt)
    add("lstsq_wide", "lstsq", [rnd((2, 3, 5), dt), rnd((2, 3, 2), dt)],
        lambda a, b: lstsq_np(a, b, e * 5), {"rcond": rc}, dt)
    add("lstsq_vector", "lstsq", [rnd((5, 3), dt), rnd((5,), dt)], lambda a, b: lstsq_np(a, b, e * 5),
        {"rcond": rc}, dt)
    add("lstsq_broadcast_T", "lstsq", [rnd((2, 3, 5), dt), rnd((5, 2), dt)], lambda a, b: lstsq_np(a, b, e * 5),
        {"rcond": rc}, dt, views=[tview(3), None])
    add("lstsq_rank2", "lstsq", [with_sv((6, 4), [2.0, 1.0], dt), rnd((6, 2), dt)],
        lambda a, b: lstsq_np(a, b, 1e-5), {"rcond": 1e-5}, dt)

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
    tvjp("matrix_exp", torch.linalg.matrix_exp, [0.5 * rnd((2, 3, 3), dt)])
    tvjp("matrix_exp_squared", torch.linalg.matrix_exp, [3.0 * rnd((3, 3), dt)], op="matrix_exp")
    a = with_sv((2, 3, 4), [3.0, 2.0, 1.2], dt)
    for o, po in ORDS.items():
        tvjp(f"matrix_norm_{o}", lambda x, po=po: torch.linalg.matrix_norm(x, po), [a], {"ord": o, "keepdim": False},
             "matrix_norm")
    tvjp("cond_2_tall", torch.linalg.cond, [with_sv((2, 4, 3), [3.0, 2.0, 1.2], dt)], {"ord": None}, "cond")
    # torch 1.13's cond(x, 'fro') backward trips over an in-place op: use its definition
    fro = lambda x: torch.linalg.matrix_norm(x, 'fro')
    tvjp("cond_fro", lambda x: fro(x) * fro(torch.linalg.inv(x)), [wellcond((2, 3, 3), dt)], {"ord": "fro"}, "cond")
    tvjp("pinv_tall", torch.linalg.pinv, [rnd((2, 5, 3), dt)], {"rtol": -1, "hermitian": False}, "pinv")
    tvjp("pinv_wide", torch.linalg.pinv, [rnd((3, 5), dt)], {"rtol": -1, "hermitian": False}, "pinv")
    h = rnd((4, 4), dt)
    h = (h + np.conj(h.T)) / 2 + 3 * np.eye(4)
    tvjp("pinv_hermitian", lambda x: torch.linalg.pinv(x, hermitian=True), [h.astype(DT[dt])],
         {"rtol": -1, "hermitian": True}, "pinv")
    tvjp("lstsq_tall", lambda a, b: torch.linalg.lstsq(a, b, driver='gelsd').solution,
         [rnd((2, 5, 3), dt), rnd((2, 5, 2), dt)], {"rcond": -1}, "lstsq")
    # torch 1.13's lstsq backward fails for a vector B: solve for B as one column
    tvjp("lstsq_vector", lambda a, b: torch.linalg.lstsq(a, b[:, None], driver='gelsd').solution[:, 0],
         [rnd((5, 3), dt), rnd((5,), dt)], {"rcond": -1}, "lstsq")

# ---- forward-mode JVPs (op "jvp:<name>": primals, then one tangent per primal -> the output's tangent) ----
import torch.autograd.forward_ad as fwAD

def tjvp(name, fn, primals, attrs=None, op=None, views=None):
    """views (per primal, optional) as add()'s: fn sees the permuted primals, the tangents have their shapes."""
    seen = [np.transpose(p, views[i][0][1]) if views and views[i] else p for i, p in enumerate(primals)]
    tans = [rnd(p.shape, 'c128' if np.iscomplexobj(p) else 'f64').astype(p.dtype) for p in seen]
    try:
        with fwAD.dual_level():
            y = fn(*[fwAD.make_dual(torch.tensor(p), torch.tensor(t)) for p, t in zip(seen, tans)])
            yt = fwAD.unpack_dual(y).tangent.numpy()
    except (RuntimeError, NotImplementedError) as e:   # no forward AD for this op in this torch
        print(f"jvp:{name}: skipped ({str(e).splitlines()[0][:80]})")
        return
    cases.append({"name": f"jvp:{name}/{primals[0].dtype}", "op": f"jvp:{op or name}", "attrs": attrs or {},
                  "inputs": [enc(p, views[i] if views else None) for i, p in enumerate(primals)] +
                            [enc(t) for t in tans], "outputs": [enc(yt)], "rtol": 1e-9, "atol": 1e-11})

for dt in ('f64', 'c128'):
    tjvp("matrix_exp", torch.linalg.matrix_exp, [0.5 * rnd((2, 3, 3), dt)])
    tjvp("matrix_exp_squared", torch.linalg.matrix_exp, [3.0 * rnd((3, 3), dt)], op="matrix_exp")
    tjvp("pinv_tall", torch.linalg.pinv, [rnd((2, 5, 3), dt)], {"rtol": -1, "hermitian": False}, "pinv")
    tjvp("pinv_wide", torch.linalg.pinv, [rnd((3, 5), dt)], {"rtol": -1, "hermitian": False}, "pinv")
    tjvp("lstsq_tall", lambda a, b: torch.linalg.lstsq(a, b, driver='gelsd').solution,
         [rnd((2, 5, 3), dt), rnd((2, 5, 2), dt)], {"rcond": -1}, "lstsq")

# matrix_norm (every ord; distinct singular values for 2 / -2 / nuc, distinct row and column sums for the
# others) and cond (every ord: 2 and -2 for any shape, the others for square A), batched
for dt in ('f64', 'c128'):
    a = with_sv((2, 3, 4), [3.0, 2.0, 1.2], dt)
    for o, po in ORDS.items():
        tjvp(f"matrix_norm_{o}", lambda x, po=po: torch.linalg.matrix_norm(x, po), [a], {"ord": o, "keepdim": False},
             "matrix_norm")
        tjvp(f"matrix_norm_{o}_keepdim_T", lambda x, po=po: torch.linalg.matrix_norm(x, po, keepdim=True), [a],
             {"ord": o, "keepdim": True}, "matrix_norm", views=[tview(3)])
    tjvp("cond_None_tall", torch.linalg.cond, [with_sv((2, 4, 3), [3.0, 2.0, 1.2], dt)], {"ord": None}, "cond")
    tjvp("cond_-2_wide", lambda x: torch.linalg.cond(x, -2), [with_sv((2, 3, 4), [3.0, 2.0, 1.2], dt)],
         {"ord": "-2"}, "cond")
    s = wellcond((2, 3, 3), dt)
    for o, po in ORDS.items():
        tjvp(f"cond_{o}_square", lambda x, po=po: torch.linalg.cond(x, po), [s], {"ord": o}, "cond")

out = {"generator": "oracles/gen_linalg_extra.py", "numpy": np.__version__, "scipy": scipy.__version__,
       "torch": torch.__version__, "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "linalg_extra.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")
