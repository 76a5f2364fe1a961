#!/bin/sh
# Regenerates every committed oracle file under oracles/data/ with Debian's
# NumPy / SciPy / PyTorch (/usr/bin/python3; the python3 first on PATH may
# lack them). Usage: oracles/regen.sh [family ...]
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
./scripts/install-deps.sh --oracles     # SciPy and PyTorch for the generators
for gen in oracles/gen_*.py; do
    case "$gen" in
    oracles/gen_core.py) "$PY" "$gen" "$@" ;;
    *) [ $# -eq 0 ] && "$PY" "$gen" ;;
    esac
done
