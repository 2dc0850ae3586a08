"""Tracking overhead: a window with σ, drift and e tracked against the same window untracked,
at track_every 100 and 400 (σ at the configured tolerance, default engine).

Two readings: the side-by-side ratio of interleaved runs, and the ratio attributed inside
each tracked run (its wall time over its wall time minus the time spent in the tracking
callbacks), which run-to-run noise on a shared machine does not move.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

from common import cifar_shaped_workload, fit_seconds_per_step, interleaved, ratio

from unlearn.callbacks import HessianSpectrum, UnlearningError, WeightDrift


class _Timed:
    """Wraps a callback's `on_train_batch_end` to add its wall time to a shared counter."""

    def __init__(self, callback: Any, clock: list[float]) -> None:
        inner = callback.on_train_batch_end

        def timed(*args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            inner(*args, **kwargs)
            clock[0] += time.perf_counter() - start

        callback.on_train_batch_end = timed


def tracked(every: int, clock: list[float], engine: str = "lanczos", tol: float = 1e-4) -> list:
    callbacks = [
        WeightDrift(every),
        HessianSpectrum(every, engine=engine, tol=tol),
        UnlearningError(every),
    ]
    for cb in callbacks:
        _Timed(cb, clock)
    return callbacks


def measure(steps: int = 1600, reps: int = 3, engine: str = "lanczos") -> dict:
    """1,600 steps: about one CIFAR epoch at b = 32, so 4 σ events at every 400, 16 at 100."""
    work = cifar_shaped_workload(32)
    out = {}
    for every in (400, 100):
        attributed: list[float] = []

        def run_tracked(e: int = every, attributed: list[float] = attributed) -> float:
            clock = [0.0]
            per_step = fit_seconds_per_step(work, steps, tracked(e, clock, engine), 0)
            total = per_step * steps
            attributed.append(total / (total - clock[0]))
            return per_step

        times = interleaved(
            {
                "tracked": run_tracked,
                "untracked": lambda: fit_seconds_per_step(work, steps, [], 0),
            },
            reps=reps,
            warmup=0,
        )
        out[f"track_every_{every}"] = ratio(times["tracked"], times["untracked"]) | {
            "attributed_median": statistics.median(attributed),
            "attributed_max": max(attributed),
        }
    return out


if __name__ == "__main__":
    engine = sys.argv[1] if len(sys.argv) > 1 else "lanczos"
    json.dump(measure(engine=engine), sys.stdout, indent=2)
