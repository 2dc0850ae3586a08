"""UnionSweeper: Hydra's basic sweeper over a union of grids, recording the jobs it launches.

A paper grid is often not one Cartesian product: Table 4 pairs CIFAR-10 with
γ ∈ {0, …, 20} and CIFAR-100 with γ ∈ {0, …, 250}. So besides BasicSweeper's ``params``
this sweeper takes ``grids``, a list of products written exactly like ``params``
(``key: comma-separated values``); the jobs are the grids' jobs one after the other.
``params`` and the command line apply to every grid (a command-line key replaces the
grid's), so with no ``grids`` it launches what BasicSweeper would.

Before launching, it writes ``jobs.json`` into the sweep folder: every job's number and
overrides, so that an analysis can tell a job that has not finished from one that was
never asked for. A job that fails does not stop the later batches; the sweep raises
the first failure once every batch has run. Except when the failure is the machine's:
the first ``probe_jobs`` jobs run first (under a queueing launcher, SLURM, every job is
submitted at once and the launcher looks at the first ``probe_jobs`` to finish
instead: hydra_plugins/unlearn_sweeper/slurm_launcher.py), and when every one of them
failed with the same environment problem (results.json ``"environment": true``: missing
data, no GPU, an unreachable hub) the sweep stops there with that one line and exit
status 2, instead of failing its other jobs one by one.

Example (a sweep config, ``# @package _global_``)::

    hydra:
      sweeper:
        grids:
          - {+experiment: "cifar10_resnet18,cifar10_vgg19", gamma: "0,1,5,10,15,20"}
          - {+experiment: "cifar100_resnet18,cifar100_vgg19", gamma: "0,50,100,150,200,250"}
        params:
          N_epochs: 0,10,20,30,40,50
"""

# no `from __future__ import annotations`: Hydra loads plugins outside sys.modules, where
# a dataclass cannot resolve string annotations
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035 (OmegaConf reads typing)

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

log = logging.getLogger(__name__)

# statuses `python -m unlearn` returns for a job that did not finish (unlearn.experiment.job)
# ("interrupted": a SLURM job stopped by a signal and not requeued; locally an interrupt
# stops the sweep instead)
UNFINISHED = ("failed", "refused", "unwritten", "interrupted")


@dataclass
class UnionSweeperConf:
    _target_: str = "hydra_plugins.unlearn_sweeper.union_sweeper.UnionSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    grids: Optional[List[Dict[str, Any]]] = None  # noqa: UP006, UP045
    probe_jobs: int = 2  # jobs run first; all failing alike for the environment stops it


ConfigStore.instance().store(
    group="hydra/sweeper", name="union", node=UnionSweeperConf, provider="unlearn"
)


def expand(
    params: Mapping[str, Any] | None,
    grids: Sequence[Mapping[str, Any]] | None,
    arguments: Sequence[str],
    config_loader: Any = None,
) -> list[list[str]]:
    """Every job's overrides: for each grid, the product of params, grid and arguments."""
    parser = OverridesParser.create(config_loader=config_loader)
    jobs: list[list[str]] = []
    for grid in grids or [{}]:
        merged = {**dict(params or {}), **dict(grid or {})}
        lines = [f"{k}={v}" for k, v in merged.items()] + list(arguments)
        jobs += BasicSweeper.split_arguments(parser.parse_overrides(lines), None)[0]
    return jobs


def environment_failure(returns: Sequence[JobReturn]) -> Optional[str]:  # noqa: UP045
    """The one reason, when every job in `returns` failed with the same environment
    problem (as its results.json says); None otherwise."""
    return environment_reason([_results_of(ret) for ret in returns])


def environment_reason(results: Sequence[Optional[Dict[str, Any]]]) -> Optional[str]:  # noqa: UP006, UP045
    """The one reason, when every results.json in `results` is a failure for the same
    environment problem; None otherwise (also when one is missing)."""
    reasons = set()
    for one in results:
        if not one or one.get("status") != "failed" or not one.get("environment"):
            return None
        reasons.add(str(one.get("reason", "")))
    return reasons.pop() if len(reasons) == 1 else None


def _results_of(ret: JobReturn) -> Optional[Dict[str, Any]]:  # noqa: UP006, UP045
    out = OmegaConf.select(ret.hydra_cfg or {}, "hydra.runtime.output_dir", default=None)
    try:
        return json.loads((Path(str(out)) / "results.json").read_text()) if out else None
    except (OSError, ValueError):
        return None


