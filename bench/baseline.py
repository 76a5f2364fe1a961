#!/usr/bin/python3
"""NumPy and PyTorch baselines for the core suite (cases as bench_core.c).

    OPENBLAS_NUM_THREADS=N OMP_NUM_THREADS=N baseline.py --threads N [--large-only] [--filter S]

Prints one JSON object per measurement on stdout (DESIGN.md section 9) and
progress on stderr. NumPy's BLAS reads its thread count from the environment
when it is loaded, so run.sh starts one process per thread count with
OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set; torch.set_num_threads(N) sets
PyTorch's own loops. Timing follows bench_core.c: warm-up for WARMUP_S, a
batch of calls per sample so a sample lasts at least MIN_SAMPLE_S, samples
until TARGET_S and at least MIN_SAMPLES, median per call. Every timed call
builds and drops its result, as `r = a + b` in a loop does.
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
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--large-only", action="store_true")
    ap.add_argument("--filter", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"baseline: numpy {np.__version__}, torch {torch.__version__}, "
          f"torch threads {torch.get_num_threads()}", file=sys.stderr)
    for name, large, make in CASES:
        if (args.large_only and not large) or (args.filter and args.filter not in name):
            continue
        for lib in ("numpy", "torch"):
            fn = make(lib)
            median, n = measure(fn)
            del fn
            rec = {"suite": "core", "case": name, "impl": lib,
                   "threads": args.threads, "median_ns": round(median * 1e9, 1)}
            print(json.dumps(rec), flush=True)
            print(f"  {name:<26} {lib:<8} {args.threads}T  {median * 1e9:14.1f} ns  ({n} samples)",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
