#!/usr/bin/env bash
# Installs the Debian packages Tangent builds and tests with. Safe to re-run:
# does nothing when everything is present. Uses sudo when not root.
#   install-deps.sh            build, tests, demo
#   install-deps.sh --oracles  also SciPy and PyTorch (regenerating oracle data, benchmarks)
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-openmp-dev liblapacke-dev libfftw3-dev
      libcriterion-dev libcjson-dev zlib1g-dev python3-numpy dataset-fashion-mnist
      libvulkan-dev libvulkan-volk-dev glslang-tools glslang-dev spirv-tools mesa-vulkan-drivers)
if [ "${1:-}" = "--oracles" ]; then pkgs+=(python3-scipy python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Where the pthread OpenBLAS is also installed it wins Debian's alternatives
# (priority 100 against 95), and LAPACKE and NumPy would load it at run time.
# Point every OpenBLAS alternative at the OpenMP build (see CMakeLists.txt).
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
update-alternatives --get-selections | awk '$3 ~ /openblas-pthread/ {print $1, $3}' |
while read -r name path; do
  omp=${path/openblas-pthread/openblas-openmp}
  if [ -e "$omp" ]; then $SUDO update-alternatives --quiet --set "$name" "$omp"; fi
done
if [ ! -e "/usr/lib/$arch/openblas-openmp/libopenblas.so.0" ]; then
  echo "warning: OpenBLAS OpenMP build missing" >&2
fi
