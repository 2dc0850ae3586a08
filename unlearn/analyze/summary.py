"""summary.csv: one row per run, every swept knob and every metric (written atomically).

Columns: where the run is and how it ended, the config options it chose, the knobs its
overrides set (one column per overridden key, e.g. ``gamma``, ``N_epochs``,
``loss.l2_lambda``), the standard knobs, the metrics, r(e, v) along the run's own t, and
then every other scalar its results.json holds (keys added later by other features,
e.g. PRS, appear without a change here). Missing values are empty cells.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from unlearn.analyze.collect import METRICS
from unlearn.experiment.results import write_text_atomic

LEAD = ("job", "sweep", "num", "status", "reason", "data", "model", "loss", "experiment")
KNOBS = ("N", "N_epochs", "t", "t_epochs", "lr", "batch_size", "pretrain_batch_size")
KNOBS += ("gamma", "l2_lambda", "seed")
TAIL = ("r_along_t", "n_along_t", "wall_time_s")
SKIP = {"config", "curves", "traceback", "overrides", "_dir", "sweep_dir"}


def override_knobs(row: dict[str, Any]) -> dict[str, str]:
    """The run's overrides as key → value ('+experiment=x' → 'experiment': 'x')."""
    out = {}
    for item in row.get("overrides") or []:
        if "=" in str(item):
            key, value = str(item).split("=", 1)
            out[key.lstrip("+~")] = value
    return out


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return ""
    return str(value)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """Column order: LEAD, swept knobs, KNOBS, METRICS, TAIL, then the rest sorted."""
    swept: list[str] = []
    for row in rows:
        for key in override_knobs(row):
            if key not in swept and key not in LEAD and not key.startswith("hydra"):
                swept.append(key)
    fixed = [*LEAD, *swept]
    fixed += [k for k in (*KNOBS, *METRICS, *TAIL) if k not in fixed]
    rest = sorted(
        {
            k
            for row in rows
            for k, v in row.items()
            if k not in SKIP and k not in fixed and not isinstance(v, list | dict)
        }
    )
    return fixed + rest


def summary_csv(rows: list[dict[str, Any]]) -> str:
    """The CSV text of `rows` (one line per run, missing and unreadable ones included)."""
    cols = columns(rows)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        merged = {**override_knobs(row), **{k: v for k, v in row.items() if v is not None}}
        writer.writerow([_cell(merged.get(c)) for c in cols])
    return buf.getvalue()


def write_summary(rows: list[dict[str, Any]], out_dir: str | Path) -> Path:
    """Write summary.csv into `out_dir` atomically; returns its path."""
    path = Path(out_dir) / "summary.csv"
    write_text_atomic(path, summary_csv(rows))
    return path
