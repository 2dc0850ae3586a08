"""The paper's grids as Hydra sweeps: ``python -m unlearn -m +sweep=NAME``.

Each ``multirun_sweeps/NAME.yaml`` becomes option NAME of the config group ``sweep``
(package ``_global_``, registered in Hydra's ConfigStore when this module is imported).
A sweep file sets ``hydra.sweeper.params`` and/or ``hydra.sweeper.grids`` for the
`union` sweeper (hydra_plugins/unlearn_sweeper), the knobs all its jobs share, and
``hydra.sweep.dir``.

List a sweep's jobs without running anything, one line of overrides per job (each line
runs that job alone with ``python -m unlearn <line>``)::

    python -m unlearn.sweeps table4 [more overrides]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from hydra_plugins.unlearn_sweeper.union_sweeper import expand
from unlearn.config.checks import ConfigError
from unlearn.config.resources import CONF_DIR, SWEEP_DIR

__all__ = ["CONF_DIR", "SWEEP_DIR", "check_argv", "list_jobs", "register", "sweep_names"]


def sweep_names(directory: Path = SWEEP_DIR) -> list[str]:
    """Every sweep's NAME (the YAML files of `directory`)."""
    return sorted(p.stem for p in directory.glob("*.yaml"))


def register(directory: Path = SWEEP_DIR, store: ConfigStore | None = None) -> None:
    """Store each ``directory/NAME.yaml`` as ``sweep/NAME`` in Hydra's ConfigStore."""
    store = store or ConfigStore.instance()
    for path in sorted(directory.glob("*.yaml")):
        store.store(group="sweep", name=path.stem, node=OmegaConf.load(path), package="_global_")


def check_name(name: str) -> None:
    """One-line `ConfigError` for a sweep that does not exist."""
    names = sweep_names()
    if name not in names:
        raise ConfigError(f"sweep={name!r}: allowed {', '.join(names)}")


def check_argv(argv: list[str]) -> None:
    """One-line `ConfigError` for ``+sweep=NAME`` on a command line when NAME does not exist."""
    for arg in argv:
        key, _, value = arg.partition("=")
        if key.lstrip("+~") == "sweep" and value:
            check_name(value)


def list_jobs(name: str, overrides: list[str] | tuple[str, ...] = ()) -> list[list[str]]:
    """The overrides of every job `python -m unlearn -m +sweep=NAME <overrides>` launches."""
    check_name(name)
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    # only hydra.* can change the grid; the rest may need a job's own group choices
    # (data.npz=PATH exists once +experiment=... picked CIFAR), so it is not composed here
    fixed = [
        str(o.input_line)
        for o in parsed
        if not o.is_sweep_override() and o.get_key_element().lstrip("+~").startswith("hydra")
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("config", [f"+sweep={name}", *fixed], return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    params = OmegaConf.to_container(sweeper.params) if sweeper.get("params") else None
    grids = OmegaConf.to_container(sweeper.grids) if sweeper.get("grids") else None
    return expand(params, grids, [f"+sweep={name}", *overrides])  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    """`python -m unlearn.sweeps NAME [overrides]`: one line per job on standard output."""
    if not argv or argv[0].startswith("-"):
        print(f"usage: python -m unlearn.sweeps NAME [overrides]; NAME: {', '.join(sweep_names())}")
        return 2
    try:
        jobs = list_jobs(argv[0], argv[1:])
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        for job in jobs:
            print(" ".join(job))
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


register()

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
