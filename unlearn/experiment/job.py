"""One job of `python -m unlearn`, isolated: whatever happens, it leaves a results.json.

A sweep of 160 jobs must not die at job 37. So `run_job` turns what can go wrong into a
status in the job's results.json and returns normally:

- ``"diverged"``: the loss became NaN or infinite (`unlearn.runtime.divergence`); the step,
  the phase and the reason are recorded. A diverged run is a finished measurement.
- ``"failed"``: any exception; its type, message and traceback are recorded.
- a bad config (`ConfigError`) in a single run propagates, so that `python -m unlearn`
  prints one line and writes nothing; inside a multirun it is recorded as ``"refused"``,
  unless the failure is the machine's (`is_environment`: missing data, no GPU, no
  network): that is ``"failed"`` with ``"environment": true``, so that a sweep can stop
  when its first jobs all fail alike (hydra_plugins/unlearn_sweeper).
- ``"interrupted"``: SIGTERM or SIGINT (`unlearn.runtime.interrupt`); the phase, the step, what
  was saved and the command that resumes are recorded, and the interrupt propagates
  (a multirun stops).
- results.json that cannot be written (a full disk): the results are returned all the
  same (the caller prints them) with ``write_error`` set; nothing raises a second time.

W&B is finished in every case (`unlearn.loggers.wandb_run.finish`), so the jobs of a multirun
never pile into one W&B run.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from unlearn.config.checks import ConfigError, prefer_given_unit
from unlearn.config.debug import apply_debug, debug_given
from unlearn.config.errors import EnvironmentProblem
from unlearn.experiment.results import ResultsNotWritten, write_results
from unlearn.loggers import wandb_run
from unlearn.runtime import devices, storage
from unlearn.runtime.interrupt import Interrupted

log = logging.getLogger(__name__)

EXIT_CODES = {"ok": 0, "failed": 1, "refused": 2, "diverged": 3, "unwritten": 4}


@dataclass(frozen=True)
class JobContext:
    """What a job knows of the Hydra run around it (plain values: testable without Hydra)."""

    multirun: bool = False
    sweep: str | None = None  # NAME of ``+sweep=NAME``
    sweep_dir: str | None = None
    job_num: int | None = None
    overrides: tuple[str, ...] = ()
    launcher: str = ""  # the launcher's ``_target_``
    argv: tuple[str, ...] = ()  # the command line, for the command that resumes
    choices: tuple[tuple[str, str], ...] = ()  # (group, option) picked, e.g. ("model", "mlp")

    @classmethod
    def from_hydra(cls) -> JobContext:
        """The context of the job Hydra is running now."""
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        multirun = hc.mode == RunMode.MULTIRUN
        return cls(
            multirun=multirun,
            sweep=hc.runtime.choices.get("sweep"),
            sweep_dir=str(hc.sweep.dir) if multirun else None,
            job_num=int(hc.job.num) if multirun else None,
            overrides=tuple(hc.overrides.task),
            launcher=str(OmegaConf.select(hc, "launcher._target_", default="") or ""),
            argv=tuple(sys.argv[1:]),
            choices=tuple((str(k), str(v)) for k, v in hc.runtime.choices.items() if v is not None),
        )

    @property
    def name(self) -> str:
        """'job 7' in a multirun, 'run' otherwise (for log lines)."""
        return f"job {self.job_num}" if self.multirun else "run"

    @property
    def given(self) -> list[str]:
        """The keys this job's command line (or sweep) set explicitly."""
        return [o.split("=", 1)[0] for o in self.overrides if "=" in o]


def _knob(cfg: DictConfig, key: str) -> Any:
    try:
        return OmegaConf.select(cfg, key, default=None)
    except Exception:  # noqa: BLE001 (a value that does not resolve is reported as missing)
        return None


def _config(cfg: DictConfig) -> dict[str, Any]:
    try:
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 (keep what was written when it does not resolve)
        return OmegaConf.to_container(cfg, resolve=False)  # type: ignore[return-value]


