"""`python -m unlearn [overrides]`: compose conf/config.yaml with Hydra and call `run(cfg)`."""

from __future__ import annotations

import os
import sys

import hydra
from omegaconf import DictConfig

from unlearn.config import ConfigError, prefer_given_unit
from unlearn.preflight import check_group_choices
from unlearn.results import summary_table
from unlearn.run import run


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    given = [o.split("=", 1)[0] for o in HydraConfig.get().overrides.task if "=" in o]
    try:
        prefer_given_unit(cfg, given)
        results = run(cfg)
    except ConfigError as err:
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    print(summary_table(results))
    print(f"results: {cfg.paths.output_dir}/results.json")


if __name__ == "__main__":
    try:
        check_group_choices(sys.argv[1:])
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    main()
