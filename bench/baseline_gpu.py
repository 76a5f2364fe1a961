#!/usr/bin/env python3
"""PyTorch CUDA baseline of the gpu suite (cases as bench_gpu.c).

    baseline_gpu.py [--quick] [--filter S]

Prints one JSON object per measurement on stdout, bench_gpu.c's format with
impl "torch-cuda" (and "torch-cuda-graph" for the CUDA-graph replay):
  {"suite": "gpu", "case": "sgemm_f32_4096", "impl": "torch-cuda", "threads": 1,
   "median_ns": ..., "device": "NVIDIA H100 ...", "flop": ...}
and progress on stderr. Cases (--quick: 2^20 elements, 256 x 256 matrices):
  sgemm_f32_N           a @ b, f32, TF32 off (N = 1024, 2048, 4096, 8192)
  gemm_f16_N            a @ b, f16 (cuBLAS tensor cores), N = 4096, 8192: for
                        information, Tangent has no f16 GEMM yet
  add_f32_2^28          a + b;  add_inplace_f32_2^28: a.add_(b)
  sum_f32_2^28          a.sum()
  copy_f32_2^28         y.copy_(x): the bandwidth reference of the targets
  tiny_add_f32_1        a + b on 1 element, result not read: per op, 10000 ops
                        then one torch.cuda.synchronize()
  roundtrip_add_f32_1   (a + b).item()
  node_add_f32_1        a chain of 100 dependent 1-element adds, per node:
                        eager ("torch-cuda") and replayed as a captured CUDA
                        graph ("torch-cuda-graph")
Timing as bench_gpu.c: every sample is a batch of calls followed by
torch.cuda.synchronize(), timed with time.perf_counter; warm-up for 50 ms
(at least 2 calls, each synchronised); the batch makes a sample last at least
10 ms (tiny op: 10000 calls, round trip: 1000); samples until 0.5 s and at
least 5; the median per call. Without CUDA it says so on stderr and exits
with status 1, measuring nothing.
"""
import argparse
import json
import math
import statistics
import sys
import time

WARMUP_S = 50e-3
MIN_SAMPLE_S = 10e-3
TARGET_S = 0.5
MIN_SAMPLES = 5
MAX_SAMPLES = 1000
TINY_OPS = 10000
ROUNDTRIPS = 1000
CHAIN = 100