def is_environment(err: BaseException) -> bool:
    """True for failures that every job on this machine would share (not the config's)."""
    if isinstance(err, EnvironmentProblem | ConnectionError | urllib.error.URLError):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and "CUDA" in text and "available" in text


def failure_results(cfg: DictConfig, status: str, reason: str, **extra: Any) -> dict[str, Any]:
    """results.json of a run that did not finish: its status, why, and the knobs that place
    it in its sweep (the metrics are absent)."""
    results: dict[str, Any] = {"status": status, "reason": reason, **extra}
    for key in ("N", "N_epochs", "t", "t_epochs", "lr", "batch_size", "gamma", "seed"):
        results[key] = _knob(cfg, key)
    try:
        from unlearn.experiment.checkpointing import identity  # torch: not at `--help`

        results["config_hash"] = identity(cfg)
    except Exception:  # noqa: BLE001 (no identity: the run is simply not recognised later)
        pass
    results["config"] = _config(cfg)
    return results


def _write(cfg: DictConfig, results: dict[str, Any]) -> None:
    """Write a failure record; never raises (a full disk must not hide the first error)."""
    try:
        write_results(Path(cfg.paths.output_dir) / "results.json", results)
    except FileExistsError:  # a finished run's results.json stays as it is
        log.warning("results.json of a finished run left as it is")
    except Exception as err:  # noqa: BLE001 (the caller prints it: one line, not two)
        results["write_error"] = f"{type(err).__name__}: {err}"
        results["write_reason"] = storage.reason(err)
        results.setdefault("kept", kept_on_disk(cfg))


def kept_on_disk(cfg: DictConfig, finished: bool = False) -> str:
    """What a rerun of a run stopped by a failed write finds in its folder."""
    from unlearn.experiment.checkpointing import CHECKPOINT_DIR, LAST, checkpoint_path

    ckpt = f"{CHECKPOINT_DIR}/{LAST}"
    if checkpoint_path(str(_knob(cfg, "paths.output_dir"))).exists():
        if finished:
            return f"{ckpt} of the finished window (a rerun only tests and writes the file)"
        return f"{ckpt} (a rerun resumes there)"
    if finished and not _knob(cfg, "checkpoint_every"):
        return "no window checkpoint (checkpoint_every=null: a rerun trains the window again)"
    return "no window checkpoint (a rerun starts the window again)"


def resume_command(cfg: DictConfig, ctx: JobContext) -> str:
    """The command that continues this run, or this job's sweep."""
    from unlearn.runtime.interrupt import resume_command as command
    from unlearn.runtime.job_signals import in_submitit

    out = str(_knob(cfg, "paths.output_dir"))
    if in_submitit():  # argv is submitit's worker's: this job alone, into its folder
        return command(ctx.overrides, out)
    return command(ctx.argv, out, ctx.sweep_dir)


def _prepare_wandb(cfg: DictConfig, ctx: JobContext) -> None:
    """Hand W&B this job's facts as plain values (name, group, tags, a stable run id)."""
    if not wandb_run.enabled(cfg):
        return
    try:
        from unlearn.experiment.checkpointing import identity  # torch: not at `--help`

        what = identity(cfg)
    except Exception:  # noqa: BLE001 (a config that does not resolve: the folder alone)
        what = ""
    wandb_run.prepare(
        cfg,
        identity=what,
        multirun=ctx.multirun,
        sweep=ctx.sweep,
        sweep_dir=ctx.sweep_dir,
        job_num=ctx.job_num,
        overrides=ctx.overrides,
        choices=dict(ctx.choices),
    )


def out_of_requeues(
    cfg: DictConfig, err: BaseException, refusal: str, launcher: dict[str, Any]
) -> dict[str, Any]:
    """results.json of a submitit job whose time limit came once more than it may requeue.

    Still ``interrupted`` (the step is saved; the command in ``resume`` continues it), but
    saying why no requeue followed, not as a generic failure."""
    from unlearn.experiment.results import read_results

    out = Path(cfg.paths.output_dir) / "results.json"
    results = getattr(err, "results", None) or read_results(out)
    limit, most = launcher.get("timeout_min"), launcher.get("max_num_timeout")
    results["reason"] = (
        f"time limit: out of requeues ({refusal.rstrip('.')}; hydra.launcher.timeout_min="
        f"{limit}, hydra.launcher.max_num_timeout={most}); {results.get('reason', '')}"
    )
    results.update(requeues_exhausted=True, timeout_min=limit, max_num_timeout=most)
    _write(cfg, results)
    log.error("%s; resume: %s", results["reason"], results.get("resume"))
    return results


