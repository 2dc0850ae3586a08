"""Tracking overhead: a window with σ, drift and e tracked against the same window untracked,
at track_every 100 and 400 (σ at the configured tolerance, default engine)."""

from __future__ import annotations

import json
import sys

from common import cifar_shaped_workload, fit_seconds_per_step, interleaved, ratio

from unlearn.callbacks import HessianSpectrum, UnlearningError, WeightDrift


def tracked(every: int, engine: str = "lanczos", tol: float = 1e-4) -> list:
    return [
        WeightDrift(every),
        HessianSpectrum(every, engine=engine, tol=tol),
        UnlearningError(every),
    ]


def measure(steps: int = 1600, reps: int = 3, engine: str = "lanczos") -> dict:
    """1,600 steps: about one CIFAR epoch at b = 32, so 4 σ events at every 400, 16 at 100."""
    work = cifar_shaped_workload(32)
    out = {}
    for every in (400, 100):
        times = interleaved(
            {
                "tracked": lambda e=every: fit_seconds_per_step(work, steps, tracked(e, engine), 0),
                "untracked": lambda: fit_seconds_per_step(work, steps, [], 0),
            },
            reps=reps,
            warmup=0,
        )
        out[f"track_every_{every}"] = ratio(times["tracked"], times["untracked"])
    return out


if __name__ == "__main__":
    json.dump(measure(engine=sys.argv[1] if len(sys.argv) > 1 else "lanczos"), sys.stdout, indent=2)
