#!/usr/bin/python3
"""NumPy and PyTorch baselines: the core suite (cases as bench_core.c) and the autodiff suite (bench_autodiff.c).

    OPENBLAS_NUM_THREADS=N OMP_NUM_THREADS=N baseline.py --threads N [--suite core|autodiff]
        [--large-only] [--filter S] [--check-grads PATH]

Prints one JSON object per measurement on stdout (DESIGN.md section 9) and
progress on stderr. NumPy's BLAS reads its thread count from the environment
when it is loaded, so run.sh starts one process per thread count with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set; torch.set_num_threads(N) sets
PyTorch's own loops. Timing follows bench_core.c: warm-up for WARMUP_S, a
batch of calls per sample so a sample lasts at least MIN_SAMPLE_S, samples
until TARGET_S and at least MIN_SAMPLES, median per call. Every timed call
builds and drops its result, as `r = a + b` in a loop does.

The autodiff suite runs PyTorch only (NumPy has no autodiff). With
--check-grads PATH (the file bench_autodiff --dump-grads wrote), the MLP
case also compares Tangent's loss and 6 gradients with PyTorch's on the same
data and exits with status 1 if they differ beyond f32 rounding.
"""
import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch

TARGET_S = 0.2
MIN_SAMPLES = 5
MAX_SAMPLES = 20000
MIN_SAMPLE_S = 50e-6
WARMUP_S = 20e-3

N25 = 1 << 25


def measure(fn):
    """Median seconds per call of fn(), and the number of samples."""
    clock = time.perf_counter
    fastest, warm = math.inf, 0.0
    while True:
        t0 = clock()
        fn()
        t = clock() - t0
        warm += t
        fastest = min(fastest, t)
        if warm >= WARMUP_S:
            break
    batch = 1 if fastest >= MIN_SAMPLE_S else math.ceil(MIN_SAMPLE_S / max(fastest, 1e-9))
    loop = range(batch)
    samples, spent = [], 0.0
    while len(samples) < MAX_SAMPLES and (len(samples) < MIN_SAMPLES or spent < TARGET_S):
        t0 = clock()
        for _ in loop:
            fn()
        s = clock() - t0
        spent += s
        samples.append(s / batch)
    return statistics.median(samples), len(samples)


# ---- cases: (name, large, make) where make(lib) returns the timed callable ----
def uniform(lib, shape, dtype):
    """Inputs in [0.5, 1.5), as bench_core.c."""
    rng = np.random.default_rng(42)
    a = (rng.random(shape, dtype=np.float64) + 0.5).astype(dtype)
    return a if lib == "numpy" else torch.from_numpy(a)


def unary(op, shape, dtype=np.float32):
    def make(lib):
        a = uniform(lib, shape, dtype)
        f = getattr(np if lib == "numpy" else torch, op)
        return lambda: f(a)
    return make


def binary(op, shape, dtype=np.float32):
    def make(lib):
        a, b = uniform(lib, shape, dtype), uniform(lib, shape, dtype)
        if op == "add":
            return lambda: a + b
        return lambda: a * b
    return make


def reduce_sum(shape, axis):
    def make(lib):
        a = uniform(lib, shape, np.float32)
        if axis is None:
            return lambda: a.sum()
        return lambda: a.sum(axis)
    return make


def matmul(n, dtype, trans_a=False):
    def make(lib):
        a, b = uniform(lib, (n, n), dtype), uniform(lib, (n, n), dtype)
        if trans_a:
            at = a.T  # a view: BLAS reads it transposed
            return lambda: at @ b
        return lambda: a @ b
    return make


def transpose(shape, dtype):
    def make(lib):
        a = uniform(lib, shape, dtype)
        if lib == "numpy":
            return lambda: np.ascontiguousarray(a.T)
        return lambda: a.T.contiguous()
    return make


