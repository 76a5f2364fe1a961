#!/usr/bin/env bash
# Bundles the GPU benchmark for a remote machine that has a GPU, its driver,
# gcc and PyTorch CUDA but none of Tangent's dependencies and no network
# (bench/README.md, "GPU suite"). From any directory:
#
#   scripts/gpu-bundle.sh
#
# 1. configures build-gpu/ (Release, benchmarks and examples on, tests off,
#    TANGENT_VULKAN=ON) and builds bench_gpu and bench_cnn (fashion_mnist
#    too with GPU_BUNDLE_EXAMPLE=1: it brings libtangent.so, FFTW and
#    LAPACKE, about 14 MB, and the whole then passes 60 MiB);
# 2. fills .devlibs/ with those programs (stripped) and every shared library
#    ldd resolves for them except glibc's own (libc, libm, libpthread, libdl,
#    librt, libresolv, libmvec, ld-linux), libgcc_s and the vdso, which the
#    remote has: symlinks dereferenced, each under its soname (libblas.so.3
#    and liblapack.so.3 as empty stand-ins: libopenblas.so.0 defines their
#    symbols); then checks that every program resolves with .devlibs alone;
# 3. downloads the Debian packages of the Vulkan loader and GL dispatch
#    libraries (the NVIDIA ICD needs libglvnd) into .gl/, unless .gl/ holds
#    them already (needs apt-get and the network, once);
# 4. adds /.gl/, /.devlibs/ and /build-gpu/ to .git/info/exclude and prints
#    the size of .devlibs + .gl (at most 60 MiB, else status 1).
# The remote then runs bench/gpu-run.sh from the repository root.
#
# Environment: GPU_BUILD_DIR (default <repo>/build-gpu) the build folder,
# GPU_BUNDLE_JOBS (default 2) the build's parallelism.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${GPU_BUILD_DIR:-$ROOT/build-gpu}"
JOBS="${GPU_BUNDLE_JOBS:-2}"
LIMIT_MIB=60
GL_PKGS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

# 0. the bundle folders stay out of git (info/exclude, not .gitignore)
exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
touch "$exclude"
for p in /.gl/ /.devlibs/ /build-gpu/; do
  grep -qxF "$p" "$exclude" || echo "$p" >>"$exclude"
done

# 1. build
echo "gpu-bundle: building in $BUILD" >&2
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTANGENT_TESTS=OFF -DTANGENT_EXAMPLES=ON \
        -DTANGENT_BENCH=ON -DTANGENT_VULKAN=ON >/dev/null
fi
cmake --build "$BUILD" -j"$JOBS" --target bench_gpu >"$BUILD/bundle-build.log" 2>&1 ||
  { tail -30 "$BUILD/bundle-build.log" >&2; echo "gpu-bundle: bench_gpu did not build" >&2; exit 1; }
progs=("$BUILD/bench/bench_gpu")
# the run-time GLSL compiler of fused kernels (loaded with dlopen; optional)
plugin=""
if cmake --build "$BUILD" -j"$JOBS" --target tangent_glslang >>"$BUILD/bundle-build.log" 2>&1; then
  plugin="$BUILD/libtangent_glslang.so"
else
  echo "gpu-bundle: libtangent_glslang.so did not build; fused GPU kernels left out" >&2
fi
optional=(bench/bench_cnn)
[[ -n ${GPU_BUNDLE_EXAMPLE:-} ]] && optional+=(fashion_mnist)
for opt in "${optional[@]}"; do      # optional: left out if they do not build
  if cmake --build "$BUILD" -j"$JOBS" --target "$(basename "$opt")" >>"$BUILD/bundle-build.log" 2>&1; then
    progs+=("$BUILD/$opt")
  else
    echo "gpu-bundle: $(basename "$opt") did not build; left out" >&2
  fi
done

# 2. programs and their shared libraries
rm -rf .devlibs
mkdir -p .devlibs
skip='^(linux-vdso|ld-linux|libc|libm|libmvec|libpthread|libdl|librt|libresolv|libgcc_s|libstdc\+\+)\.so'
declare -A copied=()
for prog in "${progs[@]}"; do
  cp "$prog" .devlibs/
  strip --strip-all ".devlibs/$(basename "$prog")"
  # lines "soname => /path (0x...)"; "not found" stops the bundle
  if ldd "$prog" | grep -q 'not found'; then
    echo "gpu-bundle: $prog has unresolved libraries:" >&2
    ldd "$prog" | grep 'not found' >&2
    exit 1
  fi
  while read -r soname path; do
    [[ $soname =~ $skip ]] && continue
    [[ -n ${copied[$soname]:-} ]] && continue
    cp -L "$path" ".devlibs/$soname"
    chmod u+w ".devlibs/$soname"
    copied[$soname]=$path
  done < <(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
done
# liblapacke (libtangent.so's, for fashion_mnist) needs libblas.so.3 and
# liblapack.so.3 loaded, but libopenblas.so.0, earlier in the search order,
# defines every BLAS and LAPACK symbol they would give: empty libraries of
# those sonames stand in for them (7.7 MiB less; the limit is 60). The check
# below relocates every symbol of every program (ldd -r) to prove it.
if [[ -f .devlibs/libopenblas.so.0 ]]; then
  for soname in libblas.so.3 liblapack.so.3; do
    [[ -f .devlibs/$soname ]] || continue
    printf 'int tg_bundle_stub;\n' | cc -shared -fPIC -x c - -Wl,-soname,"$soname" -o ".devlibs/$soname"
  done
fi
for prog in "${progs[@]}"; do
  if LD_LIBRARY_PATH="$ROOT/.devlibs" ldd -r ".devlibs/$(basename "$prog")" 2>&1 | grep -E 'not found|undefined symbol' >&2; then
    echo "gpu-bundle: .devlibs/$(basename "$prog") does not resolve with .devlibs" >&2
    exit 1
  fi
done
if [[ -n $plugin ]]; then           # found by name on LD_LIBRARY_PATH; libstdc++ is the remote's
  cp "$plugin" .devlibs/
  strip --strip-all .devlibs/libtangent_glslang.so
fi
echo "gpu-bundle: .devlibs: $(cd .devlibs && ls | tr '\n' ' ')" >&2

# 3. the Vulkan loader and GL dispatch packages (Debian's, amd64)
have_gl=1
for pkg in "${GL_PKGS[@]}"; do
  compgen -G ".gl/${pkg}_*.deb" >/dev/null || have_gl=0
done
if [[ $have_gl == 0 ]]; then
  echo "gpu-bundle: downloading ${GL_PKGS[*]} into .gl/" >&2
  mkdir -p .gl /tmp/amd64/partial
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  apt-get "${o[@]}" update >/dev/null
  (cd .gl && apt-get "${o[@]}" download "${GL_PKGS[@]}" >/dev/null)
else
  echo "gpu-bundle: .gl/ already holds the packages" >&2
fi
echo "gpu-bundle: .gl: $(cd .gl && ls | tr '\n' ' ')" >&2

# 4. size
kib=$(du -sk --total .devlibs .gl | awk 'END {print $1}')
awk -v k="$kib" -v l="$LIMIT_MIB" 'BEGIN { printf "gpu-bundle: .devlibs + .gl = %.1f MiB (limit %d MiB)\n", k / 1024, l }'
du -sh .devlibs .gl
if (( kib > LIMIT_MIB * 1024 )); then
  echo "gpu-bundle: the bundle is larger than $LIMIT_MIB MiB" >&2
  exit 1
fi
echo "gpu-bundle: done; on the remote, from the repository root: bench/gpu-run.sh" >&2
