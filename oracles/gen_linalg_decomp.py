#!/usr/bin/env python3
"""Writes oracles/data/linalg_decomp.json: qr, lu_factor, lu, lu_solve, eig and
eigvals. Values: numpy.linalg.qr (reduced / complete), scipy.linalg.lu
(A = P L U), torch.linalg.lu_factor (LU packed and 1-based int32 pivots; the
LU values are checked against scipy.linalg.lu_factor here), numpy.linalg.solve
for lu_solve (A X = B and A^H X = B from LU/pivots of scipy.linalg.lu_factor),
numpy.linalg.eig (eigenvalues sorted by (real, imag), |V|^2 with its columns
in the same order: gauge invariant). Four dtypes (f32/c64 inputs against
f64/c128 results at 1e-4), batched, one transposed (non-contiguous) input per
op. Derivatives (PyTorch 1.13, f64 and c128): "vjp:<op>" cases (primals, then
one cotangent per output; outputs the primals' cotangents) for qr (tall,
square, wide, complete wide), lu_factor, lu (L, U), lu_solve (both adjoint
modes, B broadcast); "grad:eig" / "grad:eigvals": the gradient of the
gauge- and order-invariant loss sum_j Re(c w_j^2) + sum_ij h_i Re(w_j) |V_ij|^2
(eigvals: sum_j Re(c w_j^3)). Forward mode (torch forward AD): "jvp:<op>"
cases (primals, then one tangent per differentiable primal; outputs the
outputs' tangents) for qr, lu, lu_solve and eig (attrs.nout 2: the tangents of
the sorted eigenvalues and of |V|^2, as the "eig" values; eigenvalues at least
0.3 apart; batched with conjugate pairs, and a transposed view). Run with
/usr/bin/python3."""
import json, pathlib
import numpy as np
import scipy.linalg
import torch
from linalg_common import DT, Random, enc

rand = Random(20261123)
rng, rnd, wellcond = rand.rng, rand.rnd, rand.wellcond
cases = []


def mT(x):
    return np.swapaxes(x, -1, -2)


def add(name, op, inputs, outs, attrs=None, dt='f64', transpose0=False):
    """outs gets the inputs in f64/c128 (input 0 transposed when transpose0: a permute view)."""
    lowp = dt in ('f32', 'c64')
    hi = [np.asarray(x).astype(np.complex128 if np.iscomplexobj(x) else np.float64)
          if np.asarray(x).dtype.kind in 'fc' else np.asarray(x) for x in inputs]
    if transpose0:
        hi[0] = mT(hi[0])
    outs = [np.asarray(o) for o in outs(*hi)]
    scale = max([1.0] + [float(np.max(np.abs(o))) for o in outs if o.size and o.dtype.kind in 'fc'])
    tol = {"rtol": 1e-4, "atol": 1e-4 * scale} if lowp else {"rtol": 1e-9, "atol": 1e-11 * scale}

    def cast(o):
        if o.dtype.kind in 'iu':
            return o.astype(np.int32)
        if np.iscomplexobj(o):
            return o.astype(np.complex64 if lowp else np.complex128)
        return o.astype(np.float32 if lowp else np.float64)
    nd = np.asarray(inputs[0]).ndim
    view = [["permute", list(range(nd - 2)) + [nd - 1, nd - 2]]] if transpose0 else None
    cases.append({"name": f"{name}/{dt}", "op": op, "attrs": attrs or {},
                  "inputs": [enc(x, view if i == 0 else None) for i, x in enumerate(inputs)],
                  "outputs": [enc(cast(o)) for o in outs], **tol})


def np_lu(a):
    """Batched scipy.linalg.lu: P (in a's dtype, as torch), L, U with A = P L U."""
    b = a.reshape((-1,) + a.shape[-2:])
    res = [(p.astype(a.dtype), l, u) for p, l, u in (scipy.linalg.lu(x) for x in b)]
    return [np.stack([r[i] for r in res]).reshape(a.shape[:-2] + res[0][i].shape) if b.shape[0] else None
            for i in range(3)]