CASES = [
    ("add_f32_1", False, binary("add", (1,))),
    ("exp_f32_1", False, unary("exp", (1,))),
    ("add_f32_2^25", True, binary("add", (N25,))),
    ("mul_f32_2^25", True, binary("mul", (N25,))),
    ("exp_f32_2^25", True, unary("exp", (N25,))),
    ("sum_f32_2^25", True, reduce_sum((N25,), None)),
    ("sum_axis0_f32_4096x8192", True, reduce_sum((4096, 8192), 0)),
    ("sum_axis1_f32_4096x8192", True, reduce_sum((4096, 8192), 1)),
    ("matmul_f32_256", True, matmul(256, np.float32)),
    ("matmul_f32_1024", True, matmul(1024, np.float32)),
    ("matmul_f32_2048", True, matmul(2048, np.float32)),
    ("matmul_f64_256", True, matmul(256, np.float64)),
    ("matmul_f64_1024", True, matmul(1024, np.float64)),
    ("matmul_f64_2048", True, matmul(2048, np.float64)),
    ("matmul_tn_f32_1024", True, matmul(1024, np.float32, trans_a=True)),
    ("transpose_f32_4096x8192", True, transpose((4096, 8192), np.float32)),
    ("transpose_f64_4096x4096", True, transpose((4096, 4096), np.float64)),
]


# ---- fft suite (bench_fft.c) ------------------------------------------------
def fft_case(shape, real):
    def make(lib):
        rng = np.random.default_rng(1)
        x = rng.standard_normal(shape) if real else rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        if lib == "numpy":
            return (lambda: np.fft.rfft(x)) if real else (lambda: np.fft.fftn(x))
        t = torch.from_numpy(x)
        return (lambda: torch.fft.rfft(t)) if real else (lambda: torch.fft.fftn(t))
    return make


FFT_CASES = [
    ("fft_c128_2^10", fft_case((1 << 10,), False)), ("fft_c128_2^16", fft_case((1 << 16,), False)),
    ("fft_c128_2^20", fft_case((1 << 20,), False)), ("fft_c128_2^22", fft_case((1 << 22,), False)),
    ("rfft_f64_2^16", fft_case((1 << 16,), True)), ("rfft_f64_2^20", fft_case((1 << 20,), True)),
    ("fft2_c128_1024x1024", fft_case((1024, 1024), False)), ("fftn_c128_128^3", fft_case((128, 128, 128), False)),
    ("fft_c128_10007", fft_case((10007,), False)),
]


# ---- autodiff suite (bench_autodiff.c): PyTorch only -----------------------
def bench_values(salt, shape, scale):
    """bench_autodiff.c's bench_value: a 32-bit integer hash of the flat index
    mapped to [-scale, scale) in f64, rounded to f32 once; bit-identical to C."""
    n = math.prod(shape)
    m = np.uint64(0xFFFFFFFF)
    h = (np.arange(n, dtype=np.uint64) + np.uint64(salt << 24)) * np.uint64(2654435761) & m
    h ^= h >> np.uint64(16)
    h = h * np.uint64(0x45D9F3B) & m
    h ^= h >> np.uint64(16)
    u = h.astype(np.float64) / 4294967296.0
    return torch.from_numpy(((2.0 * u - 1.0) * scale).astype(np.float32).reshape(shape))


def leaf(salt, shape, scale=1.0):
    return bench_values(salt, shape, scale).requires_grad_(True)


def tape_add():
    a = leaf(5, (1,))
    return lambda: a + a


def fwd_bwd_xx_sum():
    x = leaf(6, (4,))

    def step():
        loss = (x * x).sum()
        loss.backward()
        x.grad = None
    return step


MLP_BATCH, MLP_WIDTH = 128, (784, 256, 256, 10)


def mlp_data():
    """x, y and [W1, b1, W2, b2, W3, b3] as bench_autodiff.c's mlp_init (W is in x out)."""
    x = bench_values(1, (MLP_BATCH, MLP_WIDTH[0]), 1.0)
    y = bench_values(2, (MLP_BATCH, MLP_WIDTH[-1]), 1.0)
    params = []
    for l in range(len(MLP_WIDTH) - 1):
        bound = 1.0 / math.sqrt(MLP_WIDTH[l])
        params.append(leaf(3 + 2 * l, (MLP_WIDTH[l], MLP_WIDTH[l + 1]), bound))
        params.append(leaf(4 + 2 * l, (MLP_WIDTH[l + 1],), bound))
    return x, y, params


