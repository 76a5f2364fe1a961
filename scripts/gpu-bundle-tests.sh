#!/usr/bin/env bash
# Adds GPU test programs to the bundle scripts/gpu-bundle.sh made, so they
# run on the remote GPU machine too (bench/README.md, "GPU suite"). From any
# directory, after gpu-bundle.sh:
#
#   scripts/gpu-bundle-tests.sh test_gpu_fused test_gpu_program ...
#
# 1. builds the named tests in build-gpu-tests/ (Release, tests on);
# 2. copies them stripped into .devlibs/ with the shared libraries ldd
#    finds for them (Criterion and its dependencies), skipping glibc's as
#    gpu-bundle.sh does;
# 3. replaces OpenBLAS (36 MB of the 64 MiB a remote command may carry) by
#    a stand-in libopenblas.so.0 over the reference BLAS, LAPACK and
#    LAPACKE (about 10 MB), defining the two OpenBLAS calls Tangent makes.
#    The CPU's BLAS is then slow there: the GPU figures are unaffected
#    (their products run on the GPU), CPU timings are not to be taken;
# 4. checks that every program resolves with .devlibs alone and prints the
#    bundle's size (status 1 above 62 MiB).
# On the remote, after bench/gpu-run.sh has unpacked .gl/ (or with
# GPU_RUN_NO_INSTALL unset once): LD_LIBRARY_PATH=$PWD/.devlibs
# VK_DRIVER_FILES=<the NVIDIA ICD> .devlibs/test_gpu_fused
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build-gpu-tests"
LIMIT_MIB=62
(( $# > 0 )) || { echo "usage: scripts/gpu-bundle-tests.sh TEST..." >&2; exit 2; }
[[ -d .devlibs ]] || { echo "gpu-bundle-tests: run scripts/gpu-bundle.sh first" >&2; exit 1; }
exclude="$(git rev-parse --git-path info/exclude)"
grep -qxF /build-gpu-tests/ "$exclude" || echo /build-gpu-tests/ >>"$exclude"

if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTANGENT_TESTS=ON -DTANGENT_EXAMPLES=OFF \
        -DTANGENT_BENCH=OFF -DTANGENT_VULKAN=ON >/dev/null
fi
cmake --build "$BUILD" -j2 --target "$@" >"$BUILD/bundle-build.log" 2>&1 ||
  { tail -30 "$BUILD/bundle-build.log" >&2; echo "gpu-bundle-tests: the tests did not build" >&2; exit 1; }

skip='^(linux-vdso|ld-linux|libc|libm|libmvec|libpthread|libdl|librt|libresolv|libgcc_s|libstdc\+\+|libopenblas)\.so'
for t in "$@"; do
  strip -o ".devlibs/$t" "$BUILD/tests/$t"
  while read -r soname path; do
    [[ $soname =~ $skip || -f .devlibs/$soname ]] && continue
    cp -L "$path" ".devlibs/$soname"
    chmod u+w ".devlibs/$soname"
  done < <(ldd "$BUILD/tests/$t" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
done

# the reference BLAS / LAPACK / LAPACKE behind a libopenblas.so.0 stand-in
lib=/usr/lib/x86_64-linux-gnu
cp -L "$lib/blas/libblas.so.3" "$lib/lapack/liblapack.so.3" "$lib/liblapacke.so.3" "$lib/libtmglib.so.3" .devlibs/
chmod u+w .devlibs/libblas.so.3 .devlibs/liblapack.so.3 .devlibs/liblapacke.so.3 .devlibs/libtmglib.so.3
printf 'int openblas_get_num_threads(void) { return 1; }\nvoid openblas_set_num_threads(int n) { (void)n; }\n' |
  cc -shared -fPIC -x c - -o .devlibs/libopenblas.so.0 -Wl,-soname,libopenblas.so.0 -Wl,--no-as-needed \
     -L.devlibs -l:liblapacke.so.3 -l:liblapack.so.3 -l:libblas.so.3

for p in .devlibs/*; do
  [[ -x $p && ! $p =~ \.so ]] || continue
  if LD_LIBRARY_PATH="$ROOT/.devlibs" ldd -r "$p" 2>&1 | grep -E 'not found|undefined symbol' >&2; then
    echo "gpu-bundle-tests: $p does not resolve with .devlibs" >&2
    exit 1
  fi
done
kib=$(du -sk --total .devlibs .gl | awk 'END {print $1}')
awk -v k="$kib" -v l="$LIMIT_MIB" 'BEGIN { printf "gpu-bundle-tests: .devlibs + .gl = %.1f MiB (limit %d MiB)\n", k / 1024, l }'
(( kib <= LIMIT_MIB * 1024 )) || { echo "gpu-bundle-tests: the bundle is too large" >&2; exit 1; }
