"""Section "Runs": how many runs of each sweep finished, diverged, failed, were refused (a bad
config), interrupted or are missing."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from unlearn.analyze.families import sweep_of

STATUSES = ("ok", "diverged", "failed", "refused", "interrupted", "missing", "unreadable")


def _md(text: Any, width: int = 160) -> str:
    """One table cell: one line, no pipes, at most `width` characters."""
    flat = " ".join(str(text).split()).replace("|", "/")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """Counts per sweep and status, then every run that did not finish ok, and why."""
    by_sweep: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        by_sweep[sweep_of(row)][row.get("status", "?")] += 1
    others = sorted({s for c in by_sweep.values() for s in c} - set(STATUSES))
    cols = [*STATUSES, *others]
    lines = ["## Runs", ""]
    if not rows:
        return "\n".join([*lines, "No results.json and no jobs.json below this folder."])
    lines += ["| sweep | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for sweep, counts in sorted(by_sweep.items()):
        lines.append(f"| {sweep} | " + " | ".join(str(counts.get(c, 0)) for c in cols) + " |")
    bad = [r for r in rows if r.get("status") != "ok"]
    if not bad:
        return "\n".join([*lines, "", "Every run finished."])
    lines += ["", "| run | status | where | reason | overrides |", "|---|---|---|---|---|"]
    for r in bad:
        where = f"{r.get('phase', '')} step {r['step']}" if r.get("step") is not None else ""
        lines.append(
            f"| {r.get('job')} | {r.get('status')} | {where} | {_md(r.get('reason', ''))} "
            f"| {_md(' '.join(map(str, r.get('overrides') or [])))} |"
        )
    return "\n".join(lines)
