"""Section "Runs": how many runs of each sweep finished, diverged, failed, were refused (a bad
config), interrupted or are missing."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from unlearn.analyze.collect import natural
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
    lines += [
        "",
        "Runs that did not finish, one line per reason (the runs' own lines are in summary.csv):",
        "",
        "| status | runs | which | where | reason | overrides of the first |",
        "|---|---|---|---|---|---|",
    ]
    for (status, reason), group in _by_reason(bad).items():
        first = group[0]
        phases = sorted({str(r.get("phase")) for r in group if r.get("phase")})
        steps = [r["step"] for r in group if isinstance(r.get("step"), int)]
        where = ", ".join(phases) + (f" step {min(steps)}–{max(steps)}" if steps else "")
        lines.append(
            f"| {status} | {len(group)} | {_md(_jobs(group), 80)} | {where.strip()} "
            f"| {_md(reason)} | {_md(' '.join(map(str, first.get('overrides') or [])))} |"
        )
    return "\n".join(lines)


def _by_reason(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(status, reason) → its runs, in numeric job order; the commonest reason first."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(str(r.get("status")), " ".join(str(r.get("reason", "")).split()))].append(r)
    return dict(sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])))


def _jobs(rows: list[dict[str, Any]]) -> str:
    """'grid160/0–3, 7, grid160/12' style: runs of consecutive job numbers per sweep folder."""
    by_dir: dict[str, list[int]] = defaultdict(list)
    named: list[str] = []
    for r in rows:
        if isinstance(r.get("num"), int) and r.get("sweep_dir") is not None:
            by_dir[str(r["sweep_dir"])].append(r["num"])
        else:
            named.append(str(r.get("job")))
    parts = []
    for folder, nums in sorted(by_dir.items(), key=lambda kv: natural(kv[0])):
        spans, nums = [], sorted(set(nums))
        start = prev = nums[0]
        for n in [*nums[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            spans.append(f"{start}" if start == prev else f"{start}–{prev}")
            if n is not None:
                start = prev = n
        prefix = "" if folder in ("", ".") else f"{folder}/"
        parts.append(prefix + ", ".join(spans))
    return "; ".join([*parts, *sorted(named, key=natural)])
