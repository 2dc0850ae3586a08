"""Seconds per plain-SGD training step of the paper's CIFAR models on this machine.

One step = forward, CE + γ·SD loss, backward and the SGD update, on random 32x32 images,
in training mode (BatchNorm batch statistics), as pretraining runs it. The window costs
about twice this per step (the twin takes the same step), plus σ probes.

    python bench/step_time.py                       # ResNet-18, VGG-19 at batch 32 and 128
    python bench/step_time.py --steps 5 --batch 32  # fewer, smaller
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from unlearn.math.losses import TrainingObjective
from unlearn.models import VGG19, ResNet18


def step_seconds(model: str, batch: int, steps: int, warmup: int, device: str) -> list[float]:
    torch.manual_seed(0)
    net = {"resnet18": ResNet18, "vgg19": VGG19}[model](num_classes=10).to(device).train()
    objective = TrainingObjective(gamma=5.0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        opt.zero_grad()
        objective.batch_loss(net(x), y, net.parameters()).backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet18", "vgg19"])
    parser.add_argument("--batch", nargs="+", type=int, default=[32, 128])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(
        f"# device={args.device} torch threads={torch.get_num_threads()} "
        f"cpus={os.cpu_count()} load average before={os.getloadavg()[0]:.2f}"
    )
    rows = []
    for model in args.models:
        for batch in args.batch:
            t = step_seconds(model, batch, args.steps, args.warmup, args.device)
            row = {
                "model": model,
                "batch": batch,
                "median_s": round(statistics.median(t), 4),
                "min_s": round(min(t), 4),
                "max_s": round(max(t), 4),
                "steps": len(t),
                "images_per_s": round(batch / statistics.median(t), 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"# load average after={os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
