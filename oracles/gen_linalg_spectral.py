#!/usr/bin/env python3
"""Writes oracles/data/linalg_spectral.json: eigh / eigvalsh / svd / svdvals.

Values from numpy.linalg (NumPy 1.24) in f32/f64/c64/c128, compared through
gauge-invariant quantities (op "eigh_loss" / "svd_loss", attrs.loss):
  eigh  w_absv: w, |V|^2 (elementwise)     sinw: V diag(sin w) V^H
        w: eigvalsh(A)
  svd   s: svdvals(A)   s_full: S of the full decomposition   recon: U1 diag(S) Vh1
        abs: |U1|^2, |Vh1|^2   uvh: U1 Vh1 (VJPs only)   orth: U^H U, Vh Vh^H
        (identities; full_matrices only)
(U1, Vh1: the first k = min(m, n) columns / rows). attrs: upper, full,
transpose inputs come as permuted views (non-contiguous). Errors: non-finite
input. VJPs (op "vjp:eigh_loss" / "vjp:svd_loss": A, then one cotangent per
output -> A-bar) from torch.linalg (PyTorch 1.13) for the same losses:
tall, wide and square, real and complex, batched. Run with /usr/bin/python3."""
import json, pathlib
import numpy as np
import torch
from linalg_common import DT, Random, enc

rand = Random(20261123)
rng, rnd = rand.rng, rand.rnd
cases = []


def herm(shape, dt):
    a = rnd(shape, dt)
    return ((a + np.conj(np.swapaxes(a, -1, -2))) / 2).astype(DT[dt])


mH = lambda x: np.conj(np.swapaxes(x, -1, -2))


def eigh_np(a, loss, upper):
    w, v = np.linalg.eigh(a, UPLO='U' if upper else 'L')
    if loss == 'w_absv':
        return [w, np.abs(v) ** 2]
    if loss == 'sinw':
        return [(v * np.sin(w)[..., None, :]) @ mH(v)]
    return [w]


def svd_np(a, loss, full):
    k = min(a.shape[-2:])
    if loss == 's':
        return [np.linalg.svd(a, compute_uv=False)]
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    u1, vh1 = u[..., :, :k], vh[..., :k, :]
    return {'s_full': lambda: [s], 'recon': lambda: [(u1 * s[..., None, :]) @ vh1],
            'abs': lambda: [np.abs(u1) ** 2, np.abs(vh1) ** 2], 'uvh': lambda: [u1 @ vh1],
            'orth': lambda: [mH(u) @ u, vh @ mH(vh)]}[loss]()


def add(name, op, a, fn, attrs, dt, transpose=False):
    lowp = dt in ('f32', 'c64')
    hi = a.astype(np.complex128 if dt[0] == 'c' else np.float64)
    outs = [np.asarray(o) for o in fn(hi)]
    scale = max([1.0] + [float(np.max(np.abs(o))) for o in outs if o.size])
    tol = {"rtol": 1e-4, "atol": 1e-4 * scale} if lowp else {"rtol": 1e-9, "atol": 1e-11 * scale}
    rdt = np.float32 if lowp else np.float64
    cast = lambda o: o.astype(DT[dt]) if np.iscomplexobj(o) else o.astype(rdt)
    inp = enc(a)
    if transpose:   # stored transposed, viewed back: a non-contiguous input
        perm = list(range(a.ndim))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        inp = enc(np.ascontiguousarray(np.swapaxes(a, -1, -2)))
        inp["view"] = [["permute", perm]]
    cases.append({"name": f"{name}/{dt}", "op": op, "attrs": attrs, "inputs": [inp],
                  "outputs": [enc(cast(o)) for o in outs], **tol})


