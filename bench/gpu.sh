#!/usr/bin/env bash
# GPU timings and the projected GPU-hours of grid160 (bench/gpu.py); fits in 8 minutes on
# one modern GPU. Prints the device name with every line and writes bench/gpu_results.json
# (or $OUT/gpu_results.json when $OUT is set, as on a lent device).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 460 "$PY" bench/gpu.py --steps "${STEPS:-150}" --out "${OUT:-bench}/gpu_results.json"
