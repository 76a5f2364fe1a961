#!/usr/bin/python3
"""Markdown table of bench/results.jsonl with the target ratios.

    report.py [results.jsonl]

Each case has one ratio that matters (DESIGN.md section 9 and the issue's
targets), computed from medians measured in the same run:
  tiny ops (1 element)           tangent / torch  <= 0.1   (10x cheaper than PyTorch CPU)
  large elementwise, reductions  tangent / numpy  <= 1.0   (at least as fast as NumPy)
  matmul                         tangent / cblas  <= 1.03  (within 3% of the direct call)
  autodiff, tiny (tape, 4-elem)  tangent / torch  <= 0.1   (10x cheaper than PyTorch's autograd)
  autodiff, MLP step             tangent / torch  <= 1.0   (as fast as PyTorch, same threads)
  compiled MLP step              tangent-traced / torch and / tangent <= 1/1.3 (1.3x faster than both)
  compiled replay, per node      tangent-traced <= 50 ns (absolute)
  linalg, one LAPACK call >= 64  tangent / lapacke <= 1.05 (within 5% of the direct LAPACKE call)
  linalg, small and batched      tangent / torch <= the best published ratio (tenferro-rs or JAX to
                                 PyTorch, anchors_linalg.py); batched ones also <= 1/3
  linalg, gradients at 256, 512  tangent / torch <= min(1.0, best published ratio)
  linalg, gradients (all sizes)  tangent-traced / torch, the same target as eager (the compiled
                                 value-and-grad or JVP program)
  cnn, train step and inference  tangent-traced / torch <= 1.0 (faster than PyTorch CPU),
                                 tangent / torch <= 1.0 (eager no slower); peak memory reported
  fusion, 20-op chain 2^24 f32   tangent-traced (fused) / copy <= 1.2 (the issue's goal, stated for
                                 the GPU; on the CPU measured against a copy of the same bytes),
                                 tangent-traced / tangent-unfused reported
  fusion, dense layers           tangent-traced / tangent-unfused <= 1.0 (the matmul epilogue group)
  einsum, real instances         tangent / torch (stored opt_flops path) and tangent-ownpath / torch
                                 (Tangent's own path) <= the best published ratio (tenferro-rs or JAX
                                 to PyTorch, anchors_einsum.py); an instance with a cblas record
                                 (its path is all GEMMs, at least 10 MFLOP: bench_einsum.c) is
                                 BLAS-bound, and ANCHORS.md makes the direct calls its goal instead:
                                 tangent / cblas and tangent-ownpath / cblas <= 1.05
  gpu (bench_gpu, baseline_gpu.py; its own table, rates from the records' flop/bytes):
    sgemm f32 4096, 8192         tangent TFLOP/s >= 0.80 x torch-cuda's (TF32 off)
    add, sum on 2^28 f32         tangent GB/s >= 0.85 x torch-cuda's copy_ GB/s (same size)
    f16 GEMM 4096, 8192          tangent TFLOP/s >= 0.35 x torch-cuda's (cuBLAS tensor cores)
    tiny op (1-element add)      tangent < torch-cuda per op
    other rows (sgemm 1024, 2048, copy, round trip, replay per node): information
If a case appears more than once (repeated runs appended), the median of its
figures is used. Exit status 0 even when a target fails: the table is the result.
"""
import json
import os
import re
import statistics
import sys
from collections import defaultdict

from anchors_einsum import PUBLISHED_EINSUM
from anchors_linalg import PUBLISHED

IMPLS = ("tangent", "tangent-traced", "numpy", "torch", "cblas", "fftw", "lapacke", "tangent-unfused", "copy")


SUITES = ("core", "autodiff", "fft", "linalg", "cnn", "einsum", "fusion")
EXTRA_IMPLS = ("tangent-ownpath",)   # in ratios only, no column of their own


