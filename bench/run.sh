#!/usr/bin/env bash
# Benchmarks: builds the bench_* programs (Release, build-bench/),
# runs them and the NumPy/PyTorch baselines (core and autodiff suites) at 1
# thread (all cases) and 2 threads (large cases), writes bench/results.jsonl
# (truncated first) and prints the table. The autodiff pass checks that
# Tangent's MLP gradients equal PyTorch's (baseline.py --check-grads).
#
#   bench/run.sh [--filter SUBSTRING]     (from any directory)
#
# Environment: BENCH_THREADS2 (default 2) sets the thread count of the second
# pass; BENCH_BUILD_DIR (default <repo>/build-bench) the build folder.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
BUILD="${BENCH_BUILD_DIR:-$ROOT/build-bench}"
PY=/usr/bin/python3            # Debian's NumPy and PyTorch live here
T2="${BENCH_THREADS2:-2}"
RESULTS="$BENCH_DIR/results.jsonl"
"$ROOT/scripts/install-deps.sh" --oracles   # NumPy, PyTorch for the baselines

filter=()
if [[ $# -ge 2 && $1 == --filter ]]; then filter=(--filter "$2"); shift 2; fi
if [[ $# -ne 0 ]]; then echo "usage: bench/run.sh [--filter SUBSTRING]" >&2; exit 2; fi

# 1. build (configure once; the build itself is incremental)
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
        -DTANGENT_TESTS=OFF -DTANGENT_EXAMPLES=OFF -DTANGENT_BENCH=ON >/dev/null
fi
cmake --build "$BUILD" -j2 --target bench_core bench_autodiff bench_fft bench_einsum bench_linalg bench_cnn bench_fusion >/dev/null
BIN="$BUILD/bench/bench_core"
BIN_AD="$BUILD/bench/bench_autodiff"
BIN_FFT="$BUILD/bench/bench_fft"
BIN_EIN="$BUILD/bench/bench_einsum"
BIN_LA="$BUILD/bench/bench_linalg"
BIN_CNN="$BUILD/bench/bench_cnn"
EIN_DATA="$BUILD/einsum-data"          # inputs and NumPy references of the einsum instances
GRADS="$BUILD/mlp_grads_tangent.f32"     # Tangent's MLP loss and gradients, for the check

# 2-4. measure; every figure goes to results.jsonl, progress to stderr
: >"$RESULTS"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
pass() {   # threads, extra args...
  local n=$1; shift
  local -a env=(env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n")
  "${env[@]}" "$BIN" --threads "$n" "$@" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  "${env[@]}" "$PY" "$BENCH_DIR/baseline.py" --threads "$n" "$@" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  rm -f "$GRADS"
  "${env[@]}" "$BIN_AD" --threads "$n" "$@" --dump-grads "$GRADS" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  "${env[@]}" "$PY" "$BENCH_DIR/baseline.py" --suite autodiff --threads "$n" "$@" --check-grads "$GRADS" \
    ${filter[@]+"${filter[@]}"} >>"$RESULTS"
}
pass 1
# the FFT suite at 1 and T2 threads (FFTW's threads, and fft/split.c's blocks)
for n in 1 "$T2"; do
  env OMP_NUM_THREADS="$n" "$BIN_FFT" --threads "$n" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  env OMP_NUM_THREADS="$n" "$PY" "$BENCH_DIR/baseline.py" --suite fft --threads "$n" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
done
pass "$T2" --large-only
# the einsum suite (../shared/bench-data/einsum-instances): PyTorch first (it writes the inputs
# and NumPy f64 references bench_einsum reads and checks), then Tangent; 1 and T2 threads
for n in 1 "$T2"; do
  env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" "$PY" "$BENCH_DIR/baseline_einsum.py" --threads "$n" \
    --data "$EIN_DATA" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" "$BIN_EIN" --threads "$n" --data "$EIN_DATA" \
    ${filter[@]+"${filter[@]}"} >>"$RESULTS"
done
# the linalg suite (ANCHORS.md's CPU ops items) at one thread, as the published figures
env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$BIN_LA" --threads 1 ${filter[@]+"${filter[@]}"} >>"$RESULTS"
env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$PY" "$BENCH_DIR/baseline_linalg.py" --threads 1 \
  ${filter[@]+"${filter[@]}"} >>"$RESULTS"
# the CNN suite (examples/fashion_cnn.h) against PyTorch CPU, 1 and T2 threads
for n in 1 "$T2"; do
  env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" "$BIN_CNN" --threads "$n" ${filter[@]+"${filter[@]}"} >>"$RESULTS"
  env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" "$PY" "$BENCH_DIR/baseline_cnn.py" --threads "$n" \
    ${filter[@]+"${filter[@]}"} >>"$RESULTS"
done
# the fusion suite (a compiled 20-op elementwise chain and two dense layers, fused and not), 1 and T2 threads
for n in 1 "$T2"; do
  env OMP_NUM_THREADS="$n" OPENBLAS_NUM_THREADS="$n" "$BUILD/bench/bench_fusion" --threads "$n" \
    ${filter[@]+"${filter[@]}"} >>"$RESULTS"
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# 5. table
echo
echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo
"$PY" "$BENCH_DIR/report.py" "$RESULTS"