for dt in DT:
    # eigh reads one triangle: the other holds noise that must be ignored
    a = rnd((2, 4, 4), dt)
    for upper in (False, True):
        u = 'upper' if upper else 'lower'
        add(f"eigh_w_absv_{u}", "eigh_loss", a, lambda x, up=upper: eigh_np(x, 'w_absv', up),
            {"loss": "w_absv", "upper": upper}, dt)
        if not upper:
            add(f"eigh_sinw_{u}", "eigh_loss", a, lambda x, up=upper: eigh_np(x, 'sinw', up),
                {"loss": "sinw", "upper": upper}, dt)
        add(f"eigvalsh_{u}", "eigh_loss", a, lambda x, up=upper: eigh_np(x, 'w', up), {"loss": "w", "upper": upper}, dt)
    add("eigh_transposed_view", "eigh_loss", herm((3, 5, 5), dt), lambda x: eigh_np(x, 'w_absv', False),
        {"loss": "w_absv", "upper": False}, dt, transpose=True)
    add("eigh_1x1", "eigh_loss", rnd((3, 1, 1), dt), lambda x: eigh_np(x, 'w_absv', False),
        {"loss": "w_absv", "upper": False}, dt)
    for shape, tag in (((2, 4, 3), "tall"), ((3, 5), "wide"), ((2, 3, 3), "square")):
        a = rnd(shape, dt)
        add(f"svdvals_{tag}", "svd_loss", a, lambda x: svd_np(x, 's', False), {"loss": "s", "full": False}, dt)
        for full in (False, True):
            f = 'full' if full else 'reduced'
            for loss in (('recon', 'abs', 'orth') if full else ('s_full', 'recon', 'abs')):
                add(f"svd_{loss}_{tag}_{f}", "svd_loss", a, lambda x, l=loss, fu=full: svd_np(x, l, fu),
                    {"loss": loss, "full": full}, dt)
    add("svd_transposed_view", "svd_loss", rnd((2, 3, 4), dt), lambda x: svd_np(x, 'abs', False),
        {"loss": "abs", "full": False}, dt, transpose=True)
    add("svdvals_transposed_view", "svd_loss", rnd((4, 6), dt), lambda x: svd_np(x, 's', False),
        {"loss": "s", "full": False}, dt, transpose=True)

# non-finite input: numpy.linalg raises LinAlgError, Tangent TG_ERR_NUMERIC
for op, attrs in (("eigh_loss", {"loss": "w_absv", "upper": False}), ("eigh_loss", {"loss": "w", "upper": False}),
                  ("svd_loss", {"loss": "recon", "full": False}), ("svd_loss", {"loss": "s", "full": False})):
    a = rnd((2, 3, 3), 'f64')
    a[1, 2, 0] = np.nan
    cases.append({"name": f"{op}_{attrs['loss']}_nan/f64", "op": op, "attrs": attrs, "inputs": [enc(a)],
                  "error": "TG_ERR_NUMERIC"})


# ---- VJPs from torch --------------------------------------------------------------------------------
def t_eigh(a, loss, upper):
    if loss == 'w':
        return [torch.linalg.eigvalsh(a, UPLO='U' if upper else 'L')]
    w, v = torch.linalg.eigh(a, UPLO='U' if upper else 'L')
    if loss == 'w_absv':
        return [w, v.abs() ** 2]
    return [(v * torch.sin(w).unsqueeze(-2)) @ v.mH]


def t_svd(a, loss, full):
    k = min(a.shape[-2:])
    if loss == 's':
        return [torch.linalg.svdvals(a)]
    u, s, vh = torch.linalg.svd(a, full_matrices=full)
    u1, vh1 = u[..., :, :k], vh[..., :k, :]
    return {'s_full': lambda: [s], 'recon': lambda: [(u1 * s.unsqueeze(-2)) @ vh1],
            'abs': lambda: [u1.abs() ** 2, vh1.abs() ** 2], 'uvh': lambda: [u1 @ vh1]}[loss]()


