"""``debug=fast``: shrink whatever the config says to a few steps on a tiny subset.

A preset (``+experiment=cifar10_resnet18``) comes after the config's own defaults list, so
a config group could not override its step counts; the `debug` node (conf/debug/fast.yaml)
is applied here instead, after composition, where a command line's config is made ready to
run (`unlearn.experiment.preflight.compose_run` and each job,
`unlearn.experiment.job.run_job`; in-process callers of `unlearn.experiment.run.run` call it
themselves). Keys the command line gave are left alone; keys a sweep or search file sets for
its jobs (``hydra.sweeper.params`` and ``grids``) are not the command line's, so
``-m +sweep=NAME debug=fast`` runs every job tiny (`debug_given`).
"""

from __future__ import annotations

from collections.abc import Iterable

from omegaconf import DictConfig, OmegaConf, open_dict

from unlearn.config.fields import check_tree
from unlearn.config.resources import CONF_DIR, SWEEP_DIR

PRESET_FILES = {"sweep": SWEEP_DIR, "search": CONF_DIR / "search"}  # `+sweep=NAME`, `+search=`


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def preset_sweep_keys(overrides: Iterable[str]) -> set[str]:
    """The keys the sweep or search file named in `overrides` varies for its jobs."""
    keys: set[str] = set()
    for o in overrides:
        folder = PRESET_FILES.get(_key(o))
        path = folder / f"{o.split('=', 1)[-1]}.yaml" if folder and "=" in o else None
        if path is None or not path.is_file():
            continue
        sweeper = OmegaConf.select(OmegaConf.load(path), "hydra.sweeper") or {}
        for node in [sweeper.get("params") or {}, *(sweeper.get("grids") or [])]:
            keys |= {str(k).lstrip("+~") for k in node}
    return keys


def debug_given(overrides: Iterable[str], argv: Iterable[str] = ()) -> list[str]:
    """The keys of a job's `overrides` that win over ``debug=fast``: all of them, except
    those its sweep or search file set, unless the command line `argv` typed them too."""
    overrides = [o for o in overrides if "=" in o]
    typed = {_key(a) for a in argv if "=" in a}
    preset = preset_sweep_keys(overrides) - typed
    return [o.split("=", 1)[0] for o in overrides if _key(o) not in preset]


def apply_debug(cfg: DictConfig, given: Iterable[str] = ()) -> None:
    """Shrink `cfg` in place as its `debug` node says (nothing when it is null)."""
    node = cfg.get("debug")
    if not node:
        return
    check_tree(node, "debug.")  # its own ranges first, under its own keys (not sigma.max_iter)
    given = {g.lstrip("+~") for g in given}
    steps = int(node.steps)
    sets = {
        "N": steps,
        "N_epochs": None,
        "t": steps,
        "t_epochs": None,
        "track_every": max(1, steps // 2),
        "verify_every": max(1, steps // 2),
        "checkpoint_every": None,
        "batch_size": min(int(cfg.batch_size), int(node.batch_size)),
        "pretrain_batch_size": min(int(cfg.pretrain_batch_size), int(node.batch_size)),
        "sigma.max_iter": min(int(cfg.sigma.max_iter), int(node.sigma_max_iter)),
    }
    for key in ("train_subset", "test_subset"):
        if key in cfg.data:
            current = cfg.data[key]
            sets[f"data.{key}"] = min(int(current or node[key]), int(node[key]))
    skip = set(given)
    if {"N", "N_epochs"} & given:
        skip |= {"N", "N_epochs"}
    if {"t", "t_epochs"} & given:
        skip |= {"t", "t_epochs"}
    with open_dict(cfg):
        for key, value in sets.items():
            if key not in skip:
                _set(cfg, key, value)


def _set(cfg: DictConfig, key: str, value: object) -> None:
    node = cfg
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