def run_job(
    cfg: DictConfig, ctx: JobContext, run_fn: Callable[[DictConfig], dict] | None = None
) -> dict[str, Any]:
    """Run `run_fn(cfg)` (default `experiment.run.run`) as one isolated job; returns results.

    Only a bad config of a single run, and interrupts (Ctrl-C, SIGTERM), propagate.
    """
    _prepare_wandb(cfg, ctx)
    try:
        results = _attempt(cfg, ctx, run_fn)
    except BaseException:
        wandb_run.finish(cfg, None)
        raise
    wandb_run.finish(cfg, results)
    return results


def _attempt(
    cfg: DictConfig, ctx: JobContext, run_fn: Callable[[DictConfig], dict] | None
) -> dict[str, Any]:
    from unlearn.runtime.divergence import Diverged  # torch: imported when a job runs, not at start

    if run_fn is None:
        from unlearn.experiment.run import run as run_fn  # Lightning: not at `--help`

    start = time.perf_counter()
    try:
        if ctx.launcher.endswith("JoblibLauncher") and ctx.sweep_dir:
            devices.pin_to_own_gpu(cfg, ctx.sweep_dir)  # hydra/launcher=local_gpus
        prefer_given_unit(cfg, ctx.given)
        apply_debug(cfg, debug_given(ctx.overrides, ctx.argv))  # a sweep's keys lose
        return run_fn(cfg)
    except ConfigError as err:
        if not ctx.multirun:
            raise
        env = is_environment(err)
        results = failure_results(
            cfg,
            "failed" if env else "refused",
            f"{type(err).__name__}: {err}",
            error_type=type(err).__name__,
            environment=env,
        )
        log.error("%s: bad config: %s", ctx.name, err)
    except Interrupted as err:
        results = failure_results(
            cfg, "interrupted", f"stopped by {err.where()}", **err.facts(),
            resume=resume_command(cfg, ctx),
        )  # fmt: skip
        results["wall_time_s"] = time.perf_counter() - start
        _write(cfg, results)
        err.results = results  # type: ignore[attr-defined]
        raise
    except ResultsNotWritten as err:  # the run finished; only its file is missing
        results = err.results
        results["write_error"] = f"{type(err.cause).__name__}: {err.cause}"
        results["write_reason"] = storage.reason(err.cause)
        results["kept"] = kept_on_disk(cfg, finished=True)
        return results  # the caller prints the one line
    except Diverged as err:
        results = failure_results(
            cfg, "diverged", err.reason, step=err.step, phase=err.phase, loss=err.value
        )
        log.warning("%s diverged: %s", ctx.name, err.reason)
    except Exception as err:  # noqa: BLE001 (any failure is recorded, the sweep goes on)
        if storage.is_storage(err):  # the disk's, not the code's: one line, no traceback
            failure = (
                err.failure
                if isinstance(err, storage.WriteFailed)
                else f"{getattr(err, 'filename', None) or 'a file'} not written "
                f"({storage.reason(err)})"
            )
            kept = err.kept if isinstance(err, storage.WriteFailed) else kept_on_disk(cfg)
            results = failure_results(
                cfg, "failed", failure, error_type=type(err).__name__, storage=failure, kept=kept
            )
        else:
            results = failure_results(
                cfg,
                "failed",
                f"{type(err).__name__}: {err}",
                error_type=type(err).__name__,
                traceback=traceback.format_exc(),
                environment=is_environment(err),
            )
            log.exception("%s failed", ctx.name)
    results["wall_time_s"] = time.perf_counter() - start
    _write(cfg, results)
    return results
