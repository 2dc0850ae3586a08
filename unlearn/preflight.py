"""Everything `python -m unlearn` checks before Hydra writes a byte or a step is taken.

Hydra's own errors (a wrong type, a misspelt key, an unknown option) are several lines
and exit with status 1; and Hydra writes ``.hydra/`` into the output folder before the
task starts. So the command line is composed here first, with Hydra's compose API, and
every check `run` would make is made on it: the config (`unlearn.config.validate`), the
output folder (a finished run, a checkpoint of another config), the data, the forget set
and whether the model accepts the data. Any failure is one `ConfigError` line.

A multirun (``-m``) is checked value by value: each swept value once, the others at
their first value.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException, InstantiationException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException, ValidationError

from unlearn import wandb_run
from unlearn.config import (
    ConfigError,
    check_data,
    check_window,
    did_you_mean,
    prefer_given_unit,
    resolve_steps,
    validate,
)
from unlearn.debug import apply_debug
from unlearn.folders import check_folder, check_sweep_folder
from unlearn.resources import CONF_DIR
from unlearn.schema import field_type

MULTIRUN = ("-m", "--multirun")
CONFIG_NAME = ("-cn", "--config-name")


def group_options(group: str, conf_dir: Path = CONF_DIR, extra: Iterable[Path] = ()) -> list[str]:
    """Option names of a config group (the YAML files in its folder and in `extra` dirs)."""
    dirs = [conf_dir, *extra]
    return sorted({p.stem for d in dirs for p in (d / group).glob("*.yaml")})


def search_dirs(argv: Iterable[str]) -> list[Path]:
    """Your own config folders, added with ``hydra.searchpath=[file:///my/conf,...]``."""
    dirs = []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key.lstrip("+~") == "hydra.searchpath":
            for item in value.strip("[]").split(","):
                item = item.strip().strip("'\"")
                if item.startswith("file://") or not item.startswith("pkg://"):
                    dirs.append(Path(item.removeprefix("file://")))
    return dirs


def check_group_choices(argv: Iterable[str], conf_dir: Path = CONF_DIR) -> None:
    """Raise a one-line `ConfigError` for `group=option` where the option does not exist."""
    argv = list(argv)
    extra = search_dirs(argv)
    for arg in argv:
        if "=" not in arg or arg.startswith("-"):
            continue
        key, value = arg.split("=", 1)
        group = key.lstrip("+~").split("@", 1)[0]
        if group.startswith("hydra") or "." in group or not (conf_dir / group).is_dir():
            continue
        options = group_options(group, conf_dir, extra)
        for choice in value.split(","):  # multirun lists: model=a,b
            if choice and choice != "null" and choice not in options:
                raise ConfigError(
                    f"{group}={choice!r}: allowed {', '.join(options) or '(no options)'}"
                )


# ---------------------------------------------------------------------------- Hydra's errors


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _override_value(key: str, overrides: Iterable[str]) -> str | None:
    for o in reversed(list(overrides)):  # the last one given wins
        if "=" in o:
            k, v = o.split("=", 1)
            if k.lstrip("+~").split("@", 1)[0] == key:
                return v
    return None


def describe(annotation: Any) -> str:
    """'an integer', 'a number or null', ... for a dataclass field's annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return describe(args[0]) + " or null"
    if typing.get_origin(annotation) in (list, typing.List):  # noqa: UP006
        return "a list"
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def translate(err: BaseException, overrides: Iterable[str]) -> ConfigError:
    """Hydra's or OmegaConf's multi-line composition error as one `ConfigError` line."""
    overrides = list(overrides)
    cause: BaseException = err
    while not isinstance(cause, OmegaConfBaseException) and cause.__cause__ is not None:
        cause = cause.__cause__
    key = getattr(cause, "full_key", None)
    schema = getattr(cause, "object_type", None)
    if isinstance(cause, OmegaConfBaseException) and key:
        value = _override_value(key, overrides)
        shown = repr(value) if value is not None else "(in a config file)"
        first = _one_line(str(cause).split("\n")[0])
        if "not in" in first or "is not in struct" in str(cause):
            allowed = _fields(schema)
            listed = ", ".join(allowed) or "those `python -m unlearn --cfg job` shows"
            return ConfigError(
                f"{key}={shown}: unknown key{did_you_mean(key, allowed)}; allowed keys: {listed}"
            )
        if isinstance(cause, ValidationError):
            annotation = field_type(schema, key.rsplit(".", 1)[-1]) if schema else None
            allowed = describe(annotation) if annotation is not None else first
            return ConfigError(f"{key}={shown}: allowed {allowed}")
        return ConfigError(f"{key}={shown}: {first}")
    text = _one_line(str(err).split("Set the environment variable")[0])
    return ConfigError(f"{text}; allowed a config Hydra can compose (HYDRA_FULL_ERROR=1: details)")


def _fields(schema: Any) -> list[str]:
    return [f.name for f in fields(schema)] if is_dataclass(schema) else []


# ---------------------------------------------------------------------------- composing


def split_argv(argv: list[str]) -> tuple[list[str], str, bool] | None:
    """(overrides, config name, multirun) from the command line, or None for other flags
    (``--help``, ``--cfg``, ...), which Hydra answers itself."""
    overrides: list[str] = []
    name, multirun = "config", False
    args = iter(argv)
    for arg in args:
        if arg in MULTIRUN:
            multirun = True
        elif arg in CONFIG_NAME:
            name = next(args, name)
        elif arg.startswith("--config-name="):
            name = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            return None
        else:
            overrides.append(arg)
    return overrides, name, multirun


def expand(overrides: list[str]) -> Iterator[list[str]]:
    """Single-run override lists covering every swept value once (the others at their first)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    sweeps = [i for i, o in enumerate(parsed) if o.is_sweep_override()]
    if not sweeps:
        yield overrides
        return
    values = {i: list(parsed[i].sweep_string_iterator()) for i in sweeps}
    base = list(overrides)
    for i in sweeps:
        base[i] = f"{parsed[i].get_key_element()}={values[i][0]}"
    yielded = False
    for i in sweeps:
        for value in values[i][0 if not yielded else 1 :]:
            combo = list(base)
            combo[i] = f"{parsed[i].get_key_element()}={value}"
            yield combo
        yielded = True


def compose_run(overrides: list[str], config_name: str = "config") -> DictConfig:
    """The config `python -m unlearn <overrides>` would run, writing where it would write."""
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            cfg = compose(config_name=config_name, overrides=overrides, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as err:
        raise translate(err, overrides) from err
    given = [o.split("=", 1)[0] for o in overrides if "=" in o]
    prefer_given_unit(cfg, given)
    apply_debug(cfg, given)
    with open_dict(cfg):
        cfg.paths.output_dir = str(cfg.hydra.run.dir)
        del cfg["hydra"]
    return cfg


# ---------------------------------------------------------------------------- the checks


def check_model_fits(cfg: DictConfig, data: Any, net: Any) -> None:
    """One forward pass on two training samples (eval mode, no grad, on a copy): the model
    must accept the data's inputs and give one logit per class."""
    import torch

    x = data.batch(torch.arange(min(2, data.num_train)))[0]
    probe = copy.deepcopy(net).eval()
    model = OmegaConf.select(cfg, "model._target_", default="?")
    try:
        with torch.no_grad():
            out = probe(x)
    except ConfigError:  # the model's own one line (e.g. model.in_features against the data)
        raise
    except Exception as err:  # noqa: BLE001 (any failure here means the pair does not fit)
        raise ConfigError(
            f"model._target_={model!r}: does not accept this data's inputs of shape "
            f"{tuple(x.shape[1:])} ({type(err).__name__}: {_one_line(err)[:120]}); "
            "allowed a model whose input matches the data"
        ) from err
    classes = getattr(data, "num_classes", None)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or (classes and out.shape[1] != classes):
        got = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(
            f"model.num_classes={OmegaConf.select(cfg, 'model.num_classes')!r}: the model gives "
            f"outputs of shape {got}; allowed {classes} (the data's number of classes)"
        )


def _instantiate(node: DictConfig, key: str) -> Any:
    """`instantiate`, with a ValueError of the target's own checks as a one-line ConfigError."""
    from hydra.utils import instantiate

    try:
        return instantiate(node)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, ConfigError):
            raise cause from err
        if isinstance(cause, ValueError | TypeError):
            raise ConfigError(f"{key}: {_one_line(cause)}") from err
        raise _as_config_error(key, cause or err) from err


def _as_config_error(key: str, err: BaseException) -> ConfigError:
    """Any other failure while checking `key` (a corrupt file, ...), as one line naming it."""
    return ConfigError(
        f"{key}: cannot be checked ({type(err).__name__}: {_one_line(err)[:160]}); "
        f"allowed a {key} config that loads"
    )


def check_run(
    cfg: DictConfig, data_cache: dict[str, Any] | None = None, output_dir: bool = True
) -> dict | None:
    """Every check `run(cfg)` makes before its first step. Returns the stored results when
    the output folder already holds this very run, finished (nothing is run again).

    `output_dir=False` skips the folder's checks (a multirun job's folder is not known yet).
    """
    import torch

    from unlearn.checkpointing import check_output_dir, find_resume, identity

    validate(cfg)
    _checks_of_others(cfg)
    key = OmegaConf.to_yaml(cfg.data, resolve=True)
    cache = data_cache if data_cache is not None else {}
    if key not in cache:
        data = _instantiate(cfg.data, "data")
        try:
            data.setup("fit")
        except ConfigError:
            raise
        except Exception as err:  # noqa: BLE001 (one line naming the key, never a traceback)
            raise _as_config_error("data", err) from err
        cache[key] = data
    data = cache[key]
    check_data(cfg, data.num_train)
    _check_forget(cfg, data)
    spe = data.stream(cfg.batch_size, cfg.seed, 1).steps_per_epoch
    pre_spe = data.stream(cfg.pretrain_batch_size, cfg.seed, 0).steps_per_epoch
    check_window(
        resolve_steps(cfg.t, cfg.t_epochs, spe), resolve_steps(cfg.N, cfg.N_epochs, pre_spe)
    )
    with torch.random.fork_rng():  # the probe model's initialisation leaves no trace
        torch.manual_seed(cfg.seed)
        check_model_fits(cfg, data, _instantiate(cfg.model, "model"))
    _instantiate(cfg.loss, "loss")
    if not output_dir:
        return None
    out_dir, run_id = Path(cfg.paths.output_dir), identity(cfg)
    finished = check_output_dir(out_dir, run_id)
    if finished is None and cfg.get("checkpoint_every"):
        find_resume(out_dir, run_id)
    return finished


def _checks_of_others(cfg: DictConfig) -> None:
    """The config checks other modules own (the methods' registry, the device)."""
    from unlearn.methods import check_method
    from unlearn.pretrain import check_accelerator

    check_method(cfg)
    check_accelerator(cfg)


def _check_forget(cfg: DictConfig, data: Any) -> None:
    """The forget set must lie inside the training set; PRS needs enough of each split."""
    from unlearn.forget import check_forget
    from unlearn.privacy import check_prs

    check_forget(cfg.forget, data.train_set.y)
    check_prs(cfg, data.train_set.y, data.test_set.y)


def preflight(argv: list[str]) -> dict | None:
    """Check the command line `argv` as `python -m unlearn` would run it.

    Raises `ConfigError` (one line) for any bad input. Returns the stored results when a
    single run's output folder already holds this run, finished; None otherwise.
    """
    check_group_choices(argv)
    split = split_argv(argv)
    if split is None:
        return None
    overrides, name, multirun = split
    data_cache: dict[str, Any] = {}
    parser = OverridesParser.create()
    for arg in overrides:
        try:
            parser.parse_overrides([arg])
        except HydraException as err:
            raise ConfigError(
                f"{arg}: not an override ({_one_line(str(err).split('See https')[0])}); "
                "allowed key=value in Hydra's override grammar"
            ) from err
    combos = [overrides] if not multirun else _sweep_jobs(overrides) or list(expand(overrides))
    configs = [compose_run(combo, name) for combo in combos]
    if not multirun and not str(configs[0].paths.output_dir).strip():
        check_folder(configs[0].paths.output_dir, "hydra.run.dir")  # the key the user typed
    for cfg in configs:
        validate(cfg)  # every config-only error before anything heavy is imported
    wandb_run.warm_up(configs[0])
    if not multirun:
        cfg = configs[0]
        finished = check_run(cfg, data_cache)
        if finished is None:
            _check_folders(cfg, "hydra.run.dir")
        return finished
    for cfg in configs:
        check_run(cfg, data_cache, output_dir=False)
        _check_folders(cfg, None)
    jobs = sweep_jobs(overrides, name)
    if jobs is not None:  # a grid (the `union` sweeper); a search's trials are not known yet
        check_sweep_folder(*jobs)
    return None


def _check_folders(cfg: DictConfig, run_key: str | None) -> None:
    """The run folder (`run_key` names it; None in a multirun) and the caches it fills."""
    if run_key:
        check_folder(cfg.paths.output_dir, run_key)
    if OmegaConf.select(cfg, "pretrain.cache") or (cfg.get("prs") and cfg.privacy.cache):
        check_folder(cfg.paths.cache_dir, "paths.cache_dir")


def sweep_jobs(
    overrides: list[str], config_name: str = "config"
) -> tuple[str, list[list[str]]] | None:
    """(hydra.sweep.dir, every job's overrides) of ``python -m unlearn -m <overrides>``;
    None when the sweeper is not the `union` grid sweeper (an Optuna search, say)."""
    from hydra_plugins.unlearn_sweeper.union_sweeper import expand as expand_jobs

    parsed = OverridesParser.create().parse_overrides(overrides)
    fixed = [str(o.input_line) for o in parsed if not o.is_sweep_override()]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(config_name=config_name, overrides=fixed, return_hydra_config=True)
    sweeper = cfg.hydra.sweeper
    if "union" not in str(sweeper.get("_target_", "")).lower():
        return None
    params = OmegaConf.to_container(sweeper.params) if sweeper.get("params") else None
    grids = OmegaConf.to_container(sweeper.grids) if sweeper.get("grids") else None
    jobs = expand_jobs(params, grids, overrides)  # type: ignore[arg-type]
    return str(cfg.hydra.sweep.dir), jobs


def _sweep_jobs(overrides: list[str]) -> list[list[str]] | None:
    """With ``+sweep=NAME``: the sweep's own jobs (its file may pick ``+experiment``, which
    keys such as ``data.npz`` need), as few as cover every value of every key once;
    None without a sweep."""
    names = [o.split("=", 1)[1] for o in overrides if o.lstrip("+").startswith("sweep=")]
    if not names:
        return None
    from unlearn.sweeps import list_jobs

    rest = [o for o in overrides if not o.lstrip("+").startswith("sweep=")]
    seen: set[str] = set()
    covering = []
    for job in list_jobs(names[0], rest):
        if not set(job) <= seen:
            covering.append(job)
            seen |= set(job)
    return covering
