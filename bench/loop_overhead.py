"""Loop overhead: the framework's training step (Lightning module, callbacks off) against a
bare PyTorch SGD loop on the same model, data and batches."""

from __future__ import annotations

import json
import sys

from common import (
    bare_seconds_per_step,
    cifar_shaped_workload,
    digits_workload,
    fit_seconds_per_step,
    interleaved,
    ratio,
)


def measure(steps: int = 300, reps: int = 9) -> dict:
    out = {}
    for work in (digits_workload(32), cifar_shaped_workload(32)):
        times = interleaved(
            {
                "framework": lambda w=work: fit_seconds_per_step(w, steps, []),
                "bare": lambda w=work: bare_seconds_per_step(w, steps),
            },
            reps=reps,
        )
        out[work.name] = {
            "ratio": ratio(times["framework"], times["bare"]),
            "framework_ms_per_step": 1e3 * min(times["framework"]),
            "bare_ms_per_step": 1e3 * min(times["bare"]),
        }
    return out


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
