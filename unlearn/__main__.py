"""`python -m unlearn [overrides]`: compose conf/config.yaml with Hydra and call `run(cfg)`.

Imports stay light until a job runs (no Lightning, torchvision or transformers), so that
``--help``, ``--cfg``, a config error and a dry run answer in about a second.
"""

from __future__ import annotations

import os
import sys

import hydra
from omegaconf import DictConfig

from unlearn import presets, sweeps  # noqa: F401 (--help's presets; `+sweep=NAME`)
from unlearn.config import ConfigError
from unlearn.job import EXIT_CODES, JobContext, run_job
from unlearn.preflight import preflight  # Hydra's compose only: torch comes with the data
from unlearn.results import summary_table


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Run one job; return its `objective` (for a searching sweeper; None when unset)."""
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
        print(summary_table(results))
    else:
        print(f"{status}: {results.get('reason', '')}", file=sys.stderr)
    print(f"results: {cfg.paths.output_dir}/results.json")
    if not ctx.multirun and status != "ok":
        sys.exit(EXIT_CODES.get(str(status), 1))
    objective = results.get("objective")
    return float(objective) if isinstance(objective, int | float) else None


def _preflight() -> None:
    """Check the command line before Hydra writes anything; a finished run prints and stops."""
    try:
        sweeps.check_argv(sys.argv[1:])
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
