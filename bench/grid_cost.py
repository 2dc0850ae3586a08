"""Projected cost of the `grid160` sweep from measured per-epoch seconds.

With the pretrain cache, jobs that share (data, model, γ, batch size, lr, seed) share one
pretraining trajectory, saved at every N a job asks for: the group costs one pretraining
to its largest N. Every job then runs its own window (t epochs, with the twin and
tracking). Without the cache, every job pretrains from scratch.
"""

from __future__ import annotations

from collections import defaultdict

from unlearn.experiment.sweeps import list_jobs


def _job(overrides: list[str]) -> dict[str, str]:
    return dict(o.lstrip("+").split("=", 1) for o in overrides)


def project(per_epoch: dict[str, dict[str, float]], sweep: str = "grid160") -> dict:
    """GPU-hours of `sweep` with and without the cache, from ``per_epoch[model/bB/mode]``.

    Batch sizes without their own timing use the nearest measured one, scaled by
    steps per epoch (a conservative choice for b = 64 between 32 and 128).
    """
    jobs = [_job(j) for j in list_jobs(sweep)]
    measured = sorted({int(k.split("/")[1][1:]) for k in per_epoch})

    def epoch_seconds(model: str, batch: int, mode: str) -> float:
        nearest = min(measured, key=lambda b: abs(b - batch))
        return per_epoch[f"{model}/b{nearest}/{mode}"]["s_per_epoch"]

    longest: dict[tuple, float] = defaultdict(float)
    window_s = scratch_s = 0.0
    for j in jobs:
        model = "vgg19" if "vgg" in j["experiment"] else "resnet18"
        b = int(j.get("pretrain_batch_size", j.get("batch_size", 128)))
        n_epochs = float(j.get("N_epochs", 0))
        t_epochs = float(j.get("t_epochs", 1))
        key = (j["experiment"], j.get("gamma"), b)
        longest[key] = max(longest[key], n_epochs)
        window_s += t_epochs * epoch_seconds(model, int(j.get("batch_size", b)), "twin+tracking")
        scratch_s += n_epochs * epoch_seconds(model, b, "plain")
    cached_s = sum(
        n * epoch_seconds("vgg19" if "vgg" in k[0] else "resnet18", k[2], "plain")
        for k, n in longest.items()
    )
    return {
        "jobs": len(jobs),
        "pretrain_groups": len(longest),
        "pretrain_epochs_with_cache": sum(longest.values()),
        "pretrain_epochs_without_cache": sum(float(j.get("N_epochs", 0)) for j in jobs),
        "gpu_hours_with_cache": (cached_s + window_s) / 3600,
        "gpu_hours_without_cache": (scratch_s + window_s) / 3600,
        "window_gpu_hours": window_s / 3600,
    }
