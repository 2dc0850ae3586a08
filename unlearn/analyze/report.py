"""Build the analysis of a sweep folder: summary.csv, report.md and figures/, written into it."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unlearn.analyze.collect import collect
from unlearn.analyze.families import along_t
from unlearn.analyze.sections import SECTIONS, Section
from unlearn.analyze.summary import write_summary
from unlearn.experiment.results import write_text_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """What `analyze` wrote and read."""

    out_dir: Path
    summary: Path
    report: Path
    figures: list[Path]
    rows: list[dict[str, Any]]


def add_along_t(rows: list[dict[str, Any]]) -> None:
    """Give each finished run its own r(e, v) along t (summary.csv's r_along_t, n_along_t)."""
    for row in rows:
        fam = along_t(row) if row.get("status") == "ok" else None
        row["r_along_t"] = fam.corr.r if fam else math.nan
        row["n_along_t"] = fam.corr.n if fam else None


def _render(section: Section, rows: list[dict[str, Any]], out_dir: Path) -> str | None:
    try:
        return section.render(rows, out_dir)
    except Exception as err:  # noqa: BLE001 (one broken section must not lose the report)
        log.exception("section %s failed", section.target)
        return f"## {section.target}\n\nThis section failed: {type(err).__name__}: {err}"


def analyze(root: str | Path, sections: list[Section] | None = None) -> Analysis:
    """Read every results.json below `root`; write summary.csv, report.md and figures/ there."""
    out_dir = Path(root).resolve()
    rows = collect(out_dir)
    add_along_t(rows)
    summary = write_summary(rows, out_dir)
    counts = Counter(r.get("status", "?") for r in rows)
    header = [
        f"# Analysis of {out_dir.name}",
        f"Folder `{out_dir}`, {time.strftime('%Y-%m-%d %H:%M:%S')}: {len(rows)} runs ("
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        + "). One line per run in `summary.csv`.",
    ]
    blocks = [_render(s, rows, out_dir) for s in (SECTIONS if sections is None else sections)]
    text = "\n\n".join([*header, *(b for b in blocks if b)]) + "\n"
    report = out_dir / "report.md"
    write_text_atomic(report, text)
    figures = sorted((out_dir / "figures").glob("*.png"))
    return Analysis(out_dir, summary, report, figures, rows)
