"""Launcher options have ranges like every other field: one line before Hydra starts
(unlearn/experiment/launcher_options.py); they ended in joblib tracebacks before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.config.errors import ConfigError
from unlearn.experiment.launcher_options import check_launcher_options

ROOT = Path(__file__).resolve().parents[1]
LOCAL_GPUS = ["-m", "hydra/launcher=local_gpus", "N=4", "t=4", "logger=none"]


@pytest.mark.parametrize(
    "arg, message",
    [
        ("hydra.launcher.n_jobs=0", "hydra.launcher.n_jobs=0: allowed an integer >= 1"),
        ("hydra.launcher.n_jobs=-1", "hydra.launcher.n_jobs=-1: allowed an integer >= 1"),
        ("hydra.launcher.prefer=banana", "hydra.launcher.prefer='banana': allowed one of proc"),
        ("hydra.launcher.backend=dask", "hydra.launcher.backend='dask': allowed one of loky"),
        ("hydra.launcher.verbose=-3", "hydra.launcher.verbose=-3: allowed an integer >= 0"),
        ("hydra.launcher.timeout=0", "hydra.launcher.timeout=0: allowed a finite number > 0"),
    ],
)
def test_a_launcher_option_outside_its_range_is_one_line(arg, message):
    with pytest.raises(ConfigError) as err:
        check_launcher_options([*LOCAL_GPUS, arg])
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_the_defaults_and_sensible_values_pass():
    check_launcher_options(LOCAL_GPUS)  # n_jobs = ${gpu_count:}, at least 1
    check_launcher_options(
        [*LOCAL_GPUS, "hydra.launcher.n_jobs=2", "hydra.launcher.prefer=threads"]
    )
    check_launcher_options(["hydra.launcher.n_jobs=0"])  # not a multirun: no launcher runs


def test_the_command_exits_2_before_the_sweep_folder_exists(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "unlearn", *LOCAL_GPUS, "hydra.launcher.n_jobs=0",
         f"hydra.sweep.dir={sweep}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("error: hydra.launcher.n_jobs=0: allowed an integer >= 1")
    assert not sweep.exists()
