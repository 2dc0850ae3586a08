"""Twin cost: a window with the lock-step verification twin (Unlearner) against the same
window without it; and the unlearning speed-up: the single-gradient update's seconds
against the twin's retraining seconds in the same run."""

from __future__ import annotations

import json
import sys

from common import cifar_shaped_workload, fit_seconds_per_step, interleaved, ratio

from unlearn.callbacks import Unlearner


def measure(steps: int = 400, reps: int = 3) -> dict:
    # 16,384 samples: the window stays inside one epoch, so only its first step used F,
    # as in the paper's t = 1 epoch setting (the update is then one gradient).
    work = cifar_shaped_workload(32, n=16384)
    unlearners: list[Unlearner] = []

    def with_twin() -> float:
        unlearners.append(Unlearner(verify_every=100))
        return fit_seconds_per_step(work, steps, [unlearners[-1]], 0)

    times = interleaved(
        {"twin": with_twin, "plain": lambda: fit_seconds_per_step(work, steps, [], 0)},
        reps=reps,
        warmup=0,
    )
    speedups = [u.twin_seconds / u.unlearn_seconds for u in unlearners]
    u = unlearners[-1]
    return {
        "twin_ratio": ratio(times["twin"], times["plain"]),
        "unlearn_speedup": {
            "median": sorted(speedups)[len(speedups) // 2],
            "min": min(speedups),
            "max": max(speedups),
            "unlearn_seconds": u.unlearn_seconds,
            "twin_retrain_seconds": u.twin_seconds,
            "window_steps": steps,
            "forget_steps": len(u.records),
        },
    }


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
