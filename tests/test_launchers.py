"""A launcher whose program is missing is one line before Hydra starts.

The check is unlearn/experiment/launchers.py.
"""

from __future__ import annotations

import shutil

import pytest

from unlearn.config.errors import ConfigError
from unlearn.experiment.launchers import check_launcher


def test_slurm_without_srun_is_one_line(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(
        ConfigError, match=r"^hydra/launcher=slurm: no `srun` here .*submitit_local"
    ):
        check_launcher(["-m", "hydra/launcher=slurm", "lr=0.1"])


def test_slurm_with_srun_and_other_launchers_pass(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    check_launcher(["hydra/launcher=slurm"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    check_launcher(["hydra/launcher=local", "hydra/launcher=submitit_local", "slurm=1"])
