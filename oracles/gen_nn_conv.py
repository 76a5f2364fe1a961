#!/usr/bin/env python3
"""Writes oracles/data/nn_conv.json: torch.nn.functional.unfold, conv2d,
max_pool2d and avg_pool2d values (PyTorch 1.13, computed in f64 and stored
in the case's dtype) over stride / padding / dilation / groups combinations,
and their VJPs (op "vjp:<name>": the primals, then the output cotangent u;
outputs: torch.autograd.grad of sum(u * f(primals)), i.e. of a weighted sum)
in f32 and f64, a non-contiguous (transposed) input, max-pool ties (the
gradient goes to the first maximum) and the shape errors. Checked by
tests/test_oracle_nn_conv.c. Run with /usr/bin/python3."""
import json, pathlib
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
rng = np.random.default_rng(20261123)
cases = []
DT = {'f32': np.float32, 'f64': np.float64}


def enc(a, view=None):
    a = np.asarray(a)
    name = {np.dtype(v): k for k, v in DT.items()}[a.dtype]
    # f32: the shortest decimal that reads back as the same f32 (keeps the file small)
    conv = (lambda v: float(str(np.float32(v)))) if name == 'f32' else float
    d = {"dtype": name, "shape": list(a.shape), "data": [conv(v) for v in a.reshape(-1)]}
    if view:
        d["view"] = view
    return d


def apply_view(a, view):
    for step in view or []:
        if step[0] == "permute":
            a = np.transpose(a, step[1])
    return a


def rnd(shape, dt):
    # 4 decimals: short in JSON, and still no ties (max-pool ties are made on purpose below)
    return np.round(rng.standard_normal(shape), 4).astype(DT[dt])


def tol(dt, outs):
    scale = max([1.0] + [float(np.max(np.abs(o))) for o in outs if o.size])
    return {"rtol": 1e-5, "atol": 2e-6 * scale} if dt == 'f32' else {"rtol": 1e-12, "atol": 1e-13 * scale}


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def add(name, op, inputs, fn, attrs, dt, views=None):
    """inputs: arrays of dtype dt (bases before their views); fn(*torch f64 tensors) -> list of tensors."""
    views = views or [None] * len(inputs)
    ts = [t64(apply_view(x, v)) for x, v in zip(inputs, views)]
    outs = [o.detach().numpy().astype(DT[dt]) for o in fn(*ts)]
    cases.append({"name": f"{name}/{dt}", "op": op, "attrs": attrs,
                  "inputs": [enc(x, v) for x, v in zip(inputs, views)],
                  "outputs": [enc(o) for o in outs], **tol(dt, outs)})


def add_vjp(name, op, primals, fn, attrs, dt, views=None):
    """op 'vjp:<op>': inputs primals then cotangent u; outputs d sum(u f) / d primals."""
    views = views or [None] * len(primals)
    ts = [t64(apply_view(x, v)).requires_grad_(True) for x, v in zip(primals, views)]
    y = fn(*ts)
    u = rnd(tuple(y.shape), dt)
    grads = torch.autograd.grad((y * t64(u)).sum(), ts)
    outs = [g.numpy().astype(DT[dt]) for g in grads]
    cases.append({"name": f"vjp_{name}/{dt}", "op": "vjp:" + op, "attrs": attrs,
                  "inputs": [enc(x, v) for x, v in zip(primals, views)] + [enc(u)],
                  "outputs": [enc(o) for o in outs], **tol(dt, outs)})


def add_error(name, op, inputs, attrs, err):
    cases.append({"name": name, "op": op, "attrs": attrs, "inputs": [enc(x) for x in inputs], "error": err})


def conv_attrs(stride=1, padding=0, dilation=1, groups=1, exact=False):
    p = lambda v: list(v) if isinstance(v, tuple) else [v, v]
    return {"stride": p(stride), "padding": p(padding), "dilation": p(dilation), "groups": groups, "exact": exact}


def tconv(a):
    return dict(stride=tuple(a["stride"]), padding=tuple(a["padding"]), dilation=tuple(a["dilation"]),
                groups=a["groups"])


def pool_attrs(kernel, stride=None, padding=0, exact=False):
    p = lambda v: list(v) if isinstance(v, tuple) else [v, v]
    return {"kernel": p(kernel), "stride": p(stride if stride is not None else 0), "padding": p(padding),
            "exact": exact}


def tpool(a):
    return dict(kernel_size=tuple(a["kernel"]), stride=tuple(a["stride"]) if a["stride"][0] else None,
                padding=tuple(a["padding"]))


