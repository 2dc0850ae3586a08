"""Section "Did unlearning help": v / v_none of every run against η·σ_avg·(t − 1).

v alone cannot be read (docs/quantities.md): a method helps only where v / v_none < 1.
The figure puts each run at its η·σ_avg·(t − 1), one marker per method, with the line of
doing nothing (v / v_none = 1) and the rule's bound (`unlearn.metrics.verdict`), one
panel per model and data set; the table counts the runs that helped inside and outside
the rule. Runs where v / v_none is undefined (nothing forgotten, no twin) are counted, not
drawn.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from unlearn.analyze import plots
from unlearn.metrics.verdict import HELPS_BELOW, RULE, lr_sigma_window

MARKERS = "os^vDP*Xph<>"
CEILING = 1e3  # v / v_none above this (an overflowing method) is drawn on the top edge
MAX_PANELS = 6


def v_over_v_none(row: dict[str, Any]) -> float:
    v, v_none = row.get("verification_error"), row.get("verification_error_no_unlearning")
    ok = isinstance(v, int | float) and isinstance(v_none, int | float) and v_none > 0
    return float(v) / float(v_none) if ok else math.nan


DAMPED_DEFAULT_K = 1  # conf/unlearn/damped_gradient.yaml's top_k


def method_label(row: dict[str, Any]) -> str:
    """The method's name; damped_gradient as 'damped_gradient k=K' whichever way K was set
    (a compared entry's `@top_k:K`, the run's unlearn.top_k, or the method's default), so
    that single and compared runs of the same k pool."""
    method = str(row.get("method") or "?")
    base, _, settings = method.partition("@")
    if base != "damped_gradient":
        return method
    own = dict(part.split(":", 1) for part in settings.split("@") if ":" in part)
    k = own.get("top_k") or (row.get("config") or {}).get("unlearn", {}).get("top_k")
    return f"damped_gradient k={k or DAMPED_DEFAULT_K}"


def points(rows: list[dict[str, Any]]) -> list[tuple[str, str, float, float]]:
    """(setting, method, η·σ_avg·(t − 1), v / v_none) of each run where both are defined
    and v / v_none > 0 (retraining's 0 has no place on a log axis; the table counts it)."""
    out = []
    for row in rows:
        x, y = lr_sigma_window(row), v_over_v_none(row)
        if math.isfinite(x) and x > 0 and math.isfinite(y) and y > 0:
            out.append((f"{row.get('model')} on {row.get('data')}", method_label(row), x, y))
    return out


def colour(i: int, n: int) -> Any:
    """The i-th of n distinct colours: matplotlib's 10 defaults, tab20's 20 beyond 10 (17
    methods on one leaderboard must not share a colour)."""
    return f"C{i}" if n <= 10 else colormaps["tab20"](i % 20)


def log_axis(axis: Any) -> None:
    """A log axis labelled in plain numbers (0.2, 1, 5), not 2×10⁻¹."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _figure(pts: list[tuple[str, str, float, float]], out_dir: Path, name: str) -> str:
    settings = sorted({p[0] for p in pts})[:MAX_PANELS]
    methods = sorted({p[1] for p in pts})
    fig, axes = plots.panels(len(settings), width=5.2, height=3.6)
    for ax, setting in zip(axes, settings, strict=True):
        top = min(max(y for s, _, _, y in pts if s == setting) * 1.5, CEILING)
        above = sum(y > top for s, _, _, y in pts if s == setting)
        for i, method in enumerate(methods):
            mine = [(x, min(y, top)) for s, m, x, y in pts if s == setting and m == method]
            if mine:
                xs, ys = zip(*mine, strict=True)
                ax.scatter(xs, ys, s=22, marker=MARKERS[i % len(MARKERS)], label=method,
                           alpha=0.8, color=colour(i, len(methods)), edgecolors="none")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_axis(ax.xaxis)
        log_axis(ax.yaxis)
        ax.margins(0.08)  # no point on the frame
        if above:  # an overflowing method would flatten every other point onto one line
            ax.text(0.99, 0.02, f"{above} above {top:g}: drawn on the top edge", ha="right",
                    va="bottom", transform=ax.transAxes, fontsize=6.5, color="#444444")  # fmt: skip
        ax.axhline(1.0, color="grey", ls="--", lw=1, label="doing nothing (v = v_none)")
        bound = f"η·σ_avg·(t − 1) = {HELPS_BELOW:g}, the rule's bound"
        ax.axvline(HELPS_BELOW, color="#b00020", ls=":", lw=1, label=bound)
        ax.set_xlabel("η·σ_avg·(t − 1)")
        ax.set_ylabel("v / v_none (below 1: helped)")
        plots.title(ax, f"{setting}: v / v_none", RULE, width=60)
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return plots.save(fig, out_dir, name)


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """The section: a count per method, inside and outside the rule, and the figure."""
    ratios = [(r, v_over_v_none(r), lr_sigma_window(r)) for r in rows]
    defined = [(r, y, x) for r, y, x in ratios if math.isfinite(y)]
    if not defined:
        return (
            "## Did unlearning help: v / v_none\n\nNo run has a defined v / v_none "
            "(nothing forgotten, or no twin).\n"
        )
    by_method: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row, y, x in defined:
        by_method[method_label(row)].append((y, x))
    lines = [
        "## Did unlearning help: v / v_none",
        "",
        f"A method helps only where v / v_none < 1; {RULE} (docs/quantities.md). "
        f"{len(rows) - len(defined)} of {len(rows)} runs have no v / v_none (nothing forgotten "
        "or no twin).",
        "",
        "| method | runs | v / v_none < 1 | median v / v_none | inside the rule: < 1 | "
        "outside: < 1 |",
        "|---|---|---|---|---|---|",
    ]
    for method, vals in sorted(by_method.items()):
        inside = [y for y, x in vals if x <= HELPS_BELOW]
        outside = [y for y, x in vals if x > HELPS_BELOW]
        median = statistics.median(y for y, _ in vals)
        lines.append(
            f"| {method} | {len(vals)} | {sum(y < 1 for y, _ in vals)} | {median:.3g} | "
            f"{sum(y < 1 for y in inside)} of {len(inside)} | "
            f"{sum(y < 1 for y in outside)} of {len(outside)} |"
        )
    pts = points(rows)
    if pts:
        sweep = str(rows[0].get("sweep") or "runs")
        path = _figure(pts, out_dir, plots.slug(sweep, "v_ratio"))
        lines += ["", f"![v / v_none against η·σ_avg·(t − 1)]({path})"]
    return "\n".join(lines) + "\n"
