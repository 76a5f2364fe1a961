#!/usr/bin/python3
"""PyTorch baseline of the einsum suite (the real-workload instances of
../shared/bench-data/einsum-instances, DESIGN.md section 6), and the data
bench_einsum.c reads.

    OPENBLAS_NUM_THREADS=N OMP_NUM_THREADS=N baseline_einsum.py --threads N --data DIR
        [--instances DIR] [--filter S] [--no-time]

For every instance file (format string, shapes, dtype, stored paths):
- inputs: uniform in [-1, 1), f64, from a fixed seed per instance (crc32 of
  its name); written to DIR/<instance>/in<i>.npy for bench_einsum;
- reference: on the small instances (output under 1e6 elements), the result
  in NumPy f64, contracted pairwise along the stored opt_flops path with
  np.einsum (each step relabelled to letters, so networks with hundreds of
  labels work; numpy.einsum itself takes at most 52), written to
  DIR/<instance>/ref.npy;
- PyTorch: the same pairwise contraction with torch.einsum per step along the
  stored opt_flops path (opt_einsum is not installed here; this is what
  torch.einsum does with it), timed as bench/baseline.py times (warm-up,
  batches, median), printed as DESIGN.md section 9's JSON lines
  {"suite": "einsum", "case": ..., "impl": "torch", ...}.
The stored path's FLOP count in opt_einsum's model goes to stderr.
"""
import argparse
import glob
import json
import math
import os
import sys
import zlib

import numpy as np
import torch

from baseline import measure

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_INSTANCES = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench-data", "einsum-instances"))
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
SMALL_OUT = 1_000_000          # verify when the output has fewer elements


def load_instances(folder, filt):
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as f:
            d = json.load(f)
        if not isinstance(d, dict) or "format_string" not in d:
            continue           # permutation_patterns.json is another suite's
        if filt and filt not in d["name"]:
            continue
        out.append(d)
    return out


def parse(d):
    ins, out = d["format_string"].split("->")
    return [list(t) for t in ins.split(",")], list(out)


def plan(terms, out, path):
    """Per step: (x, y, local einsum string); then the final permutation string or None."""
    cur = [list(t) for t in terms]
    steps = []
    for x, y in path:
        x, y = sorted((x, y))
        rest = set(out)
        for j, t in enumerate(cur):
            if j not in (x, y):
                rest.update(t)
        res = [l for l in dict.fromkeys(cur[x] + cur[y]) if l in rest]
        local = {l: LETTERS[k] for k, l in enumerate(dict.fromkeys(cur[x] + cur[y]))}
        sub = "".join(local[l] for l in cur[x]) + "," + "".join(local[l] for l in cur[y]) + "->" + \
            "".join(local[l] for l in res)
        steps.append((x, y, sub))
        cur = [t for j, t in enumerate(cur) if j not in (x, y)] + [res]
    last = cur[0]
    final = None
    if last != out:
        local = {l: LETTERS[k] for k, l in enumerate(last)}
        final = "".join(local[l] for l in last) + "->" + "".join(local[l] for l in out)
    return steps, final


def contract(einsum, ops, steps, final):
    ops = list(ops)
    for x, y, sub in steps:
        r = einsum(sub, ops[x], ops[y])
        del ops[y], ops[x]
        ops.append(r)
    return einsum(final, ops[0]) if final else ops[0]


def flops(terms, out, shapes, path):
    """opt_einsum's cost model: per step the product of every label's size, x2 if a label is summed."""
    size = {}
    for t, s in zip(terms, shapes):
        size.update(zip(t, s))
    cur = [set(t) for t in terms]
    total, largest = 0, 0
    for x, y in path:
        x, y = sorted((x, y))
        keep = set(out)
        for j, t in enumerate(cur):
            if j not in (x, y):
                keep |= t
        u = cur[x] | cur[y]
        total += math.prod(size[l] for l in u) * (2 if u - keep else 1)
        res = u & keep
        largest = max(largest, math.prod(size[l] for l in res))
        cur = [t for j, t in enumerate(cur) if j not in (x, y)] + [res]
    return total, largest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", required=True, help="folder for inputs and references (bench_einsum reads it)")
    ap.add_argument("--instances", default=DEFAULT_INSTANCES)
    ap.add_argument("--filter")
    ap.add_argument("--no-time", action="store_true", help="only write the data")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for d in load_instances(a.instances, a.filter):
        name = d["name"]
        terms, out = parse(d)
        if d.get("dtype", "float64") != "float64":
            print(f"{name}: dtype {d['dtype']} not handled, skipped", file=sys.stderr)
            continue
        path = d["paths"]["opt_flops"]["path"]
        f, lg = flops(terms, out, d["shapes"], path)
        print(f"{name}: stored opt_flops path 10^{math.log10(f):.4f} FLOPs (opt_einsum model; file says "
              f"10^{d['paths']['opt_flops']['log10_flops']}), largest intermediate 2^{math.log2(lg):.2f}",
              file=sys.stderr)
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        arrays = [rng.uniform(-1.0, 1.0, size=s) for s in d["shapes"]]
        folder = os.path.join(a.data, name)
        os.makedirs(folder, exist_ok=True)
        steps, final = plan(terms, out, path)
        # The data of an unchanged instance file is kept (the references of
        # the large networks take minutes in NumPy).
        stamp = os.path.join(folder, "stamp")
        key = f"{zlib.crc32(json.dumps(d, sort_keys=True).encode())} {len(arrays)}"
        fresh = not (os.path.exists(stamp) and open(stamp).read() == key)
        if fresh:
            for i, x in enumerate(arrays):
                np.save(os.path.join(folder, f"in{i}.npy"), x)
        size = {}
        for t, s in zip(terms, d["shapes"]):
            size.update(zip(t, s))
        out_size = math.prod(size[l] for l in out)
        ref_path = os.path.join(folder, "ref.npy")
        if fresh and out_size < SMALL_OUT:
            ref = contract(lambda s, *o: np.einsum(s, *o, optimize=True), arrays, steps, final)
            np.save(ref_path, np.ascontiguousarray(ref))
        elif fresh and os.path.exists(ref_path):
            os.remove(ref_path)
        if fresh:
            with open(stamp, "w") as f:
                f.write(key)
        if a.no_time:
            continue
        tops = [torch.from_numpy(x) for x in arrays]
        fn = lambda: contract(torch.einsum, tops, steps, final)
        med, n = measure(fn)
        print(json.dumps({"suite": "einsum", "case": name, "impl": "torch", "threads": a.threads,
                          "median_ns": med * 1e9}), flush=True)
        print(f"  torch {med * 1e3:.3f} ms ({n} samples)", file=sys.stderr)


if __name__ == "__main__":
    main()