UNFOLD = [  # (x shape, kh, kw, attrs)
    ((1, 3, 5, 6), 3, 3, conv_attrs()),
    ((1, 2, 7, 6), 3, 2, conv_attrs(stride=(2, 1), padding=(1, 2))),
    ((1, 3, 8, 7), 2, 3, conv_attrs(stride=2, padding=1, dilation=(2, 1))),
    ((2, 1, 4, 4), 1, 1, conv_attrs(stride=3)),
]
CONV = [  # (x shape, w shape, bias, attrs)
    ((2, 3, 6, 5), (4, 3, 3, 3), True, conv_attrs()),
    ((2, 3, 7, 7), (2, 3, 3, 2), False, conv_attrs(stride=2, padding=1)),
    ((1, 4, 8, 6), (6, 2, 2, 3), True, conv_attrs(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=2)),
    ((2, 4, 5, 5), (4, 1, 3, 3), True, conv_attrs(padding=1, groups=4)),       # depthwise
    ((2, 1, 9, 9), (3, 1, 5, 5), True, conv_attrs(padding=2, stride=2, exact=True)),
]
POOL = [  # (x shape, attrs)
    ((2, 3, 6, 6), pool_attrs(2)),
    ((2, 2, 7, 5), pool_attrs(3, stride=2, padding=1)),
    ((1, 3, 6, 8), pool_attrs((2, 3), stride=(1, 2), padding=(1, 0))),
    ((2, 2, 5, 5), pool_attrs(3, stride=1)),
]

