"""The command line's job from Python: `compose` a config, `run` it, print its `summary`.

``python -m unlearn t=20 logger=none`` and

    cfg = unlearn.compose("t=20", "logger=none")
    results = unlearn.run(cfg)

compose the same config (same presets, ``debug=fast``, unit rules and output folder) and
run the same isolated job (a failure or divergence becomes ``results["status"]``, W&B is
always finished, a finished run is read back, never rerun). A bad override raises
`ConfigError` with the same one line the command prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

from unlearn.config.checks import validate
from unlearn.experiment.job import JobContext, run_job
from unlearn.experiment.preflight import compose_run
from unlearn.experiment.results import summary_table


def compose(*overrides: str, output_dir: str | Path | None = None) -> DictConfig:
    """The config `python -m unlearn <overrides>` runs, checked; `output_dir` replaces
    Hydra's ``outputs/<date>/<time>`` folder (relative to the current folder, like the
    command). The checks that need the data (sizes, the model's fit) run in `run`."""
    cfg = compose_run(list(overrides))
    validate(cfg)  # ranges and rules: a bad value fails here, as the command's first line
    if output_dir is not None:
        with open_dict(cfg):
            cfg.paths.output_dir = str(output_dir)
    return cfg


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run one job as the command line does; returns what results.json holds."""
    return run_job(cfg, JobContext())


def summary(results: dict[str, Any]) -> str:
    """The table `python -m unlearn` prints at the end of a finished run."""
    return summary_table(results)
