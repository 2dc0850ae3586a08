#!/usr/bin/env bash
# GPU acceptance (`make gpu-check`, bench/gpu_check.py), in at most 8 minutes on one GPU:
# the noise floor of the cifar10_resnet18 preset with deterministic=true and false, one
# real window with the twin, per-epoch timings of ResNet-18 / VGG-19 and the grid160
# projection, all in one JSON: $OUT/gpu_check.json (as on a lent device) or bench/.
# DEVICE=cpu runs the same script with tiny sizes on the CPU (its logic, not GPU numbers);
# CIFAR_NPZ=/path/to/cifar10.npz uses real images instead of generated ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
DEVICE=${DEVICE:-cuda}
export CUBLAS_WORKSPACE_CONFIG=${CUBLAS_WORKSPACE_CONFIG:-:4096:8}
TINY=()
if [ "$DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
else
  TINY=(--tiny)
fi
NPZ=()
[ -n "${CIFAR_NPZ:-}" ] && NPZ=(--npz "$CIFAR_NPZ")
timeout 470 "$PY" bench/gpu_check.py --device "$DEVICE" "${TINY[@]}" "${NPZ[@]}" \
  --out "${OUT:-bench}/gpu_check.json"
