#!/usr/bin/env python3
"""Writes oracles/data/fft.json: numpy.fft (NumPy 1.24, every transform in
f64) and torch.fft VJPs (PyTorch 1.13) for Tangent's fft module. f32 inputs
are compared with the f64 reference of the same (f32-rounded) values, at f32
tolerances scaled by the result's magnitude. Run with /usr/bin/python3."""
import json, pathlib
import numpy as np
import torch

rng = np.random.default_rng(20261123)
cases = []

def enc(a):
    a = np.asarray(a)
    dt = {np.dtype('float32'): 'f32', np.dtype('float64'): 'f64', np.dtype('complex64'): 'c64',
          np.dtype('complex128'): 'c128', np.dtype('int64'): 'i64', np.dtype('int32'): 'i32'}[a.dtype]
    flat = a.reshape(-1)
    data = [[float(v.real), float(v.imag)] for v in flat] if np.iscomplexobj(a) else \
           [int(v) for v in flat] if a.dtype.kind == 'i' else [float(v) for v in flat]
    return {"dtype": dt, "shape": list(a.shape), "data": data}

def rnd(shape, dt):
    if dt in ('c64', 'c128'):
        a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        return a.astype(np.complex64 if dt == 'c64' else np.complex128)
    if dt == 'i64':
        return rng.integers(-5, 6, size=shape).astype(np.int64)
    return rng.standard_normal(shape).astype(np.float32 if dt == 'f32' else np.float64)

def single(want):
    return want.dtype in (np.float32, np.complex64)

def add(name, op, inputs, want, attrs, lowp=False):
    want = np.asarray(want)
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    if lowp:
        tol = {"rtol": 1e-4, "atol": 1e-5 * scale}
    else:
        tol = {"rtol": 1e-10, "atol": 1e-12 * scale}
    cases.append({"name": name, "op": op, "attrs": attrs, "inputs": [enc(x) for x in inputs],
                  "outputs": [enc(want)], **tol})

def err(name, op, inputs, attrs, code):
    cases.append({"name": name, "op": op, "attrs": attrs, "inputs": [enc(x) for x in inputs], "error": code})

def low(dt):
    return dt in ('f32', 'c64')

def out_dtype(res, dt, real_out):
    if low(dt):
        return res.astype(np.float32 if real_out else np.complex64)
    return res.astype(np.float64 if real_out else np.complex128)

NORMS = [None, "ortho", "forward"]

# ---- one-axis transforms ----
for op in ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]:
    fn = getattr(np.fft, op)
    real_in = op in ("rfft", "ihfft")
    real_out = op in ("irfft", "hfft")
    for shape, axis in [((6,), -1), ((7,), 0), ((5, 8), 1), ((4, 3, 5), 0), ((2, 11), -1)]:
        for dt in (['f64', 'f32', 'i64'] if real_in else ['c128', 'c64', 'f64']):
            for norm in NORMS:
                for n in ([None, shape[axis] + 3, max(2, shape[axis] - 2)] if norm is None else [None]):
                    x = rnd(shape, dt)
                    res = fn(x.astype(np.float64) if dt == 'i64' else x, n=n, axis=axis, norm=norm)
                    add(f"{op}/{dt}_{'x'.join(map(str, shape))}_ax{axis}_{norm}_n{n}", op, [x],
                        out_dtype(res, dt, real_out), {"n": n, "axis": axis, "norm": norm}, low(dt))

# ---- n-d transforms ----
for op in ["fftn", "ifftn", "rfftn", "irfftn"]:
    fn = getattr(np.fft, op)
    real_in = op == "rfftn"
    real_out = op == "irfftn"
    for shape, axes, s in [((4, 6), None, None), ((3, 5, 7), [0, 2], None), ((3, 5, 7), [-1, 0], [4, 9]),
                           ((2, 3, 4), None, None), ((5, 6), [1, 0], None), ((4, 4, 3), [2, 1, 0], [3, 5, 6]),
                           ((6, 7), None, [8, 5])]:
        for dt in (['f64', 'f32'] if real_in else ['c128', 'c64', 'f64']):
            for norm in NORMS:
                x = rnd(shape, dt)
                res = fn(x, s=s, axes=axes, norm=norm)
                add(f"{op}/{dt}_{'x'.join(map(str, shape))}_axes{axes}_s{s}_{norm}", op, [x],
                    out_dtype(res, dt, real_out), {"axes": axes, "s": s, "norm": norm}, low(dt))

