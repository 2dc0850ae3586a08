"""`python -m unlearn [overrides]`: compose conf/config.yaml with Hydra and call `run(cfg)`."""

from __future__ import annotations

import os
import sys

import hydra
from omegaconf import DictConfig

from unlearn import sweeps  # registers `+sweep=NAME` (multirun_sweeps/*.yaml)
from unlearn.config import ConfigError
from unlearn.job import EXIT_CODES, JobContext, run_job
from unlearn.launchers import check_launcher
from unlearn.preflight import preflight
from unlearn.resources import CONF_DIR
from unlearn.results import summary_table


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    ctx = JobContext.from_hydra()
    try:
        results = run_job(cfg, ctx)  # failures and divergence become a status, never a crash
    except ConfigError as err:  # a single run's bad config (a multirun job records it)
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    status = results.get("status")
    if status == "ok":
        print(summary_table(results, _choices()))
    else:
        print(f"{status}: {results.get('reason', '')}", file=sys.stderr)
    print(f"results: {cfg.paths.output_dir}/results.json")
    if not ctx.multirun and status != "ok":
        sys.exit(EXIT_CODES.get(str(status), 1))


def _choices() -> dict[str, str] | None:
    """The config options Hydra chose for this run (model, data, ...), for the summary."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return dict(HydraConfig.get().runtime.choices)
    except ValueError:  # no Hydra context (called in-process)
        return None


def _preflight() -> None:
    """Check the command line before Hydra writes anything; a finished run prints and stops."""
    try:
        sweeps.check_argv(sys.argv[1:])
        check_launcher(sys.argv[1:])
        finished = preflight(sys.argv[1:])
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
    _preflight()
    main()
