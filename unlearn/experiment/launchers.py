"""Launchers that need something the machine may lack, checked before Hydra starts.

submitit's SLURM executor raises a 20-line traceback when ``srun`` is missing, after
Hydra has set up the sweep folder; the same fact as one `ConfigError` line, up front.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable

from unlearn.config.errors import ConfigError

NEEDS = {"slurm": "srun", "submitit_slurm": "srun"}  # launcher option → program it runs


def check_launcher(argv: Iterable[str]) -> None:
    """One-line `ConfigError` for ``hydra/launcher=NAME`` whose program is not on PATH."""
    for arg in argv:
        key, _, value = arg.partition("=")
        program = NEEDS.get(value)
        if key.lstrip("+~") == "hydra/launcher" and program and shutil.which(program) is None:
            raise ConfigError(
                f"hydra/launcher={value}: no `{program}` here (not a SLURM cluster); "
                "allowed local, local_gpus or submitit_local (submitit's jobs on this machine)"
            )