def checks(suite, case, has=frozenset()):
    """[(impl, reference impl or None for an absolute limit in ns, limit)] for a case; has: the impls
    with records for it."""
    if suite == "linalg":
        return linalg_checks(case)
    if suite == "einsum":
        if "cblas" in has:   # BLAS-bound (ANCHORS.md): the direct calls' time
            return [("tangent", "cblas", 1.05), ("tangent-ownpath", "cblas", 1.05)]
        limit = PUBLISHED_EINSUM.get(case, (None,) * 5)[4] or 1.0
        return [("tangent", "torch", limit), ("tangent-ownpath", "torch", limit)]
    if suite == "cnn":
        return [] if case.endswith("_rss") else [("tangent-traced", "torch", 1.0), ("tangent", "torch", 1.0)]
    if suite == "fusion":
        if case.startswith("linear"):   # a matmul epilogue group: the fused program no slower
            return [("tangent-traced", "tangent-unfused", 1.0)]
        return [("tangent-traced", "copy", 1.2), ("tangent-traced", "tangent-unfused", 1.0)]
    if suite == "fft":
        return [("tangent", "fftw", 1.05), ("tangent", "numpy", 1.0), ("tangent", "torch", 1.0)]
    if suite == "autodiff":
        if case.startswith("mlp"):
            return [("tangent", "torch", 1.0), ("tangent-traced", "torch", 1 / 1.3),
                    ("tangent-traced", "tangent", 1 / 1.3)]
        if case.startswith("node_"):
            return [("tangent-traced", None, 50.0)]
        return [("tangent", "torch", 0.1)]
    if case.endswith("_1"):
        return [("tangent", "torch", 0.1)]
    if case.startswith("matmul"):
        return [("tangent", "cblas", 1.03)]
    return [("tangent", "numpy", 1.0)]


def linalg_checks(case):
    """Targets of one linalg case (the module docstring)."""
    size = int(re.search(r"_(\d+)(?:x\d+_b\d+|_rhs\d+)?$", case).group(1))
    batched = "batched" in case
    limit = PUBLISHED.get(case, (None,) * 5)[4]
    if case.startswith("grad"):
        if size >= 256:
            limit = min(limit or 1.0, 1.0)
        return [("tangent", "torch", limit or 1.0), ("tangent-traced", "torch", limit or 1.0)]
    if not batched and size >= 64:
        return [("tangent", "lapacke", 1.05)]
    if batched:
        limit = min(limit or 1 / 3, 1 / 3)
    return [("tangent", "torch", limit or 1.0)]


# ---- gpu suite -------------------------------------------------------------
GPU_IMPLS = ("tangent", "tangent-traced", "torch-cuda", "torch-cuda-graph")