def torch_lu_factor(a):
    lu, piv = torch.linalg.lu_factor(torch.tensor(a))
    lu, piv = lu.numpy(), piv.numpy()
    b = a.reshape((-1,) + a.shape[-2:])
    for i, x in enumerate(b):     # the same factorisation as SciPy's (0-based pivots there)
        slu, spiv = scipy.linalg.lu_factor(x)
        assert np.allclose(slu, lu.reshape(b.shape)[i], rtol=1e-12, atol=1e-12)
        assert np.array_equal(spiv + 1, piv.reshape((b.shape[0], -1))[i])
    return lu, piv.astype(np.int32)


def eig_order(w):
    """Indices sorting each row of w by (real, imag)."""
    w = w.astype(np.complex128)          # NumPy returns real w when every eigenvalue is real
    return np.lexsort((w.imag, w.real), axis=-1) if w.ndim == 1 else \
        np.stack([np.lexsort((x.imag, x.real)) for x in w.reshape(-1, w.shape[-1])]).reshape(w.shape)


def eig_sorted(a):
    w, v = np.linalg.eig(a)
    w = w.astype(np.complex128)
    order = eig_order(w)
    ws = np.take_along_axis(w, order, -1)
    v2 = np.abs(v) ** 2
    vs = np.take_along_axis(v2, np.broadcast_to(order[..., None, :], v2.shape), -1)
    return ws, vs