def tvjp(name, op, fn, a, attrs):
    x = torch.tensor(a, requires_grad=True)
    ys = fn(x)
    gs = [rnd(tuple(y.shape), 'c128' if y.is_complex() else 'f64') for y in ys]
    (grad,) = torch.autograd.grad(ys, [x], [torch.tensor(g) for g in gs])
    cases.append({"name": f"vjp:{name}/{a.dtype}", "op": f"vjp:{op}", "attrs": {**attrs, "nout": len(ys)},
                  "inputs": [enc(a)] + [enc(g) for g in gs], "outputs": [enc(grad.numpy())],
                  "rtol": 1e-9, "atol": 1e-11})


for dt in ('f64', 'c128'):
    h = herm((2, 4, 4), dt)
    for upper in (False, True):
        u = 'upper' if upper else 'lower'
        for loss in ('w', 'w_absv', 'sinw'):
            tvjp(f"eigh_{loss}_{u}", "eigh_loss", lambda x, l=loss, up=upper: t_eigh(x, l, up), h,
                 {"loss": loss, "upper": upper})
    for shape, tag in (((2, 5, 3), "tall"), ((2, 3, 5), "wide"), ((2, 4, 4), "square")):
        a = rnd(shape, dt)
        tvjp(f"svdvals_{tag}", "svd_loss", lambda x: t_svd(x, 's', False), a, {"loss": "s", "full": False})
        for full in (False, True):
            f = 'full' if full else 'reduced'
            for loss in ('s_full', 'recon', 'abs', 'uvh'):
                tvjp(f"svd_{loss}_{tag}_{f}", "svd_loss", lambda x, l=loss, fu=full: t_svd(x, l, fu), a,
                     {"loss": loss, "full": full})

# ---- forward-mode JVPs from torch (inputs A, A-dot; outputs the losses' tangents) ----
import torch.autograd.forward_ad as fwAD

def tjvp(name, op, fn, a, attrs, hermitian=False):
    t = rnd(a.shape, 'c128' if np.iscomplexobj(a) else 'f64').astype(a.dtype)
    if hermitian:  # eigh reads one triangle; torch's rule assumes A-dot = A-dot^H
        t = (t + np.conj(np.swapaxes(t, -1, -2))) / 2
    with fwAD.dual_level():
        ys = fn(fwAD.make_dual(torch.tensor(a), torch.tensor(t)))
        yts = [fwAD.unpack_dual(y).tangent.numpy() for y in ys]
    cases.append({"name": f"jvp:{name}/{a.dtype}", "op": f"jvp:{op}", "attrs": {**attrs, "nout": len(ys)},
                  "inputs": [enc(a), enc(t)], "outputs": [enc(y) for y in yts], "rtol": 1e-9, "atol": 1e-11})


for dt in ('f64', 'c128'):
    h = herm((2, 4, 4), dt)
    for loss in ('w', 'w_absv', 'sinw'):
        tjvp(f"eigh_{loss}", "eigh_loss", lambda x, l=loss: t_eigh(x, l, False), h, {"loss": loss, "upper": False},
             hermitian=True)
    for shape, tag in (((2, 5, 3), "tall"), ((2, 3, 5), "wide"), ((2, 4, 4), "square")):
        a = rnd(shape, dt)
        tjvp(f"svdvals_{tag}", "svd_loss", lambda x: t_svd(x, 's', False), a, {"loss": "s", "full": False})
        for loss in ('recon', 'abs', 'uvh'):
            tjvp(f"svd_{loss}_{tag}", "svd_loss", lambda x, l=loss: t_svd(x, l, False), a,
                 {"loss": loss, "full": False})

# ---- small real batches (linalg/small.c's lanes): orders 1-4, two full blocks of
# eight and a part, both triangles, degenerate and graded spectra, a strided view ----
def rotated(diag, count, dt):
    """Q diag Q^T for random orthogonal Q: a chosen spectrum."""
    q, _ = np.linalg.qr(rng.standard_normal((count, len(diag), len(diag))))
    return ((q * np.asarray(diag, dtype=float)[None, None, :]) @ np.swapaxes(q, -1, -2)).astype(DT[dt])