for op in ["fft2", "ifft2", "rfft2", "irfft2"]:
    fn = getattr(np.fft, op)
    for shape, s in [((3, 4, 5), None), ((6, 7), [5, 9])]:
        dt = 'f64' if op == 'rfft2' else 'c128'
        for norm in NORMS:
            x = rnd(shape, dt)
            res = fn(x, s=s, norm=norm)
            add(f"{op}/{dt}_{'x'.join(map(str, shape))}_s{s}_{norm}", op, [x],
                out_dtype(res, dt, op == 'irfft2'), {"s": s, "norm": norm})

# ---- shifts and frequencies ----
for op in ["fftshift", "ifftshift"]:
    fn = getattr(np.fft, op)
    for shape, axes in [((7,), None), ((6,), None), ((4, 5), None), ((4, 5), [1]), ((3, 4, 5), [0, -1])]:
        x = rnd(shape, 'f64')
        add(f"{op}/{'x'.join(map(str, shape))}_axes{axes}", op, [x], fn(x, axes=axes), {"axes": axes})
for op in ["fftfreq", "rfftfreq"]:
    fn = getattr(np.fft, op)
    for n, d in [(1, 1.0), (8, 1.0), (9, 0.1), (10, 2.5)]:
        for dt in ['f64', 'f32']:
            res = fn(n, d)
            add(f"{op}/n{n}_d{d}_{dt}", op, [], res.astype(np.float32 if dt == 'f32' else np.float64),
                {"n": n, "d": d, "dtype": dt}, dt == 'f32')

# ---- errors ----
x = rnd((4, 6), 'c128')
err("fft/err_axis", "fft", [x], {"n": None, "axis": 2, "norm": None}, "TG_ERR_ARG")
err("fft/err_n0", "fft", [x], {"n": 0, "axis": -1, "norm": None}, "TG_ERR_ARG")
err("fft/err_norm", "fft", [x], {"n": None, "axis": -1, "norm": "bogus"}, "TG_ERR_ARG")
err("fftn/err_repeated", "fftn", [x], {"axes": [0, 0], "s": None, "norm": None}, "TG_ERR_ARG")
err("rfft/err_complex", "rfft", [x], {"n": None, "axis": -1, "norm": None}, "TG_ERR_DTYPE")
err("irfft/err_n1bin", "irfft", [rnd((4, 1), 'c128')], {"n": None, "axis": -1, "norm": None}, "TG_ERR_ARG")

# ---- VJPs against torch.fft (op "vjp:<name>": primal, cotangent -> gradient) ----
def tvjp(name, tfn, x, attrs):
    xt = torch.tensor(x, requires_grad=True)
    y = tfn(xt)
    g = rnd(tuple(y.shape), 'c128' if y.is_complex() else 'f64')
    (gx,) = torch.autograd.grad(y, xt, torch.tensor(g))
    cases.append({"name": f"vjp:{name}/{'x'.join(map(str, x.shape))}_{attrs}", "op": f"vjp:{name}", "attrs": attrs,
                  "inputs": [enc(x), enc(g)], "outputs": [enc(gx.detach().numpy())], "rtol": 1e-10, "atol": 1e-11})

for norm in NORMS:
    for n in (6, 7):
        a = {"n": None, "axis": -1, "norm": norm}
        tvjp("fft", lambda t: torch.fft.fft(t, norm=norm), rnd((n,), 'c128'), a)
        tvjp("ifft", lambda t: torch.fft.ifft(t, norm=norm), rnd((3, n), 'c128'), a)
        tvjp("rfft", lambda t: torch.fft.rfft(t, norm=norm), rnd((n,), 'f64'), a)
        tvjp("irfft", lambda t: torch.fft.irfft(t, n=n, norm=norm), rnd((2, n // 2 + 1), 'c128'),
             {"n": n, "axis": -1, "norm": norm})
    a = {"axes": None, "s": None, "norm": norm}
    tvjp("fftn", lambda t: torch.fft.fftn(t, norm=norm), rnd((3, 4), 'c128'), a)
    tvjp("rfftn", lambda t: torch.fft.rfftn(t, norm=norm), rnd((3, 5), 'f64'), a)
    tvjp("irfftn", lambda t: torch.fft.irfftn(t, s=(3, 6), norm=norm), rnd((3, 4), 'c128'),
         {"axes": None, "s": [3, 6], "norm": norm})

out = {"generator": "oracles/gen_fft.py", "numpy": np.__version__, "torch": torch.__version__, "cases": cases}
path = pathlib.Path(__file__).parent / "data" / "fft.json"
path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{path}: {len(cases)} cases")
