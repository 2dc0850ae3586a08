"""Spectrum overhead: the window with the Hessian-curvature callback at its default schedule
(every track_every = 10 steps: σ, top-1, Hutchinson trace with 10 probes, SLQ density with
20 steps; conf/config.yaml) against the same window without it, and against σ alone.

Digits small CNN (the default job's model), interleaved repetitions. Run alone with
``.venv/bin/python bench/curvature_overhead.py``; `make bench` runs it with the rest.
"""

from __future__ import annotations

import json
import sys

from common import digits_workload, fit_seconds_per_step, interleaved, ratio

from unlearn.callbacks import HessianCurvature, HessianSpectrum

EVERY, TRACE_PROBES, DENSITY_STEPS = 10, 10, 20  # the defaults of conf/config.yaml


def measure(steps: int = 200, reps: int = 3) -> dict:
    work = digits_workload(32)
    times = interleaved(
        {
            "curvature": lambda: fit_seconds_per_step(
                work,
                steps,
                [HessianCurvature(EVERY, trace_probes=TRACE_PROBES, density_steps=DENSITY_STEPS)],
            ),
            "sigma_only": lambda: fit_seconds_per_step(work, steps, [HessianSpectrum(EVERY)]),
            "none": lambda: fit_seconds_per_step(work, steps, []),
        },
        reps=reps,
    )
    return {
        "curvature_vs_none": ratio(times["curvature"], times["none"]),
        "sigma_only_vs_none": ratio(times["sigma_only"], times["none"]),
        "curvature_vs_sigma_only": ratio(times["curvature"], times["sigma_only"]),
    }


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