def measure(fn, sync, fixed_batch=0, target=TARGET_S):
    """Median seconds per call of fn(), each sample closed by sync(); and the sample count."""
    clock = time.perf_counter
    sync()
    fastest, warm, calls = math.inf, 0.0, 0
    while warm < WARMUP_S or calls < 2:
        t0 = clock()
        fn()
        sync()
        t = clock() - t0
        warm += t
        calls += 1
        fastest = min(fastest, t)
    batch = fixed_batch or (1 if fastest >= MIN_SAMPLE_S else math.ceil(MIN_SAMPLE_S / max(fastest, 1e-9)))
    loop = range(batch)
    samples, spent = [], 0.0
    while len(samples) < MAX_SAMPLES and (len(samples) < MIN_SAMPLES or spent < target):
        t0 = clock()
        for _ in loop:
            fn()
        sync()
        s = clock() - t0
        spent += s
        samples.append(s / batch)
    return statistics.median(samples), len(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (2^20 elements, 256 matrices)")
    ap.add_argument("--filter", default=None, help="only cases whose name contains this")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("baseline_gpu.py: PyTorch is not installed for this python3; nothing measured", file=sys.stderr)
        sys.exit(1)
    if not torch.cuda.is_available():
        print(f"baseline_gpu.py: no CUDA device (PyTorch {torch.__version__}, CUDA build "
              f"{torch.version.cuda or 'none'}); nothing measured", file=sys.stderr)
        sys.exit(1)

    torch.backends.cuda.matmul.allow_tf32 = False      # true f32 SGEMM, as Tangent's
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda", 0)
    device_name = torch.cuda.get_device_name(0)
    sync = torch.cuda.synchronize
    target = TARGET_S / 5 if args.quick else TARGET_S
    torch.manual_seed(42)
    print(f"baseline_gpu.py: PyTorch {torch.__version__} (CUDA {torch.version.cuda}) on {device_name}"
          f"{' (--quick sizes)' if args.quick else ''}", file=sys.stderr)

    def selected(name):
        return args.filter is None or args.filter in name

    def emit(name, impl, sec, n, work=None, amount=0):
        rec = {"suite": "gpu", "case": name, "impl": impl, "threads": 1, "median_ns": round(sec * 1e9, 1),
               "device": device_name}
        rate = ""
        if work:
            rec[work] = amount
            rate = f"{amount / sec * 1e-12:9.3f} TFLOP/s" if work == "flop" else f"{amount / sec * 1e-9:9.1f} GB/s"
        print(json.dumps(rec), flush=True)
        print(f"  {name:<22} {impl:<16} {sec * 1e9:14.1f} ns  {rate}  ({n} samples)", file=sys.stderr)

    def uniform(*shape, dtype=torch.float32):
        """[0.5, 1.5), as bench_gpu.c."""
        return (torch.rand(*shape, device=dev) + 0.5).to(dtype)

    def run(name, impl, fn, work=None, amount=0, fixed_batch=0, per=1):
        sec, n = measure(fn, sync, fixed_batch, target)
        emit(name, impl, sec / per, n, work, amount)

    # GEMM
    gemm = (256,) if args.quick else (1024, 2048, 4096, 8192)
    for n in gemm:
        name = f"sgemm_f32_{n}"
        if selected(name):
            a, b = uniform(n, n), uniform(n, n)
            run(name, "torch-cuda", lambda: a @ b, "flop", 2 * n ** 3)
            del a, b
    for n in (256,) if args.quick else (4096, 8192):
        name = f"gemm_f16_{n}"
        if selected(name):
            a, b = uniform(n, n, dtype=torch.float16), uniform(n, n, dtype=torch.float16)
            run(name, "torch-cuda", lambda: a @ b, "flop", 2 * n ** 3)
            del a, b
    torch.cuda.empty_cache()

    # bandwidth: one case at a time, freed before the next (2^28 f32 is 1 GiB)
    big = 1 << 20 if args.quick else 1 << 28
    pw = "2^20" if args.quick else "2^28"
    cases = (("add", 12, lambda x, y: lambda: x + y),
             ("add_inplace", 12, lambda x, y: lambda: x.add_(y)),
             ("sum", 4, lambda x, y: lambda: x.sum()),
             ("copy", 8, lambda x, y: lambda: y.copy_(x)))
    for op, bytes_per, make in cases:
        name = f"{op}_f32_{pw}"
        if selected(name):
            x = uniform(big)
            y = {"add": uniform, "add_inplace": uniform, "copy": lambda k: torch.zeros(k, device=dev)}.get(
                op, lambda k: None)(big)
            run(name, "torch-cuda", make(x, y), "bytes", bytes_per * big)
            del x, y
            torch.cuda.empty_cache()

    # latency
    a = torch.full((1,), 1.25, device=dev)
    b = torch.full((1,), 2.5, device=dev)
    if selected("tiny_add_f32_1"):
        run("tiny_add_f32_1", "torch-cuda", lambda: a + b, fixed_batch=TINY_OPS)
    if selected("roundtrip_add_f32_1"):
        run("roundtrip_add_f32_1", "torch-cuda", lambda: (a + b).item(), fixed_batch=ROUNDTRIPS)
    if selected("node_add_f32_1"):
        def chain(h, c):
            for _ in range(CHAIN):
                h = h + c
            return h
        x, c = torch.full((1,), 0.5, device=dev), torch.full((1,), 0.25, device=dev)
        run("node_add_f32_1", "torch-cuda", lambda: chain(x, c), per=CHAIN)
        try:
            # the PyTorch analogue of a compiled program: 100 kernels captured once, replayed
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                chain(x, c)                       # warm-up on a side stream, as the docs ask
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                out = chain(x, c)
            g.replay()
            sync()
            if abs(out.item() - (0.5 + CHAIN * 0.25)) > 1e-4:
                raise RuntimeError(f"graph replay gave {out.item()}")
            run("node_add_f32_1", "torch-cuda-graph", g.replay, per=CHAIN)
        except Exception as e:              # noqa: BLE001 - informational case
            print(f"baseline_gpu.py: node_add_f32_1 torch-cuda-graph skipped: {e}", file=sys.stderr)

    # a 20-op elementwise chain (bench_gpu.c case_chain20): eager, and
    # torch.compile's fused kernel where it works (it needs Triton)
    cn = 1 << 20 if args.quick else 1 << 26
    name = f"chain20_f32_{'2^20' if args.quick else '2^26'}"
    if selected(name):
        def chain20(x):
            for _ in range(5):
                x = torch.relu(x * 0.5 + 1.0 - 3.0)
            return x
        x = uniform(cn)
        run(name, "torch-cuda", lambda: chain20(x), "bytes", 8 * cn)
        try:
            compiled = torch.compile(chain20)
            ref = chain20(x)
            if not torch.equal(compiled(x), ref):
                raise RuntimeError("torch.compile's result differs from eager")
            run(name, "torch-compile", lambda: compiled(x), "bytes", 8 * cn)
        except Exception as e:              # noqa: BLE001 - informational case
            print(f"baseline_gpu.py: {name} torch-compile skipped: {e}", file=sys.stderr)
        del x
        torch.cuda.empty_cache()

    # linear + bias + ReLU (bench_gpu.c case_linear): PyTorch eager, which
    # runs the GEMM with the bias in cuBLAS's epilogue, then the ReLU
    for m, k, n in ((250, 3136, 1024), (250, 1024, 10), (4096, 4096, 4096)):
        if args.quick and m == 4096:
            continue
        name = f"linear_relu_f32_{m}x{k}x{n}"
        if selected(name):
            x, w, b = uniform(m, k), uniform(n, k), uniform(n)
            run(name, "torch-cuda", lambda: torch.relu(torch.nn.functional.linear(x, w, b)), "flop", 2 * m * k * n)
            del x, w, b


if __name__ == "__main__":
    main()
