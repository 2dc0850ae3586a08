"""Put a sweep's analysis into W&B: one run of job type "analysis" in the sweep's group.

It carries the figures, summary.csv as a table and report.md, beside the sweep's job
runs. Offline unless the jobs were online: files in ``SWEEP_DIR/wandb/``.
"""

from __future__ import annotations

import csv
import logging
import os
from typing import Any

from unlearn.analyze.report import Analysis

log = logging.getLogger(__name__)


def wandb_settings(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """project, group and mode of the sweep's W&B runs; None if its jobs did not use W&B."""
    for row in rows:
        node = ((row.get("config") or {}).get("logger") or {}).get("wandb")
        if isinstance(node, dict) and str(node.get("_target_", "")).endswith("WandbLogger"):
            return {
                "project": node.get("project") or "unlearn",
                "group": node.get("group"),
                "mode": node.get("mode") or "offline",
            }
    return None


def log_analysis(analysis: Analysis, mode: str | None = None) -> bool:
    """Log the analysis as its own W&B run; False (and nothing written) when W&B is unused."""
    settings = wandb_settings(analysis.rows)
    if settings is None and mode is None:
        return False
    settings = settings or {"project": "unlearn", "group": None, "mode": "offline"}
    os.environ.setdefault("WANDB_SILENT", "true")
    import wandb

    run = wandb.init(
        project=settings["project"],
        group=settings["group"],
        mode=mode or settings["mode"],
        job_type="analysis",
        name="analysis",
        dir=str(analysis.out_dir),
    )
    try:
        for path in analysis.figures:
            run.log({f"figures/{path.stem}": wandb.Image(str(path))})
        with analysis.summary.open() as f:
            table = list(csv.reader(f))
        if table:
            run.log({"summary": wandb.Table(columns=table[0], data=table[1:])})
        run.save(str(analysis.report), base_path=str(analysis.out_dir), policy="now")
    finally:
        wandb.finish()
    return True
