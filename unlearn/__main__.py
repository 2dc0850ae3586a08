"""`python -m unlearn [overrides]`: compose conf/config.yaml with Hydra and call `run(cfg)`.

Imports stay light until a job runs (no Lightning, torchvision or transformers), so that
``--help``, ``--cfg``, a config error and a dry run answer in about a second.
"""

from __future__ import annotations

import logging
import os
import sys

import hydra
from omegaconf import DictConfig

from unlearn.config import presets  # noqa: F401 (--help's presets)
from unlearn.config.checks import ConfigError
from unlearn.config.resources import CONF_DIR
from unlearn.experiment import sweeps  # `+sweep=NAME`
from unlearn.experiment.job import (
    EXIT_CODES,
    JobContext,
    out_of_requeues,
    resume_command,
    run_job,
)
from unlearn.experiment.launcher_options import check_launcher_options
from unlearn.experiment.launchers import check_launcher
from unlearn.experiment.preflight import (
    preflight,  # Hydra's compose only: torch comes with the data
)
from unlearn.experiment.results import summary_table
from unlearn.runtime import interrupt, job_signals, storage
from unlearn.runtime.interrupt import Interrupted


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float | str:
    """Run one job; return its `objective` for a searching sweeper, else its status (which
    the `union` sweeper counts)."""
    ctx = JobContext.from_hydra()
    # every launcher calls this function, not `__main__` (submitit's and joblib's workers)
    with job_signals.handled() as replaced:
        try:
            results = run_job(cfg, ctx)  # failures and divergence become a status, never a crash
        except ConfigError as err:  # a single run's bad config (a multirun job records it)
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except Interrupted as err:  # saved and recorded; a sweep stops, submitit requeues
            refusal = job_signals.hand_over(err, replaced)  # requeued: exits in there
            if refusal is None:
                job = f" ({ctx.name} of {ctx.sweep_dir})" if ctx.multirun else ""
                resume = getattr(err, "results", {}).get("resume") or resume_command(cfg, ctx)
                print(f"interrupted by {err.where()}{job}; resume: {resume}", file=sys.stderr)
                sys.exit(err.exit_code)
            results = out_of_requeues(cfg, err, refusal, _launcher())
            interrupt.clear()  # acted on: recorded, the job ends with its results
    status = results.get("status")
    if status == "ok":
        print(summary_table(results, _choices()))
        if "v_order" in results and not results.get("methods"):  # twin.order_noise=true
            ratio = results.get("v_order_ratio", float("nan"))
            print(
                f"v_order (another exact retrain) {results['v_order']:.4g}; v / v_order {ratio:.4g}"
            )
        if results.get("methods"):  # unlearn.compare: every method of the window
            from unlearn.experiment.compare import methods_table

            print(methods_table(results))
    elif not results.get("storage"):  # a failed write says it all in its own line below
        print(f"{status}: {results.get('reason', '')}", file=sys.stderr)
    unwritten = storage.message(results, cfg.paths.output_dir, resume_command(cfg, ctx))
    if unwritten:  # what failed, what is kept, the command that resumes: one line
        print(unwritten, file=sys.stderr)
        status = "unwritten" if status == "ok" else status
    else:
        print(f"results: {cfg.paths.output_dir}/results.json")
    if interrupt.pending() is not None:  # a signal while the results were written: stop here
        signum = int(interrupt.pending() or 0)
        print(
            f"interrupted by {Interrupted(signum).signal_name} after {ctx.name} finished; "
            f"resume: {resume_command(cfg, ctx)}",
            file=sys.stderr,
        )
        sys.exit(128 + signum)
    if not ctx.multirun and status != "ok":
        sys.exit(EXIT_CODES.get(str(status), 1))
    objective = results.get("objective")
    if isinstance(objective, int | float) and not isinstance(objective, bool):
        return float(objective)  # a searching sweeper (Optuna) minimises it
    return str(status)  # a multirun's sweeper counts the jobs that did not finish


def _choices() -> dict[str, str] | None:
    """The config options Hydra chose for this run (model, data, ...), for the summary."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return dict(HydraConfig.get().runtime.choices)
    except ValueError:  # no Hydra context (called in-process)
        return None


def _hold_folder() -> None:
    """One process per run (or sweep) folder: lock it before Hydra writes into it."""
    from unlearn.experiment.preflight import command_folder
    from unlearn.runtime.run_lock import hold

    found = command_folder(sys.argv[1:])
    if found is None:
        return
    folder, key, pin = found
    hold(folder, key)
    if pin:  # Hydra resolves ${now:...} again: make it use the folder that is locked
        sys.argv.append(pin)


def _launcher() -> dict:
    """The launcher's settings (timeout_min, max_num_timeout, ...) of this job."""
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(HydraConfig.get().launcher, resolve=True)  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 (no Hydra context, or a value that does not resolve)
        return {}


def _preflight() -> None:
    """Check the command line before Hydra writes anything; a finished run prints and stops."""
    try:
        sweeps.check_argv(sys.argv[1:])
        check_launcher(sys.argv[1:])
        check_launcher_options(sys.argv[1:])
        finished = preflight(sys.argv[1:])
        if finished is None:
            _hold_folder()
    except ConfigError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    if finished is not None:
        if finished.get("status") == "ok":
            print(summary_table(finished))
        else:
            print(f"{finished.get('status')}: {finished.get('reason', '')}", file=sys.stderr)
        where = finished.get("config", {}).get("paths", {}).get("output_dir", "")
        print(f"results: {where}/results.json (finished earlier with this config; not run again)")
        sys.exit(0)


if __name__ == "__main__":
    # A full disk also stops the log file: its handler must not print a traceback per line
    # (`--- Logging error ---`); the run's own line says what failed.
    logging.raiseExceptions = False
    interrupt.install()  # SIGTERM → 143, SIGINT → 130, with a line and a resumable state
    try:
        _preflight()
        main()
    except Interrupted as err:  # outside a job: the checks, Hydra's setup, between jobs
        print(
            f"interrupted by {err.signal_name} outside a run (checks, setup or between jobs); "
            "nothing in progress was lost: the same command continues",
            file=sys.stderr,
        )
        sys.exit(err.exit_code)
