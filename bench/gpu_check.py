"""GPU acceptance in one script (`make gpu-check`): what a first GPU must show, in ≤ 8 minutes.

1. The GPU noise floor: the `cifar10_resnet18` preset with ``forget=none`` for a short
   window, once with ``deterministic=true`` (v must be exactly 0.0, as on the CPU) and once
   with ``deterministic=false`` (v > 0 measures what nondeterministic kernels cost).
2. One real window with the twin: the preset at the verification rate η = 0.01,
   forgetting the first batch, v against v without unlearning.
3. Per-epoch timings of ResNet-18 and VGG-19 (bench/gpu.py) and from them the grid160
   projection (bench/grid_cost.py).

Every job runs as its own ``python -m unlearn`` process (its own CUDA context, so the
cuBLAS workspace setting of one cannot leak into the next). One JSON is rewritten after
each stage, so a run cut short still leaves what it measured.

    python bench/gpu_check.py --out gpu_check.json                      # on a GPU
    python bench/gpu_check.py --npz /path/to/cifar10.npz --out x.json   # with real images
    python bench/gpu_check.py --device cpu --tiny --out /tmp/x.json     # the logic, on a CPU

Without ``--npz`` the images are generated (CIFAR-shaped, 50,000 training images, random
labels): timings and the noise floor are as real, accuracy is not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from unlearn.runtime import determinism  # noqa: E402
from unlearn.runtime.atomic import write_text_atomic  # noqa: E402

KEEP = (
    "status",
    "N",
    "t",
    "lr",
    "deterministic",
    "verification_error",
    "verification_error_no_unlearning",
    "sigma_avg",
    "unlearning_error",
    "weight_drift",
    "test_acc",
    "wall_time_s",
    "twin_seconds",
    "pretrain_cache",
    "forget_size",
)

# (window overrides, sizes) for a GPU and for the tiny CPU check of the script's logic
SIZES = {
    "gpu": {
        "N": 200,
        "noise_t": 50,
        "noise_track": 25,
        "real": ["t_epochs=1"],
        "timing_steps": 100,
        "width": 64,
        "n_train": 50_000,
        "extra": [],
    },
    "tiny": {
        "N": 4,
        "noise_t": 6,
        "noise_track": 3,
        "real": ["t=8", "track_every=4", "verify_every=2"],
        "timing_steps": 3,
        "width": 4,
        "n_train": 96,
        "extra": ["model.width=4", "batch_size=8", "pretrain_batch_size=8", "sigma.max_iter=5"],
    },
}


def fake_cifar(path: Path, n_train: int, n_test: int = 1000, seed: int = 0) -> Path:
    """A CIFAR-shaped .npz of random images with every class present."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.int64) % 10,
        "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.int64) % 10,
    }
    np.savez(path, **arrays)
    return path


def run_job(name: str, overrides: list[str], work: Path) -> dict:
    """`python -m unlearn +experiment=cifar10_resnet18 <overrides>`; the results' summary."""
    out = work / name
    cmd = [sys.executable, "-m", "unlearn", "+experiment=cifar10_resnet18", *overrides]
    cmd += [f"hydra.run.dir={out}", f"paths.cache_dir={work / 'cache'}", "logger=none"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    row: dict = {"command": " ".join(cmd[1:]), "process_s": time.perf_counter() - start}
    results = out / "results.json"
    if proc.returncode != 0 or not results.is_file():
        row |= {"status": "error", "returncode": proc.returncode, "stderr": proc.stderr[-2000:]}
        return row
    res = json.loads(results.read_text())
    return row | {k: res.get(k) for k in KEEP}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: checks the logic only")
    ap.add_argument("--npz", default=None, help="CIFAR-10 .npz (default: generated images)")
    ap.add_argument("--out", default=str(HERE / "gpu_check.json"))
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device=cuda: no CUDA GPU; allowed --device cpu --tiny", file=sys.stderr)
        return 2
    determinism.prepare()  # inherited by every job
    size = SIZES["tiny" if args.tiny else "gpu"]
    start = time.perf_counter()
    report: dict = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "sizes": size,
    }

    def save(stage: str) -> None:
        report["wall_s"] = time.perf_counter() - start
        report["stages_done"] = [*report.get("stages_done", []), stage]
        write_text_atomic(args.out, json.dumps(report, indent=2))
        print(f"gpu-check: {stage} done at {report['wall_s']:.0f} s -> {args.out}", flush=True)

    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        work = Path(tmp)
        npz = args.npz or str(fake_cifar(work / "cifar.npz", size["n_train"]))
        report["data"] = "npz" if args.npz else f"generated ({size['n_train']} images)"
        common = [f"data.npz={npz}", f"N={size['N']}", *size["extra"]]
        if args.device == "cpu":
            common.append("trainer=cpu")
        noise = [
            "forget=none",
            f"t={size['noise_t']}",
            f"track_every={size['noise_track']}",
            "verify_every=1",
            "checkpoint_every=null",
        ]
        report["noise_floor"] = {}
        for det in (True, False):
            key = "deterministic" if det else "nondeterministic"
            overrides = [*common, *noise, f"deterministic={str(det).lower()}"]
            report["noise_floor"][key] = run_job(f"noise_{key}", overrides, work)
        floor = report["noise_floor"]["deterministic"]
        report["noise_floor"]["deterministic_is_exact"] = (
            floor.get("verification_error") == 0.0
            and floor.get("verification_error_no_unlearning") == 0.0
        )
        save("noise_floor")

        real = [*common, *size["real"], "lr=0.01", "checkpoint_every=null"]
        report["real_window"] = run_job("real_window", real, work)
        save("real_window")

    from gpu import timings
    from grid_cost import project

    steps = size["timing_steps"]
    table = timings(
        ["resnet18", "vgg19"], steps, args.device, min(10, steps // 2), size["width"], "gpu-check"
    )
    report["per_epoch"] = table
    report["grid160"] = project(table)
    save("timings")
    ok = report["noise_floor"]["deterministic_is_exact"] and (
        report["real_window"].get("status") == "ok"
    )
    print(f"gpu-check: {'ok' if ok else 'FAILED'} in {report['wall_s']:.0f} s; {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
