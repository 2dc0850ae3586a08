"""The launchers' own options, declared with ranges like every other field and checked
before Hydra starts (``hydra.launcher.n_jobs=0`` or ``hydra.launcher.prefer=banana``
under ``-m hydra/launcher=local_gpus`` ended in joblib tracebacks after the sweep
folder was set up).

Hydra's launcher plugins type their options but do not bound them; the ranges live here,
one dataclass per launcher (keyed by the end of its ``_target_``), in the same
`unlearn.config.fields.value` form as unlearn/config/schema.py. Types are still OmegaConf's (at
compose time); a launcher without a dataclass here is not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from omegaconf import DictConfig, OmegaConf

from unlearn.config.errors import ConfigError, show
from unlearn.config.fields import declared, value
from unlearn.runtime import devices  # noqa: F401 (registers ${gpu_count:}, local_gpus' n_jobs)


@dataclass
class JoblibOptions:
    """hydra/launcher=local_gpus (Hydra's joblib launcher; joblib.Parallel's arguments)."""

    n_jobs: int = value(ge=1, le=1024, note="(jobs at once; local_gpus: one per GPU)")
    backend: Optional[str] = value(  # noqa: UP045
        choices=("loky", "multiprocessing", "threading"), nullable=True
    )
    prefer: Optional[str] = value(choices=("processes", "threads"), nullable=True)  # noqa: UP045
    require: Optional[str] = value(choices=("sharedmem",), nullable=True)  # noqa: UP045
    verbose: int = value(ge=0, le=100)
    timeout: Optional[float] = value(gt=0, nullable=True)  # noqa: UP045
    mmap_mode: Optional[str] = value(choices=("r+", "r", "w+", "c"), nullable=True)  # noqa: UP045


OPTIONS: dict[str, type] = {"JoblibLauncher": JoblibOptions}


def check_options(launcher: DictConfig, key: str = "hydra.launcher") -> None:
    """One-line `ConfigError` for the first option of `launcher` outside its range."""
    target = str(launcher.get("_target_", ""))
    schema = next((s for name, s in OPTIONS.items() if target.endswith(name)), None)
    if schema is None:
        return
    for name, rng in declared(schema):
        if name not in launcher:
            continue
        try:
            v: Any = launcher[name]
        except Exception as err:  # noqa: BLE001 (a value that does not resolve names its key)
            reason = " ".join(str(err).split("\n")[0].split())
            raise ConfigError(f"{key}.{name}: {reason}; allowed a value that resolves") from None
        if not rng.accepts(v):
            raise ConfigError(f"{key}.{name}={show(v)}: allowed {rng.allowed()}")


def check_launcher_options(argv: list[str]) -> None:
    """Check the launcher options of a multirun command line (`python -m unlearn -m ...`);
    anything that does not compose is left to the other checks, which name it."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from unlearn.config.resources import CONF_DIR
    from unlearn.experiment.preflight import split_argv

    split = split_argv(argv)
    if split is None or not split[2]:
        return
    overrides, name, _ = split
    if not any(o.lstrip("+~").startswith(("hydra.launcher", "hydra/launcher")) for o in overrides):
        return  # the default launcher's options are the project's own
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        fixed = [str(o.input_line) for o in parsed if not o.is_sweep_override()]
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name=name, overrides=fixed, return_hydra_config=True)
        launcher = OmegaConf.select(cfg, "hydra.launcher")
    except Exception:  # noqa: BLE001 (a bad override: the preflight names it in one line)
        return
    if isinstance(launcher, DictConfig):
        check_options(launcher)
