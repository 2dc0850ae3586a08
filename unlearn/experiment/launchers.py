"""Launchers that need something the machine may lack, checked before Hydra starts.

submitit's SLURM executor raises a 20-line traceback when ``srun`` is missing, when the
controller is down or when sbatch refuses a request, after Hydra has set up the sweep
folder; the same facts as one `ConfigError` line each, up front
(unlearn/experiment/slurm.py asks the cluster).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable

from unlearn.config.errors import ConfigError

NEEDS = {"slurm": "srun", "submitit_slurm": "srun"}  # launcher option → program it runs


class ClusterProblems(ConfigError):
    """Several one-line problems at once (`python -m unlearn` prints each as an error line)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\nerror: ".join(lines))


def check_launcher(argv: Iterable[str]) -> None:
    """One-line `ConfigError` for ``hydra/launcher=NAME`` whose program is not on PATH;
    for SLURM, `ClusterProblems` for what the cluster cannot run (warnings printed)."""
    argv = list(argv)
    for arg in argv:
        key, _, value = arg.partition("=")
        program = NEEDS.get(value)
        if key.lstrip("+~") != "hydra/launcher" or not program:
            continue
        if shutil.which(program) is None:
            raise ConfigError(
                f"hydra/launcher={value}: no `{program}` here (not a SLURM cluster); "
                "allowed local, local_gpus or submitit_local (submitit's jobs on this machine)"
            )
        check_cluster(argv)


def check_cluster(argv: list[str]) -> None:
    """Ask the cluster whether it can run the launcher settings `argv` composes to."""
    from unlearn.experiment.slurm import cluster_problems

    launcher = launcher_settings(argv)
    if launcher is None:  # a config that does not compose: the preflight says why, next
        return
    problems, warnings = cluster_problems(launcher)
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if problems:
        raise ClusterProblems(problems)


def launcher_settings(argv: list[str]) -> dict | None:
    """hydra.launcher's keys as `python -m unlearn <argv>` composes them (sweeps: the
    launcher keys cannot be swept), or None when the command line does not compose."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from unlearn.config.resources import CONF_DIR
    from unlearn.experiment.preflight import split_argv

    split = split_argv(argv)
    if split is None:
        return None
    overrides, name, _ = split
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        fixed = [str(o.input_line) for o in parsed if not o.is_sweep_override()]
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name=name, overrides=fixed, return_hydra_config=True)
    except Exception:  # noqa: BLE001 (the preflight reports a bad command line in one line)
        return None
    keys = ("partition", "gpus_per_node", "cpus_per_task", "mem_gb", "tasks_per_node")
    return {k: OmegaConf.select(cfg, f"hydra.launcher.{k}", default=None) for k in keys}