for dt in ('f32', 'f64'):
    for n in (1, 2, 3, 4):
        a = rnd((19, n, n), dt)
        for upper in (False, True):
            u = 'upper' if upper else 'lower'
            add(f"eigh_small_{n}_{u}", "eigh_loss", a, lambda x, up=upper: eigh_np(x, 'w_absv', up),
                {"loss": "w_absv", "upper": upper}, dt)
        add(f"eigh_small_{n}_sinw", "eigh_loss", a, lambda x: eigh_np(x, 'sinw', False),
            {"loss": "sinw", "upper": False}, dt)
        add(f"eigvalsh_small_{n}", "eigh_loss", a, lambda x: eigh_np(x, 'w', False), {"loss": "w", "upper": False}, dt)
    # (a graded spectrum's vectors and sin(w) are ill-conditioned: values only)
    for tag, diag in (("degenerate", [1, 1, 2, 2]), ("graded", [1e6, 1, 1e-6, -3]), ("zero", [0, 0, 0, 0])):
        a = rotated(diag, 9, dt)
        if tag != "graded":
            add(f"eigh_small_{tag}_sinw", "eigh_loss", a, lambda x: eigh_np(x, 'sinw', False),
                {"loss": "sinw", "upper": False}, dt)
        add(f"eigvalsh_small_{tag}", "eigh_loss", a, lambda x: eigh_np(x, 'w', False),
            {"loss": "w", "upper": False}, dt)
    add("eigh_small_transposed_view", "eigh_loss", herm((11, 4, 4), dt), lambda x: eigh_np(x, 'w_absv', False),
        {"loss": "w_absv", "upper": False}, dt, transpose=True)

    for n in (1, 2, 3, 4):
        a = rnd((19, n, n), dt)
        for loss in ('recon', 'abs', 'orth'):
            add(f"svd_small_{n}_{loss}", "svd_loss", a, lambda x, l=loss: svd_np(x, l, False),
                {"loss": loss, "full": False}, dt)
        add(f"svdvals_small_{n}", "svd_loss", a, lambda x: svd_np(x, 's', False), {"loss": "s", "full": False}, dt)
    # rank 2 of 4 (LAPACK completes U) and a repeated singular value (U Vh is still fixed)
    lowrank = (rnd((9, 4, 2), dt) @ rnd((9, 2, 4), dt)).astype(DT[dt])
    add("svd_small_rank2_orth", "svd_loss", lowrank, lambda x: svd_np(x, 'orth', True), {"loss": "orth", "full": True}, dt)
    add("svd_small_rank2_s", "svd_loss", lowrank, lambda x: svd_np(x, 's', False), {"loss": "s", "full": False}, dt)
    zcol = rnd((9, 4, 4), dt)
    zcol[:, :, 2] = 0                          # an exact zero singular value: U's column from LAPACK
    zcol[4] = 0                                # and a zero matrix
    add("svd_small_zero_column_orth", "svd_loss", zcol, lambda x: svd_np(x, 'orth', True),
        {"loss": "orth", "full": True}, dt)
    add("svd_small_zero_column_recon", "svd_loss", zcol, lambda x: svd_np(x, 'recon', True),
        {"loss": "recon", "full": True}, dt)
    ortho = rotated([1, 1, 1, 1], 9, dt)      # orthogonal: S = 1, 1, 1, 1
    add("svd_small_repeated_uvh", "svd_loss", ortho, lambda x: svd_np(x, 'uvh', False),
        {"loss": "uvh", "full": False}, dt)
    add("svd_small_transposed_view", "svd_loss", rnd((11, 3, 3), dt), lambda x: svd_np(x, 'recon', False),
        {"loss": "recon", "full": False}, dt, transpose=True)

# f64 entries beyond 1e70 or below 1e-70 (squares of squares would overflow or
# underflow in the lanes' orthogonality test: LAPACK takes them); U^H U and U Vh
# are scale-free checks
for tag, scale in (("huge", 1e100), ("tiny", 1e-100)):
    a = rnd((9, 4, 4), 'f64') * scale
    add(f"svd_small_{tag}_orth", "svd_loss", a, lambda x: svd_np(x, 'orth', False), {"loss": "orth", "full": False},
        'f64')
    add(f"svd_small_{tag}_uvh", "svd_loss", a, lambda x: svd_np(x, 'uvh', False), {"loss": "uvh", "full": False},
        'f64')