def gpu_records(path):
    """{case: {impl: [median_ns]}}, {case: (work kind, amount)}, {impl: device} of the gpu records, in order."""
    figures, work, devices = {}, {}, {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("suite") != "gpu":
                continue
            figures.setdefault(r["case"], {}).setdefault(r["impl"], []).append(float(r["median_ns"]))
            for kind in ("flop", "bytes"):
                if kind in r:
                    work[r["case"]] = (kind, float(r[kind]))
            if r.get("device"):
                devices.setdefault(r["impl"], r["device"])
    return figures, work, devices


def gpu_checks(case):
    """[(label, how, limit)] for a gpu case; how is "rate" (tangent's rate over the reference case's
    torch-cuda rate, >= limit), "time" (tangent's time over torch-cuda's, < limit) or "info"
    (the ratio of rates, or of times for rows without work, no target); the reference case is the case
    itself except for add/sum (copy of the same size)."""
    m = re.match(r"(sgemm_f32|gemm_f16|add_inplace|add|sum|copy)_(?:f32_)?(.+)$", case)
    if m and m.group(1) == "sgemm_f32":
        return [(case, "rate", 0.80 if int(m.group(2)) >= 4096 else None)]
    if m and m.group(1) == "gemm_f16":
        return [(case, "rate", 0.35)]
    if m and m.group(1) in ("add", "sum"):
        return [("copy_f32_" + m.group(2), "rate", 0.85)]
    if case == "tiny_add_f32_1":
        return [(case, "time", 1.0)]
    return [(case, "info", None)]


def gpu_table(figures, work, devices):
    """Prints the gpu table; returns (passes, failures)."""
    print("Devices: " + "; ".join(f"{i}: {d}" for i, d in devices.items()))
    print()
    print("| case | Tangent | Tangent traced | PyTorch CUDA | PyTorch CUDA graph | Tangent rate | PyTorch rate "
          "| ratio | target | result |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")

    def med(case, impl):
        v = figures.get(case, {}).get(impl)
        return statistics.median(v) if v else None

    def rate(case, impl):
        t = med(case, impl)
        if t is None or case not in work:
            return None
        kind, amount = work[case]
        return amount / t * (1e-3 if kind == "flop" else 1.0)   # TFLOP/s or GB/s (bytes per ns)

    def rate_txt(case, impl):
        r = rate(case, impl)
        if r is None:
            return "-"
        text = f"{r:.0f}" if r >= 100 else f"{r:.3g}"
        return f"{text} TFLOP/s" if work[case][0] == "flop" else f"{text} GB/s"

    n_pass = n_fail = 0
    for case in figures:
        ref, how, limit = gpu_checks(case)[0]
        ratio = target = result = "-"
        if how == "rate":
            t, r = rate(case, "tangent"), rate(ref, "torch-cuda")
            target = f">= {limit:g}" if limit else "-"
            if t is not None and r:
                what = "T/torch" if ref == case else "T/torch copy"
                ratio = f"{t / r:.3f} ({what})"
                if limit:
                    ok = t / r >= limit
                    result = "PASS" if ok else "FAIL"
                    n_pass += ok
                    n_fail += not ok
                else:
                    result = "info"
            elif limit:
                result = "MISSING"
        else:
            t, r = med(case, "tangent"), med(case, "torch-cuda")
            use_rate = case in work
            if use_rate:
                t, r = rate(case, "tangent"), rate(case, "torch-cuda")
            if how == "time":
                target = f"< {limit:g}"
            if t is not None and r:
                ratio = f"{t / r:.3f} ({'T/torch rate' if use_rate else 'T/torch time'})"
                if how == "time":
                    ok = t / r < limit
                    result = "PASS" if ok else "FAIL"
                    n_pass += ok
                    n_fail += not ok
                else:
                    result = "info"
            elif how == "time":
                result = "MISSING"
            else:
                result = "info"
        cells = [human(med(case, i)) for i in GPU_IMPLS] + [rate_txt(case, "tangent"), rate_txt(case, "torch-cuda")]
        print(f"| {case} | " + " | ".join(cells) + f" | {ratio} | {target} | {result} |")
    return n_pass, n_fail


def human(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results.jsonl")
    figures = defaultdict(list)          # (suite, case, threads, impl) -> [median_ns]
    order = []                           # (suite, case, threads) in first-seen order
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("suite") not in SUITES:
                continue
            key = (r["suite"], r["case"], r["threads"])
            if key not in order:
                order.append(key)
            figures[key + (r["impl"],)].append(float(r["median_ns"]))
    gpu = gpu_records(path)
    if gpu[0] and not order:        # a gpu-only file (bench/gpu-run.sh): its own table only
        n_pass, n_fail = gpu_table(*gpu)
        print(f"\n{n_pass} PASS, {n_fail} FAIL (ratios of medians from {os.path.basename(path)})")
        return
    # suites in SUITES order, cases in table order, 1 thread before 2
    cases = list(dict.fromkeys(k[:2] for k in order))
    rows = sorted(order, key=lambda k: (SUITES.index(k[0]), cases.index(k[:2]), k[2]))

    print("| suite | case | threads | Tangent | Tangent traced | NumPy | PyTorch | CBLAS | FFTW | LAPACKE "
          "| Tangent unfused | copy | ratio | target | result |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    n_pass = n_fail = 0
    short = {"tangent": "T", "tangent-traced": "Tc", "torch": "torch", "numpy": "numpy", "cblas": "cblas",
             "fftw": "fftw", "lapacke": "lapacke", "tangent-ownpath": "Town", "tangent-unfused": "Tu",
             "copy": "copy"}
    for suite, case, threads in rows:
        med = {i: statistics.median(figures[(suite, case, threads, i)]) if figures[(suite, case, threads, i)]
               else None for i in IMPLS + EXTRA_IMPLS}
        rtxts, targets, results = [], [], []
        for num, ref, limit in checks(suite, case, {i for i in med if med[i] is not None}):
            if med[num] is None or (ref and not med[ref]):
                rtxts.append(f"- ({short[num]})")
                targets.append(f"<= {limit:.3g}")
                results.append("MISSING")
                continue
            value = med[num] / med[ref] if ref else med[num]
            ok = value <= limit
            n_pass += ok
            n_fail += not ok
            rtxts.append(f"{value:.3f} ({short[num]}/{short[ref]})" if ref else f"{human(value)} ({short[num]})")
            targets.append(f"<= {limit:.3g}" if ref else f"<= {human(limit)}")
            results.append("PASS" if ok else "FAIL")
        cells = [(f"{med[i] / 2**20:.0f} MiB" if med[i] else "-") if case.endswith("_rss") else human(med[i])
                 for i in IMPLS]
        print(f"| {suite} | {case} | {threads} | " + " | ".join(cells) +
              f" | {'; '.join(rtxts)} | {'; '.join(targets)} | {'; '.join(results)} |")
    if gpu[0]:
        print()
        p, f = gpu_table(*gpu)
        n_pass, n_fail = n_pass + p, n_fail + f
    print(f"\n{n_pass} PASS, {n_fail} FAIL (ratios of medians from {os.path.basename(path)})")


if __name__ == "__main__":
    main()
