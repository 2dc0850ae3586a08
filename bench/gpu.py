"""GPU timings for the paper's models, and from them the projected cost of `grid160`.

Per-epoch seconds of ResNet-18 and VGG-19 on CIFAR-shaped synthetic data (50,000 images
per epoch) at batch sizes 32 and 128: plain training, with the lock-step twin, and with
twin plus tracking (σ, drift, e every 400 steps). The projection uses the pretrain cache:
one pretraining per (data, model, γ, batch size) group up to its largest N, plus one
tracked, twinned window epoch per job.

    python bench/gpu.py --steps 200            # on a GPU (bench/gpu.sh)
    python bench/gpu.py --device cpu --steps 4 # a smoke run anywhere
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import lightning as L
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Workload  # noqa: E402

from unlearn.callbacks import HessianSpectrum, Unlearner, UnlearningError, WeightDrift  # noqa: E402
from unlearn.data.arrays import IndexedArrays  # noqa: E402
from unlearn.models import SmallCNN  # noqa: E402
from unlearn.models.resnet import ResNet18  # noqa: E402
from unlearn.models.vgg import VGG19  # noqa: E402

EPOCH = 50_000
MODELS = {
    "resnet18": ResNet18,
    "vgg19": VGG19,
    "small_cnn": lambda num_classes, width: SmallCNN(num_classes, 3, width),  # smoke runs only
}


class CudaStepTimer(L.Callback):
    """Seconds per step after `skip` warm-up steps, synchronised at both ends."""

    def __init__(self, skip: int) -> None:
        self.skip, self.start, self.end, self.steps = skip, 0.0, 0.0, 0

    def _sync(self, module: L.LightningModule) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize(module.device)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):  # noqa: ANN001
        if batch_idx == self.skip:
            self._sync(pl_module)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module):  # noqa: ANN001
        self._sync(pl_module)
        self.end = time.perf_counter()
        self.steps = trainer.global_step - self.skip


def per_step(
    model: str, batch: int, mode: str, steps: int, device: str, skip: int, width: int = 64
) -> tuple[float, int]:
    """Seconds per step, and the σ events inside the run (tracking mode only)."""
    n = max(batch * (steps + 1), 1024)
    g = torch.Generator().manual_seed(0)
    data = IndexedArrays(
        torch.randn(n, 3, 32, 32, generator=g), torch.randint(0, 10, (n,), generator=g)
    )
    make = lambda: MODELS[model](num_classes=10, width=width)  # noqa: E731
    work = Workload(model, make, data, batch, lr=0.01)
    callbacks: list[L.Callback] = []
    if mode in ("twin", "twin+tracking"):
        callbacks.append(Unlearner(verify_every=100))
    every = max(2, min(400, steps // 2))  # at least two σ events inside the measured steps
    if mode == "twin+tracking":
        callbacks = [WeightDrift(every), HessianSpectrum(every), UnlearningError(every), *callbacks]
    timer = CudaStepTimer(skip)
    module = work.module()
    module.begin_phase(1)
    trainer = L.Trainer(
        max_steps=steps,
        max_epochs=1,
        callbacks=[*callbacks, timer],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, work.loader(steps))
    return (timer.end - timer.start) / timer.steps, (
        steps // every if mode == "twin+tracking" else 0
    )


def timings(
    models: list[str], steps: int, device: str, skip: int, width: int = 64, label: str = ""
) -> dict[str, dict[str, float]]:
    """Seconds per step and per 50,000-image epoch for each model × batch 32/128 × mode."""
    table = {}
    for model in models:
        for batch in (32, 128):
            twin_s = 0.0
            for mode in ("plain", "twin", "twin+tracking"):
                s, events = per_step(model, batch, mode, steps, device, skip, width)
                if mode == "twin":
                    twin_s = s
                if events:  # C = cost per σ event; real runs have one every 400 steps
                    cost = (s - twin_s) * (steps - skip) / events
                    s = twin_s + cost / 400
                epoch = s * math.ceil(EPOCH / batch)
                table[f"{model}/b{batch}/{mode}"] = {"s_per_step": s, "s_per_epoch": epoch}
                print(
                    f"{label}  {model:8s} b={batch:<3d} {mode:14s} {s * 1e3:8.2f} ms/step"
                    f"  {epoch:8.1f} s/epoch",
                    flush=True,
                )
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--skip", type=int, default=10)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--models", default="resnet18,vgg19")
    ap.add_argument("--width", type=int, default=64, help="model.width (64: the paper's)")
    ap.add_argument("--out", default=str(HERE / "gpu_results.json"))
    args = ap.parse_args()
    skip = min(args.skip, args.steps // 2)
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    models = args.models.split(",")
    table = timings(models, args.steps, args.device, skip, args.width, name)
    out = {"device": name, "steps": args.steps, "width": args.width, "per_epoch": table}
    if {"resnet18", "vgg19"} <= set(models):
        from grid_cost import project

        out["grid160"] = project(table)
        print(json.dumps(out["grid160"], indent=2))
    Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
