#!/usr/bin/env bash
# The GPU suite on the remote GPU machine (bench/README.md, "GPU suite"): run
# from the repository root after scripts/gpu-bundle.sh filled .devlibs/ and
# .gl/ here and the tree was carried over.
#
#   bench/gpu-run.sh [--quick] [--filter SUBSTRING]    (arguments go to bench_gpu and baseline_gpu.py)
#
# Unpacks the Vulkan loader and GL dispatch packages of .gl/ into / (root),
# points the loader at the NVIDIA driver, then runs nvidia-smi -L,
# .devlibs/bench_gpu and bench/baseline_gpu.py (python3 with PyTorch CUDA),
# writing every JSON line into $OUT/gpu.jsonl, the whole output also into
# $OUT/gpu.log, and the table of bench/report.py (standard library only) at
# the end (also $OUT/gpu-report.md). OUT defaults to build-gpu/out. Each
# program has a time limit (BENCH_GPU_TIMEOUT, default 300 s, and
# BASELINE_GPU_TIMEOUT, default 150 s), so the whole run stays under 8 minutes.
# A program that fails is reported and the run goes on; the status is 1 then.
# VK_DRIVER_FILES set beforehand wins over the NVIDIA ICD search;
# GPU_RUN_NO_INSTALL=1 skips unpacking .gl/ (to try the script elsewhere).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/build-gpu/out}"
mkdir -p "$OUT"
JSONL="$OUT/gpu.jsonl"
: >"$JSONL"
: >"$OUT/gpu.log"
exec > >(tee -a "$OUT/gpu.log") 2>&1
tee_pid=$!
status=0
t0=$SECONDS

echo "== gpu-run: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -m), $(nproc) cores, args: $*"
# the Vulkan loader and libglvnd (the NVIDIA ICD's libGLX_nvidia needs libGLdispatch)
shopt -s nullglob
debs=(.gl/*.deb)
if (( ${#debs[@]} == 0 )); then
  echo "gpu-run: .gl/ holds no packages (run scripts/gpu-bundle.sh where the tree was prepared)"
fi
if [[ -n ${GPU_RUN_NO_INSTALL:-} ]]; then
  echo "gpu-run: GPU_RUN_NO_INSTALL set: .gl/ not unpacked"
else
  for f in "${debs[@]}"; do dpkg -x "$f" / || { echo "gpu-run: dpkg -x $f failed"; status=1; }; done
  ldconfig || echo "gpu-run: ldconfig failed"
fi

export LD_LIBRARY_PATH="$PWD/.devlibs" OPENBLAS_CORETYPE=SkylakeX
if [[ -z ${VK_DRIVER_FILES:-} ]]; then
  VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f $f ]]; then VK_DRIVER_FILES=$f; break; fi
  done
fi
export VK_DRIVER_FILES VK_ICD_FILENAMES="$VK_DRIVER_FILES"     # the second for loaders before 1.3.207
echo "VK_DRIVER_FILES=$VK_DRIVER_FILES$([[ -f $VK_DRIVER_FILES ]] || echo ' (missing!)')"

echo "== nvidia-smi -L"
nvidia-smi -L || echo "gpu-run: nvidia-smi failed"

if [[ ! -x .devlibs/bench_gpu ]]; then
  echo "gpu-run: .devlibs/bench_gpu is missing (run scripts/gpu-bundle.sh first)"
  status=1
else
  echo "== device set-up (TANGENT_DEBUG=1, no case)"
  TANGENT_DEBUG=1 timeout 60 .devlibs/bench_gpu --filter '(none)' >/dev/null
  echo "== .devlibs/bench_gpu $*"
  timeout "${BENCH_GPU_TIMEOUT:-300}" .devlibs/bench_gpu "$@" >>"$JSONL"
  rc=$?
  if (( rc != 0 )); then echo "gpu-run: bench_gpu exited with status $rc"; status=1; fi
fi

echo "== python3 bench/baseline_gpu.py $*"
timeout "${BASELINE_GPU_TIMEOUT:-150}" python3 bench/baseline_gpu.py "$@" >>"$JSONL"
rc=$?
if (( rc != 0 )); then echo "gpu-run: baseline_gpu.py exited with status $rc"; status=1; fi

echo "== python3 bench/report.py $JSONL   ($((SECONDS - t0)) s so far)"
python3 bench/report.py "$JSONL" | tee "$OUT/gpu-report.md"
echo "gpu-run: $(wc -l <"$JSONL") records in $JSONL, log $OUT/gpu.log; $((SECONDS - t0)) s in all"
exec >&- 2>&-
wait "$tee_pid"     # the log is complete when the script returns
exit $status
