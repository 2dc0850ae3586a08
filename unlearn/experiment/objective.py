"""What a run returns to a searching sweeper (Optuna): one number from its results.

``objective.metric`` names a results.json key (``unlearning_error``, ...); with
``objective.max_acc_drop = d`` the paper's practical question becomes a constraint: a run
whose test accuracy is more than d points below the same run at γ = 0 is infeasible, and
scores ``INFEASIBLE + its shortfall`` (so the search still tells nearly-feasible from far).
The γ = 0 reference is an ordinary run in ``<output_dir>/../gamma0-<config digest>``, shared
by a sweep's trials (computed once, under a lock; a finished one is read back, never rerun).

Example (conf/search/gamma_acc.yaml)::

    python -m unlearn -m +search=gamma_acc
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

INFEASIBLE = 1e12  # a constraint-breaking trial's score (plus how far it falls short)


def reference_config(cfg: DictConfig) -> DictConfig:
    """`cfg` at γ = 0, unscored, without a logger, in its own folder beside `cfg`'s."""
    from unlearn.experiment.checkpointing import identity  # torch: not at `--help`

    ref = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    with open_dict(ref):
        ref.gamma = 0.0
        ref.objective.metric = None
        ref.objective.max_acc_drop = None
        ref.logger = None
        ref.paths.output_dir = str(cfg.paths.output_dir)  # as resolved in the job
    with open_dict(ref):
        where = Path(str(cfg.paths.output_dir)).parent / f"gamma0-{identity(ref)[:12]}"
        ref.paths.output_dir = str(where)
    return ref


def reference_accuracy(cfg: DictConfig, run_fn: Callable[[DictConfig], dict]) -> float:
    """Test accuracy of `cfg` at γ = 0 (run once per sweep; later trials read it back)."""
    from filelock import FileLock

    ref = reference_config(cfg)
    where = Path(str(ref.paths.output_dir))
    where.mkdir(parents=True, exist_ok=True)
    with FileLock(str(where / ".lock")):
        results = run_fn(ref)
    return float(results["test_acc"])


def objective_value(
    cfg: DictConfig, results: dict[str, Any], run_fn: Callable[[DictConfig], dict]
) -> float | None:
    """The number `objective` asks for (None when `objective.metric` is null).

    `run_fn` makes the γ = 0 reference run when `objective.max_acc_drop` is set; `run`
    passes itself, so this module never imports the run.
    """
    node = cfg.get("objective") or {}
    metric = node.get("metric")
    if not metric or results.get("status") != "ok":
        return None  # a failed trial: the sweeper records it as failed
    value = float(results[metric])
    drop = node.get("max_acc_drop")
    if drop is None:
        return value
    floor = reference_accuracy(cfg, run_fn) - float(drop) / 100.0
    shortfall = floor - float(results["test_acc"])
    if shortfall > 0:
        log.info("objective: test accuracy %.2f %% points under the floor", 100 * shortfall)
        return INFEASIBLE + 100 * shortfall
    return value