for dt in DT:
    # ---- qr ----
    add("qr_tall_batched", "qr", [rnd((2, 5, 3), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
        {"complete": False}, dt)
    add("qr_wide", "qr", [rnd((3, 5), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
    add("qr_complete_tall", "qr", [rnd((2, 4, 3), dt)], lambda a: list(np.linalg.qr(a, mode='complete')),
        {"complete": True}, dt)
    add("qr_complete_wide", "qr", [rnd((3, 4), dt)], lambda a: list(np.linalg.qr(a, mode='complete')),
        {"complete": True}, dt)
    add("qr_transposed_view", "qr", [rnd((2, 3, 4), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
        {"complete": False}, dt, transpose0=True)
    # ---- lu_factor (torch's 1-based pivots) and lu (scipy's P, L, U) ----
    for nm, shp in (("square_batched", (2, 4, 4)), ("tall", (5, 3)), ("wide_batched", (2, 3, 5))):
        a = rnd(shp, dt)
        add(f"lu_factor_{nm}", "lu_factor", [a], lambda a: list(torch_lu_factor(a)), dt=dt)
        add(f"lu_{nm}", "lu", [a], lambda a: np_lu(a), dt=dt)
    add("lu_factor_transposed_view", "lu_factor", [rnd((2, 3, 3), dt)], lambda a: list(torch_lu_factor(a)), dt=dt,
        transpose0=True)
    add("lu_transposed_view", "lu", [rnd((4, 3), dt)], lambda a: np_lu(a), dt=dt, transpose0=True)
    # ---- lu_solve: LU/pivots of A (scipy), X from numpy.linalg.solve on A ----
    a = wellcond((2, 3, 3), dt)
    a64 = a.astype(np.complex128 if dt[0] == 'c' else np.float64)
    f = [scipy.linalg.lu_factor(x) for x in a64]
    lu = np.stack([x[0] for x in f]).astype(DT[dt])
    piv = np.stack([x[1] + 1 for x in f]).astype(np.int32)
    b = rnd((3, 2), dt)        # broadcast over the batch of LU
    for adj in (False, True):
        add(f"lu_solve_adjoint_{adj}", "lu_solve", [lu, piv, b],
            lambda lu_, p_, b_, adj=adj: [np.linalg.solve(np.conj(mT(a64)) if adj else a64, np.broadcast_to(b_, (2, 3, 2)))],
            {"adjoint": adj}, dt)
    # LU given as a transposed view of its transpose (non-contiguous)
    add("lu_solve_transposed_view", "lu_solve", [np.ascontiguousarray(mT(lu)), piv, rnd((2, 3, 1), dt)],
        lambda lu_, p_, b_: [np.linalg.solve(a64, b_)], {"adjoint": False}, dt, transpose0=True)
    # ---- eig / eigvals: sorted eigenvalues, |V|^2 in the same order ----
    add("eig_batched", "eig", [rnd((2, 4, 4), dt)], lambda a: list(eig_sorted(a)), dt=dt)
    add("eig_transposed_view", "eig", [rnd((3, 3), dt)], lambda a: list(eig_sorted(a)), dt=dt, transpose0=True)
    add("eigvals", "eigvals", [rnd((2, 3, 3), dt)], lambda a: [eig_sorted(a)[0]], dt=dt)


# ---- derivatives (PyTorch 1.13) ----
def tvjp(name, op, fn, primals, attrs=None, wrt=None):
    """primals: numpy arrays; wrt: indices of the differentiable primals (default all)."""
    wrt = list(range(len(primals))) if wrt is None else wrt
    ts = [torch.tensor(p, requires_grad=(i in wrt)) for i, p in enumerate(primals)]
    ys = fn(*ts)
    ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
    gs = [rnd(tuple(y.shape), 'c128' if y.is_complex() else 'f64') for y in ys]
    grads = torch.autograd.grad(ys, [ts[i] for i in wrt], [torch.tensor(g) for g in gs])
    cases.append({"name": f"vjp:{name}/{primals[0].dtype}", "op": f"vjp:{op}", "attrs": attrs or {},
                  "inputs": [enc(p) for p in primals] + [enc(g) for g in gs],
                  "outputs": [enc(x.detach().numpy()) for x in grads], "rtol": 1e-9, "atol": 1e-10})


def eig_loss(a, c, h):
    w, v = torch.linalg.eig(a)
    return (torch.real(c * w ** 2).sum() + (h[..., :, None] * torch.real(w)[..., None, :] * torch.abs(v) ** 2).sum())


def tgrad(name, op, fn, a, extra):
    ta = torch.tensor(a, requires_grad=True)
    g, = torch.autograd.grad(fn(ta, *[torch.tensor(e) for e in extra]), [ta])
    cases.append({"name": f"{name}/{a.dtype}", "op": op, "attrs": {},
                  "inputs": [enc(a)] + [enc(e) for e in extra], "outputs": [enc(g.numpy())],
                  "rtol": 1e-8, "atol": 1e-10})


for dt in ('f64', 'c128'):
    for nm, shp in (("tall", (2, 4, 3)), ("square", (3, 3)), ("wide", (2, 3, 5))):
        tvjp(f"qr_{nm}", "qr", lambda a: torch.linalg.qr(a, mode='reduced'), [rnd(shp, dt)], {"complete": False})
    tvjp("qr_complete_wide", "qr", lambda a: torch.linalg.qr(a, mode='complete'), [rnd((3, 4), dt)],
         {"complete": True})
    for nm, shp in (("square", (2, 3, 3)), ("tall", (5, 3)), ("wide", (2, 3, 5))):
        tvjp(f"lu_factor_{nm}", "lu_factor", lambda a: torch.linalg.lu_factor(a)[0], [rnd(shp, dt)])
        tvjp(f"lu_{nm}", "lu", lambda a: torch.linalg.lu(a)[1:], [rnd(shp, dt)])
    a = wellcond((2, 3, 3), dt)
    lu, piv = torch.linalg.lu_factor(torch.tensor(a))
    for adj in (False, True):
        tvjp(f"lu_solve_adjoint_{adj}", "lu_solve",
             lambda lu_, p_, b_, adj=adj: torch.linalg.lu_solve(lu_, p_, b_, adjoint=adj),
             [lu.numpy(), piv.numpy(), rnd((3, 2), dt)], {"adjoint": adj}, wrt=[0, 2])
    c = np.array(rnd((), 'c128'))
    tgrad("grad:eig_loss", "grad:eig", eig_loss, rnd((2, 4, 4), dt), [c, rng.standard_normal(4)])
    tgrad("grad:eigvals_loss", "grad:eigvals", lambda a, c: torch.real(c * torch.linalg.eigvals(a) ** 3).sum(),
          rnd((2, 3, 3), dt), [c])

# ---- forward mode (torch forward AD): inputs primals + one tangent per differentiable primal, outputs
# the tangents of the outputs ----
import torch.autograd.forward_ad as fwAD

def tjvp(name, op, fn, primals, attrs=None, wrt=None, transpose0=False):
    """transpose0: primal 0 is stored as its transpose and reaches fn as a permute view."""
    wrt = list(range(len(primals))) if wrt is None else wrt
    seen = [mT(p) if i == 0 and transpose0 else p for i, p in enumerate(primals)]
    tans = [rnd(seen[i].shape, 'c128' if np.iscomplexobj(seen[i]) else 'f64').astype(seen[i].dtype)
            for i in wrt]
    nd = np.ndim(primals[0])
    view = [["permute", list(range(nd - 2)) + [nd - 1, nd - 2]]] if transpose0 else None
    with fwAD.dual_level():
        ts = [torch.tensor(p) for p in seen]
        for k, i in enumerate(wrt):
            ts[i] = fwAD.make_dual(ts[i], torch.tensor(tans[k]))
        ys = fn(*ts)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        yts = [fwAD.unpack_dual(y).tangent.numpy() for y in ys]
    cases.append({"name": f"jvp:{name}/{primals[0].dtype}", "op": f"jvp:{op}", "attrs": attrs or {},
                  "inputs": [enc(p, view if i == 0 else None) for i, p in enumerate(primals)] +
                            [enc(t) for t in tans],
                  "outputs": [enc(t) for t in yts], "rtol": 1e-9, "atol": 1e-10})


for dt in ('f64', 'c128'):
    for nm, shp in (("tall", (2, 4, 3)), ("square", (3, 3)), ("wide", (2, 3, 5))):
        tjvp(f"qr_{nm}", "qr", lambda a: torch.linalg.qr(a, mode='reduced'), [rnd(shp, dt)], {"complete": False})
    for nm, shp in (("square", (2, 3, 3)), ("tall", (5, 3)), ("wide", (2, 3, 5))):
        tjvp(f"lu_{nm}", "lu", lambda a: torch.linalg.lu(a)[1:], [rnd(shp, dt)])
    a = wellcond((2, 3, 3), dt)
    lu, piv = torch.linalg.lu_factor(torch.tensor(a))
    for adj in (False, True):
        tjvp(f"lu_solve_adjoint_{adj}", "lu_solve",
             lambda lu_, p_, b_, adj=adj: torch.linalg.lu_solve(lu_, p_, b_, adjoint=adj),
             [lu.numpy(), piv.numpy(), rnd((3, 2), dt)], {"adjoint": adj}, wrt=[0, 2])


# eig in forward mode through the gauge-invariant outputs of the "eig" value cases: the eigenvalues
# sorted by (real, imag) and |V|^2 with its columns in that order (|V_ij|^2 does not see the arbitrary
# phase of a column, nor a phase drift i theta_j V_j of its tangent). The order comes from the primal.
def t_eig_sorted(a):
    w, v = torch.linalg.eig(a)
    idx = torch.tensor(eig_order(fwAD.unpack_dual(w).primal.numpy()))
    v2 = torch.real(v * torch.conj(v))
    return [torch.take_along_dim(w, idx, -1), torch.take_along_dim(v2, idx.unsqueeze(-2).expand(v2.shape), -1)]


def eig_separated(shape, dt, gap=0.3):
    """rnd(shape, dt) redrawn until every matrix has eigenvalues at least gap apart whose real parts
    (the sort key) differ by gap as well, but for the conjugate pairs of a real matrix."""
    while True:
        a = rnd(shape, dt)
        ok = True
        for w in np.linalg.eig(a)[0].astype(np.complex128).reshape(-1, shape[-1]):
            d = np.abs(w[:, None] - w[None, :]) + np.eye(len(w)) * 1e9
            dr = np.abs(w.real[:, None] - w.real[None, :]) + np.eye(len(w)) * 1e9
            pair = np.abs(w[:, None] - np.conj(w)[None, :]) < 1e-12
            ok &= bool(d.min() > gap and ((dr > gap) | pair).all())
        if ok:
            return a


for dt in ('f64', 'c128'):
    tjvp("eig_batched", "eig", t_eig_sorted, [eig_separated((2, 4, 4), dt)], {"nout": 2})
    tjvp("eig_transposed_view", "eig", t_eig_sorted, [eig_separated((3, 3), dt)], {"nout": 2}, transpose0=True)

# ---- small real square batches (linalg/small.c's Householder lanes): Q and R
# compared as they are (LAPACK's sign conventions, which numpy.linalg.qr
# returns); orders 1-4 over two blocks of eight and a part, upper triangular
# input with negative diagonal (no reflection: tau = 0 keeps the sign), a
# zero column, a transposed view; lu_factor of the same sizes ----
for dt in ('f32', 'f64'):
    for n in (1, 2, 3, 4):
        a = rnd((19, n, n), dt)
        add(f"qr_small_{n}", "qr", [a], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
        add(f"qr_small_{n}_complete", "qr", [a], lambda a: list(np.linalg.qr(a, mode='complete')),
            {"complete": True}, dt)
        add(f"lu_factor_small_{n}", "lu_factor", [rnd((19, n, n), dt)], lambda a: list(torch_lu_factor(a)), dt=dt)
    tri = np.triu(rnd((9, 4, 4), dt))
    tri[:, 1, 1] = -np.abs(tri[:, 1, 1]) - 0.5
    add("qr_small_triangular", "qr", [tri], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
    zc = rnd((9, 4, 4), dt)
    zc[:, :, 1] = 0
    add("qr_small_zero_column", "qr", [zc], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
    add("qr_small_transposed_view", "qr", [rnd((11, 4, 4), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
        {"complete": False}, dt, transpose0=True)

# ---- orders 5-8 (linalg/small8.c's Householder kernel, rows in AVX-512
# registers): Q and R as numpy.linalg.qr returns them (LAPACK's signs);
# reduced and complete, a batch of three, upper triangular input (tau = 0
# throughout, a negative diagonal kept), a zero sub-column below the first
# diagonal entry (tau = 0 at step 0 only), rank deficient (a zero column and
# a zero row), a transposed view ----
for dt in ('f32', 'f64'):
    for n in (5, 6, 7, 8):
        a = rnd((3, n, n), dt)
        add(f"qr_small8_{n}", "qr", [a], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
        add(f"qr_small8_{n}_complete", "qr", [a], lambda a: list(np.linalg.qr(a, mode='complete')),
            {"complete": True}, dt)
        add(f"qr_small8_{n}_single", "qr", [rnd((n, n), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
            {"complete": False}, dt)
    tri = np.triu(rnd((2, 8, 8), dt))
    tri[:, 2, 2] = -np.abs(tri[:, 2, 2]) - 0.5
    add("qr_small8_triangular", "qr", [tri], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False}, dt)
    zs = rnd((2, 7, 7), dt)
    zs[:, 1:, 0] = 0
    add("qr_small8_zero_subcolumn", "qr", [zs], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False},
        dt)
    rd = rnd((2, 8, 8), dt)
    rd[:, :, 3] = 0
    rd[:, 5, :] = 0
    add("qr_small8_rank_deficient", "qr", [rd], lambda a: list(np.linalg.qr(a, mode='reduced')), {"complete": False},
        dt)
    add("qr_small8_transposed_view", "qr", [rnd((2, 6, 6), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
        {"complete": False}, dt, transpose0=True)
    add("qr_small8_transposed_view_8", "qr", [rnd((8, 8), dt)], lambda a: list(np.linalg.qr(a, mode='reduced')),
        {"complete": False}, dt, transpose0=True)

out = {"generator": "oracles/gen_linalg_decomp.py", "numpy": np.__version__, "scipy": scipy.__version__,
       "torch": torch.__version__, "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "linalg_decomp.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")