def compose_once(config_loader: Any) -> Dict[Any, Any]:  # noqa: UP006
    """Make `config_loader` compose each job once: Hydra's sweeper composes every job to
    validate it and then the launcher composes it again (grid160: 2 × 160 compositions
    before and while running). The validated config is kept and handed to the launcher's
    call for the same overrides. Returns the store (emptied by each launch). For Hydra's
    in-process launcher only: one that ships the loader to workers would ship the store."""
    if getattr(config_loader, "_unlearn_compose_once", None) is not None:
        return config_loader._unlearn_compose_once
    original = config_loader.load_sweep_config
    store: Dict[Any, Any] = {}  # noqa: UP006

    def load_sweep_config(master_config: Any, sweep_overrides: List[str]) -> Any:  # noqa: UP006
        key = tuple(sweep_overrides)
        if key in store:
            return store.pop(key)
        cfg = original(master_config, sweep_overrides)
        store[key] = cfg
        return cfg

    config_loader.load_sweep_config = load_sweep_config
    config_loader._unlearn_compose_once = store
    return store


def write_jobs(sweep_dir: Path, jobs: Sequence[Sequence[str]]) -> None:
    """jobs.json in the sweep folder (atomically): [{"num": i, "overrides": [...]}, ...]."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps([{"num": i, "overrides": list(o)} for i, o in enumerate(jobs)], indent=1)
    fd, tmp = tempfile.mkstemp(prefix=".jobs.json.", dir=sweep_dir)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)  # what open() would give, not mkstemp's 0600
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, sweep_dir / "jobs.json")


def unfinished_jobs(returns: Sequence[Sequence[JobReturn]]) -> list[JobReturn]:
    """The jobs that ran to the end without finishing their measurement (failed, refused)."""
    return [
        r
        for batch in returns
        for r in batch
        if r.status == JobStatus.COMPLETED and r.return_value in UNFINISHED
    ]


class UnionSweeper(BasicSweeper):
    """BasicSweeper over `params` × each of `grids`, in order (see the module docstring)."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        grids: list[dict[str, str]] | None = None,
        probe_jobs: int = 2,
    ) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.grids = [dict(g) for g in grids] if grids else None
        self.probe_jobs = max(0, int(probe_jobs))

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        jobs = expand(self.params, self.grids, arguments, self.hydra_context.config_loader)
        # a queueing launcher (SLURM) gets every job at once and does the early stop itself
        queueing = getattr(self.launcher, "queueing", False)
        if queueing:
            self.launcher.probe_jobs = self.probe_jobs  # type: ignore[attr-defined]
        probe = self.probe_jobs if len(jobs) > self.probe_jobs and not queueing else 0
        self.overrides = [jobs[:probe]] if probe else []
        self.overrides += list(self.split_overrides_to_chunks(jobs[probe:], self.max_batch_size))
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        write_jobs(sweep_dir, jobs)
        log.info("%d jobs (jobs.json in %s)", len(jobs), sweep_dir)

        returns: list[Sequence[JobReturn]] = []
        failed: list[JobReturn] = []
        first = 0
        # in-process launchers only: joblib and submitit pickle the loader to their workers
        in_process = type(self.launcher).__name__ == "BasicLauncher"
        composed = compose_once(self.hydra_context.config_loader) if in_process else {}
        while not self.is_done():
            batch = self.get_job_batch()
            tic = time.perf_counter()
            self.validate_batch_is_legal(batch)
            log.debug("validated %d jobs in %.2f s", len(batch), time.perf_counter() - tic)
            results = self.launcher.launch(batch, initial_job_idx=first)
            composed.clear()  # a launcher that composes elsewhere (joblib, SLURM) left them
            failed += [r for r in results if r.status == JobStatus.FAILED]
            if first == 0 and probe and len(batch) == probe:
                reason = environment_failure(results)
                if reason is not None:
                    print(
                        f"error: sweep stopped: its first {probe} jobs failed alike, "
                        f"for the environment: {reason}",
                        file=sys.stderr,
                    )
                    sys.exit(2)
            first += len(batch)
            returns.append(results)
        if failed:
            log.error("%d of %d jobs raised; the first error follows", len(failed), len(jobs))
            _ = failed[0].return_value  # raises the job's exception
        unfinished = unfinished_jobs(returns)
        if unfinished:  # a sweep whose jobs were refused or failed does not exit 0
            log.error(
                "%d of %d jobs did not finish (failed or refused; `python -m unlearn.analyze` "
                "lists them with their reasons)",
                len(unfinished),
                len(jobs),
            )
            sys.exit(1)
        return returns