def mlp_step_fn(x, y, params):
    """zero the gradients (set to None, as zero_grad()), forward, backward; returns the loss."""
    n_layers = len(params) // 2

    def step():
        for p in params:
            p.grad = None
        h = x
        for l in range(n_layers):
            h = h @ params[2 * l] + params[2 * l + 1]
            if l + 1 < n_layers:
                h = torch.relu(h)
        loss = ((h - y) ** 2).mean()
        loss.backward()
        return loss
    return step


def mlp_step():
    return mlp_step_fn(*mlp_data())


def check_mlp_grads(path):
    """Compares the loss and gradients bench_autodiff wrote with PyTorch's for the same data.
    Per tensor: max |T - torch| / max |torch| <= 1e-4 (f32, different summation orders)."""
    x, y, params = mlp_data()
    loss = mlp_step_fn(x, y, params)()
    ref = [loss.detach().reshape(1)] + [p.grad for p in params]
    got = np.fromfile(path, dtype="<f4")
    sizes = [r.numel() for r in ref]
    if got.size != sum(sizes):
        sys.exit(f"baseline: {path}: {got.size} floats, expected {sum(sizes)}")
    names = ["loss", "dW1", "db1", "dW2", "db2", "dW3", "db3"]
    worst, off, lines = 0.0, 0, []
    for name, r, n in zip(names, ref, sizes):
        r = r.numpy().ravel().astype(np.float64)
        t = got[off:off + n].astype(np.float64)
        off += n
        err = np.max(np.abs(t - r)) / max(np.max(np.abs(r)), 1e-30)
        worst = max(worst, err)
        lines.append(f"{name} {err:.2g}")
    print(f"  mlp check: loss tangent {got[0]:.7g} torch {loss.item():.7g}; "
          f"grad-norm dW1 tangent {np.linalg.norm(got[1:1 + sizes[1]]):.7g} "
          f"torch {params[0].grad.norm().item():.7g}; max rel diff " + ", ".join(lines), file=sys.stderr)
    if not worst <= 1e-4:
        sys.exit(f"baseline: mlp_step_f32_b128: Tangent's and PyTorch's gradients differ (rel {worst:.3g})")


# (name, large, make): make() returns the timed callable
AUTODIFF_CASES = [
    ("tape_add_f32_1", False, tape_add),
    ("fwd_bwd_xx_sum_f32_4", False, fwd_bwd_xx_sum),
    ("mlp_step_f32_b128", True, mlp_step),
]


def emit(suite, name, lib, threads, median, n):
    rec = {"suite": suite, "case": name, "impl": lib, "threads": threads, "median_ns": round(median * 1e9, 1)}
    print(json.dumps(rec), flush=True)
    print(f"  {name:<26} {lib:<8} {threads}T  {median * 1e9:14.1f} ns  ({n} samples)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--suite", choices=("core", "autodiff", "fft"), default="core")
    ap.add_argument("--large-only", action="store_true")
    ap.add_argument("--filter", default=None)
    ap.add_argument("--check-grads", default=None, metavar="PATH")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"baseline: numpy {np.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}, suite {args.suite}", file=sys.stderr)

    def selected(name, large):
        return not (args.large_only and not large) and not (args.filter and args.filter not in name)

    if args.suite == "fft":
        for name, make in FFT_CASES:
            if args.filter and args.filter not in name:
                continue
            for lib in ("numpy", "torch"):
                fn = make(lib)
                median, n = measure(fn)
                del fn
                emit("fft", name, lib, args.threads, median, n)
        return
    if args.suite == "core":
        for name, large, make in CASES:
            if not selected(name, large):
                continue
            for lib in ("numpy", "torch"):
                fn = make(lib)
                median, n = measure(fn)
                del fn
                emit("core", name, lib, args.threads, median, n)
        return
    for name, large, make in AUTODIFF_CASES:
        if not selected(name, large):
            continue
        fn = make()
        median, n = measure(fn)
        del fn
        emit("autodiff", name, "torch", args.threads, median, n)
        if name.startswith("mlp") and args.check_grads:
            check_mlp_grads(args.check_grads)

if __name__ == "__main__":
    main()
