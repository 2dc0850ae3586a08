"""Put a sweep's analysis into W&B: one run of job type "analysis" in the sweep's group.

It carries the figures, summary.csv as a table and report.md (copies, not symlinks),
beside the sweep's job runs. Offline unless the jobs were online: files in
``SWEEP_DIR/wandb/``. One analysis run per sweep folder: its id is kept in
``SWEEP_DIR/wandb/analysis_id``, so a re-analysis updates the same W&B run (``resume``)
and replaces its earlier offline copy instead of adding another run.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from unlearn.analyze.report import Analysis
from unlearn.loggers.wandb_run import copy_into, fast_settings

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
                "entity": node.get("entity"),
            }
    return None


def analysis_id(sweep_dir: Path) -> str:
    """The sweep folder's one analysis run id (made on first use, kept in the folder)."""
    path = sweep_dir / "wandb" / "analysis_id"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    run_id = f"analysis-{uuid.uuid4().hex[:12]}"
    path.write_text(run_id + "\n")
    return run_id


def _drop_earlier(sweep_dir: Path, run_id: str) -> None:
    """Remove earlier offline copies of this analysis run (the new one replaces them)."""
    for old in (sweep_dir / "wandb").glob(f"offline-run-*-{run_id}*"):  # W&B may add -<n>
        shutil.rmtree(old, ignore_errors=True)


def log_analysis(analysis: Analysis, mode: str | None = None) -> bool:
    """Log the analysis as its own W&B run; False (and nothing written) when W&B is unused."""
    settings = wandb_settings(analysis.rows)
    if settings is None and mode is None:
        return False
    settings = settings or {"project": "unlearn", "group": None, "mode": "offline"}
    os.environ.setdefault("WANDB_SILENT", "true")
    import wandb

    out_dir = Path(analysis.out_dir)
    run_id = analysis_id(out_dir)
    mode = mode or settings["mode"]
    if mode == "offline":
        _drop_earlier(out_dir, run_id)
    run = wandb.init(
        project=settings["project"],
        entity=settings.get("entity"),
        group=settings["group"],
        mode=mode,
        job_type="analysis",
        name=f"analysis {settings['group'] or out_dir.name}"[:120],
        id=run_id,
        resume="allow",
        dir=str(out_dir),
        settings=fast_settings(),
    )
    try:
        for path in analysis.figures:
            run.log({f"figures/{path.stem}": wandb.Image(str(path))})
        with analysis.summary.open() as f:
            table = list(csv.reader(f))
        if table:
            run.log({"summary": wandb.Table(columns=table[0], data=table[1:])})
        copy_into(run, Path(analysis.report))
    finally:
        wandb.finish()
    return True