# ---- orders 5-8 (linalg/small8.c's within-matrix Jacobi; 5-7 padded to 8): a
# batch of three, both triangles, a repeated spectrum, rank-deficient and
# repeated-S svd (appended last: the streams above stay as they were) ----
for dt in ('f32', 'f64'):
    for n in (5, 6, 7, 8):
        a = rnd((3, n, n), dt)
        for upper in (False, True):
            u = 'upper' if upper else 'lower'
            add(f"eigh_small8_{n}_{u}", "eigh_loss", a, lambda x, up=upper: eigh_np(x, 'w_absv', up),
                {"loss": "w_absv", "upper": upper}, dt)
        add(f"eigh_small8_{n}_sinw", "eigh_loss", a, lambda x: eigh_np(x, 'sinw', False),
            {"loss": "sinw", "upper": False}, dt)
        add(f"eigvalsh_small8_{n}", "eigh_loss", a, lambda x: eigh_np(x, 'w', False), {"loss": "w", "upper": False}, dt)
        for loss in ('recon', 'abs'):
            add(f"svd_small8_{n}_{loss}", "svd_loss", a, lambda x, l=loss: svd_np(x, l, False),
                {"loss": loss, "full": False}, dt)
        add(f"svd_small8_{n}_orth", "svd_loss", a, lambda x: svd_np(x, 'orth', True), {"loss": "orth", "full": True}, dt)
        add(f"svdvals_small8_{n}", "svd_loss", a, lambda x: svd_np(x, 's', False), {"loss": "s", "full": False}, dt)
        spec = [1, 1, 1, 2, 2, -3, -3, 2][:n]
        rep = rotated(spec, 3, dt)
        add(f"eigh_small8_{n}_repeated_sinw", "eigh_loss", rep, lambda x: eigh_np(x, 'sinw', False),
            {"loss": "sinw", "upper": False}, dt)
        add(f"eigvalsh_small8_{n}_repeated", "eigh_loss", rep, lambda x: eigh_np(x, 'w', False),
            {"loss": "w", "upper": False}, dt)
        lowrank = (rnd((3, n, 3), dt) @ rnd((3, 3, n), dt)).astype(DT[dt])   # rank 3: LAPACK completes U
        add(f"svd_small8_{n}_rank3_orth", "svd_loss", lowrank, lambda x: svd_np(x, 'orth', True),
            {"loss": "orth", "full": True}, dt)
        add(f"svd_small8_{n}_rank3_recon", "svd_loss", lowrank, lambda x: svd_np(x, 'recon', False),
            {"loss": "recon", "full": False}, dt)
        add(f"svdvals_small8_{n}_rank3", "svd_loss", lowrank, lambda x: svd_np(x, 's', False),
            {"loss": "s", "full": False}, dt)
        ortho = (2 * rotated([1] * n, 3, 'f64')).astype(DT[dt])       # S = 2, ..., 2: U Vh still fixed
        add(f"svd_small8_{n}_repeated_uvh", "svd_loss", ortho, lambda x: svd_np(x, 'uvh', False),
            {"loss": "uvh", "full": False}, dt)
    add("eigh_small8_transposed_view", "eigh_loss", herm((3, 8, 8), dt), lambda x: eigh_np(x, 'w_absv', False),
        {"loss": "w_absv", "upper": False}, dt, transpose=True)
    add("svd_small8_transposed_view", "svd_loss", rnd((3, 7, 7), dt), lambda x: svd_np(x, 'recon', False),
        {"loss": "recon", "full": False}, dt, transpose=True)

out = {"generator": "oracles/gen_linalg_spectral.py", "numpy": np.__version__, "torch": torch.__version__,
       "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "linalg_spectral.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases, {path.stat().st_size} bytes")
