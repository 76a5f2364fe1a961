#!/usr/bin/env bash
# Installs the Debian packages Tangent builds and tests with. Safe to re-run:
# does nothing when everything is present. Uses sudo when not root.
#   install-deps.sh            build, tests, demo
#   install-deps.sh --oracles  also SciPy and PyTorch (regenerating oracle data, benchmarks)
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-dev liblapacke-dev libfftw3-dev
      libcriterion-dev libcjson-dev zlib1g-dev python3-numpy dataset-fashion-mnist
      libvulkan-dev libvulkan-volk-dev glslang-tools mesa-vulkan-drivers)
if [ "${1:-}" = "--oracles" ]; then pkgs+=(python3-scipy python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