for dt in DT:
    for k, (xs, kh, kw, a) in enumerate(UNFOLD):
        attrs = dict(a, kh=kh, kw=kw)
        f = lambda x, kh=kh, kw=kw, a=a: [F.unfold(x, (kh, kw), dilation=tuple(a["dilation"]),
                                                   padding=tuple(a["padding"]), stride=tuple(a["stride"]))]
        add(f"unfold_{k}", "unfold", [rnd(xs, dt)], f, attrs, dt)
        add_vjp(f"unfold_{k}", "unfold", [rnd(xs, dt)], lambda x, f=f: f(x)[0], attrs, dt)
    # non-contiguous: x stored as (N, C, W, H), transposed back
    xs = rnd((1, 3, 6, 5), dt)
    add("unfold_transposed", "unfold", [xs], lambda x: [F.unfold(x, (2, 3), padding=1)],
        dict(conv_attrs(padding=1), kh=2, kw=3), dt, views=[[["permute", [0, 1, 3, 2]]]])

    for k, (xs, ws, b, a) in enumerate(CONV):
        ins = [rnd(xs, dt), rnd(ws, dt)] + ([rnd((ws[0],), dt)] if b else [])
        f = lambda *t, a=a: F.conv2d(t[0], t[1], t[2] if len(t) > 2 else None, **tconv(a))
        add(f"conv2d_{k}", "conv2d", ins, lambda *t, f=f: [f(*t)], a, dt)
        add_vjp(f"conv2d_{k}", "conv2d", ins, f, a, dt)
    a = conv_attrs(padding=1)
    ins = [rnd((2, 3, 6, 5), dt), rnd((4, 3, 3, 3), dt), rnd((4,), dt)]
    views = [[["permute", [0, 1, 3, 2]]], [["permute", [1, 0, 2, 3]]], None]
    ins_t = [ins[0], np.ascontiguousarray(np.transpose(ins[1], (1, 0, 2, 3))), ins[2]]
    ins_t[0] = np.ascontiguousarray(np.transpose(ins[0], (0, 1, 3, 2)))
    f = lambda x, w, b: F.conv2d(x, w, b, **tconv(a))
    add("conv2d_noncontig", "conv2d", ins_t, lambda *t: [f(*t)], a, dt, views=views)
    add_vjp("conv2d_noncontig", "conv2d", ins_t, f, a, dt, views=views)

    for k, (xs, a) in enumerate(POOL):
        for op, tf in (("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)):
            f = lambda x, tf=tf, a=a: tf(x, **tpool(a))
            add(f"{op}_{k}", op, [rnd(xs, dt)], lambda x, f=f: [f(x)], a, dt)
            add_vjp(f"{op}_{k}", op, [rnd(xs, dt)], f, a, dt)
    # ties: the gradient goes to the first maximum of each (overlapping) window
    ties = rng.integers(-1, 2, size=(2, 2, 5, 6)).astype(DT[dt])
    a = pool_attrs(3, stride=1, padding=1)
    add_vjp("max_pool2d_ties", "max_pool2d", [ties], lambda x: F.max_pool2d(x, **tpool(a)), a, dt)
    # all-negative input with padding: the padding (-inf) never wins
    neg = (-1 - np.abs(rnd((1, 2, 4, 4), dt))).astype(DT[dt])
    add("max_pool2d_negative_padded", "max_pool2d", [neg], lambda x: [F.max_pool2d(x, **tpool(a))], a, dt)
    add("max_pool2d_transposed", "max_pool2d", [rnd((2, 3, 5, 6), dt)],
        lambda x: [F.max_pool2d(x, 2)], pool_attrs(2), dt, views=[[["permute", [0, 1, 3, 2]]]])
    add("avg_pool2d_transposed", "avg_pool2d", [rnd((2, 3, 5, 6), dt)],
        lambda x: [F.avg_pool2d(x, 2, padding=1)], pool_attrs(2, padding=1), dt, views=[[["permute", [0, 1, 3, 2]]]])

# ---- shape errors ----
x = rnd((2, 3, 8, 8), 'f32')
add_error("conv2d_wrong_channels", "conv2d", [x, rnd((4, 2, 3, 3), 'f32')], conv_attrs(), "TG_ERR_SHAPE")
add_error("conv2d_groups_channels", "conv2d", [x, rnd((4, 3, 3, 3), 'f32')], conv_attrs(groups=3), "TG_ERR_SHAPE")
add_error("conv2d_O_not_divisible", "conv2d", [rnd((2, 4, 8, 8), 'f32'), rnd((3, 2, 3, 3), 'f32')],
          conv_attrs(groups=2), "TG_ERR_SHAPE")
add_error("conv2d_kernel_too_large", "conv2d", [x, rnd((4, 3, 9, 3), 'f32')], conv_attrs(), "TG_ERR_SHAPE")
add_error("conv2d_dilated_too_large", "conv2d", [x, rnd((4, 3, 3, 3), 'f32')], conv_attrs(dilation=4),
          "TG_ERR_SHAPE")
add_error("conv2d_3d_input", "conv2d", [rnd((3, 8, 8), 'f32'), rnd((4, 3, 3, 3), 'f32')], conv_attrs(),
          "TG_ERR_SHAPE")
add_error("conv2d_negative_stride", "conv2d", [x, rnd((4, 3, 3, 3), 'f32')], conv_attrs(stride=-1), "TG_ERR_SHAPE")
add_error("conv2d_negative_padding", "conv2d", [x, rnd((4, 3, 3, 3), 'f32')], conv_attrs(padding=-1),
          "TG_ERR_SHAPE")
add_error("conv2d_exact_stride", "conv2d", [x, rnd((4, 3, 3, 3), 'f32')], conv_attrs(stride=2, exact=True),
          "TG_ERR_SHAPE")
add_error("conv2d_bias_shape", "conv2d", [x, rnd((4, 3, 3, 3), 'f32'), rnd((3,), 'f32')], conv_attrs(),
          "TG_ERR_SHAPE")
add_error("unfold_kernel_too_large", "unfold", [x], dict(conv_attrs(), kh=9, kw=1), "TG_ERR_SHAPE")
add_error("max_pool2d_padding_over_half", "max_pool2d", [x], pool_attrs(2, padding=2), "TG_ERR_SHAPE")
add_error("avg_pool2d_padding_over_half", "avg_pool2d", [x], pool_attrs(3, padding=2), "TG_ERR_SHAPE")
add_error("max_pool2d_exact", "max_pool2d", [rnd((1, 1, 7, 7), 'f32')], pool_attrs(2, exact=True),
          "TG_ERR_SHAPE")
add_error("avg_pool2d_3d", "avg_pool2d", [rnd((3, 8, 8), 'f32')], pool_attrs(2), "TG_ERR_SHAPE")

# ---- the 2x2 stride-2 max pool's one-pass VJP: odd H and W (the last row and
# column are in no window), both float dtypes ----
for dt in DT:
    add_vjp("max_pool2d_2x2_odd", "max_pool2d", [rnd((2, 3, 5, 7), dt)], lambda x: F.max_pool2d(x, 2),
            pool_attrs(2), dt)

out = pathlib.Path(__file__).resolve().parent / "data" / "nn_conv.json"
out.write_text(json.dumps({"generator": "oracles/gen_nn_conv.py", "torch": torch.__version__, "cases": cases},
                          separators=(",", ":")))
print(f"{out}: {len(cases)} cases, {out.stat().st_size} bytes")
