"""Section "When unlearning helps": where each method stops beating doing nothing.

Pools every run of the folder, whatever its model and data set: v / v_none against
x = η·σ_avg·(t − 1) (log axes), one colour per method, one marker per data set, in
``figures/when_unlearning_helps.png``. Each method's crossing point x* is where
v / v_none reaches 1: a monotone (isotonic, non-decreasing) fit of log(v / v_none) on
log x, read where it crosses 0, with a 95 % percentile bootstrap interval over the runs
(seeded). Monotone because that is the rule's claim: a larger step against a larger
curvature never makes a forgotten step easier to undo. A fit that never crosses is
reported as it is: the method helps (or fails) over the whole measured range, a bound,
not a number; a fit with no rise at all over runs on both sides of 1 (a post-hoc method,
whose budget and not x decides how close it lands) has no crossing. ``none``
(v / v_none = 1 by definition) and ``retrain`` (0) are left out, and so are runs that
forget anything but the window's first batch: x counts the steps since the forgotten one,
which only the first batch has as t − 1 (a class or random forget set is spread over the
window).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from sklearn.isotonic import IsotonicRegression

from unlearn.analyze import plots
from unlearn.analyze.ratio import CEILING, MARKERS, log_axis, method_label, v_over_v_none
from unlearn.metrics.verdict import HELPS_BELOW, RULE, lr_sigma_window

FIGURE = "when_unlearning_helps"
REFERENCES = {"none", "retrain"}  # v / v_none is 1 and 0 by construction
FIRST_BATCH = {"first_batch", "FirstBatch"}  # the forget set x is defined for
MIN_RUNS = 4  # fewer runs, or fewer than 2 distinct x: no crossing is estimated
RESAMPLES = 1000
LEVEL = 0.95
MAX_DRAWN = 10  # methods drawn (one colour each); the table lists every method
# drawn first, when present: the paper's update, its curvature-aware relatives, the
# instrument, the exact shortcuts, the best-known post-hoc methods
PREFERRED = (
    "single_gradient",
    "damped_gradient",
    "unrolled",
    "influence",
    "rewind",
    "amnesiac",
    "ssd",
    "fine_tune",
    "salun",
    "scrub",
)


@dataclass(frozen=True)
class Crossing:
    """x* and its interval; ±inf means "beyond the measured range" on that side."""

    estimate: float
    low: float
    high: float
    x_min: float
    x_max: float

    def text(self) -> str:
        """'2.3 [1.1, 4.8]', '> 310 (helps over the whole range)', '< 0.05 (never helps)', or
        a dash when v / v_none does not rise with x (a post-hoc method's budget, not x,
        decides how close it lands)."""
        if math.isnan(self.estimate):
            return "— (v / v_none does not rise with x: no crossing)"
        if self.estimate == math.inf:
            return f"> {self.x_max:.3g} (helps over the whole range)"
        if self.estimate == -math.inf:
            return f"< {self.x_min:.3g} (never helps)"

        def bound(value: float) -> str:
            if value == math.inf:
                return f"> {self.x_max:.3g}"
            return f"< {self.x_min:.3g}" if value == -math.inf else f"{value:.3g}"

        return f"{self.estimate:.3g} [{bound(self.low)}, {bound(self.high)}]"


def _crossing_log(lx: np.ndarray, ly: np.ndarray) -> float:
    """log10 x* of the isotonic fit of ly = log(v / v_none) on lx = log10 x; +inf when
    the fit stays below 0 (helps throughout), -inf when it starts at or above 0."""
    grid = np.unique(lx)
    if grid.size < 2:
        return math.nan
    fit = IsotonicRegression(increasing=True).fit(lx, ly).predict(grid)
    if np.ptp(fit) == 0 and (ly < 0).any() and (ly >= 0).any():
        return math.nan  # no rise with x at all, runs on both sides of 1: no crossing to read
    if fit[0] >= 0:
        return -math.inf
    if fit[-1] < 0:
        return math.inf
    i = int(np.argmax(fit >= 0))
    x0, x1, y0, y1 = grid[i - 1], grid[i], fit[i - 1], fit[i]
    return float(x0 + (0.0 - y0) * (x1 - x0) / (y1 - y0))


def crossing(xs: list[float], ys: list[float], seed: int = 0) -> Crossing | None:
    """x* where v / v_none reaches 1, with a `LEVEL` bootstrap interval (None: too few)."""
    lx, ly = np.log10(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    if lx.size < MIN_RUNS or np.unique(lx).size < 2:
        return None
    estimate = _crossing_log(lx, ly)
    rng = np.random.default_rng(seed)
    draws = [_crossing_log(lx[i], ly[i]) for i in rng.integers(0, lx.size, (RESAMPLES, lx.size))]
    draws = np.asarray([d for d in draws if not math.isnan(d)])
    tail = (1 - LEVEL) / 2
    low = float(np.quantile(draws, tail, method="lower")) if draws.size else math.nan
    high = float(np.quantile(draws, 1 - tail, method="higher")) if draws.size else math.nan

    def back(value: float) -> float:
        return value if math.isinf(value) or math.isnan(value) else 10**value

    return Crossing(back(estimate), back(low), back(high), 10 ** lx.min(), 10 ** lx.max())


def _base(method: str) -> str:
    """'damped_gradient' of 'damped_gradient k=5', 'rewind' of 'rewind@k:10'."""
    return method.split("@", 1)[0].split(" ", 1)[0]


Point = tuple[str, str, float, float]  # (data set, method, x, v / v_none)


def rule_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs that forget the window's first batch (the setting x is defined for)."""
    return [row for row in rows if str(row.get("forget")) in FIRST_BATCH]


def points(rows: list[dict[str, Any]]) -> list[Point]:
    """Every first-batch run with a finite x > 0 and v / v_none > 0, the references left out."""
    out = []
    for row in rule_rows(rows):
        method = method_label(row)
        x, y = lr_sigma_window(row), v_over_v_none(row)
        drawn = math.isfinite(x) and x > 0 and math.isfinite(y) and y > 0
        if _base(method) in REFERENCES or not drawn:
            continue
        out.append((f"{row.get('model')} on {row.get('data')}", method, x, y))
    return out


def not_finite(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Method → first-batch windows where its v / v_none is not finite (its weights
    overflowed, e.g. damped_gradient past the edge of stability): left out, counted."""
    out: dict[str, int] = defaultdict(int)
    for row in rule_rows(rows):
        method, y = method_label(row), v_over_v_none(row)
        measured = isinstance(row.get("verification_error_no_unlearning"), int | float)
        if _base(method) not in REFERENCES and measured and not math.isfinite(y):
            out[method] += 1
    return dict(out)


def _order(methods: set[str]) -> list[str]:
    """The preferred methods first (their settings in name order), then the rest."""

    def rank(name: str) -> tuple[int, str]:
        base = _base(name)
        pos = PREFERRED.index(base) if base in PREFERRED else len(PREFERRED)
        return pos, name

    return sorted(methods, key=rank)


def estimates(pts: list[Point]) -> dict[tuple[str, str], tuple[int, int, Crossing | None]]:
    """(method, data set or 'all') -> (runs, runs that helped, crossing)."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for data, method, x, y in pts:
        groups[(method, data)].append((x, y))
        groups[(method, "all")].append((x, y))
    out = {}
    for key, vals in groups.items():
        xs, ys = zip(*vals, strict=True)
        out[key] = (len(vals), sum(y < 1 for y in ys), crossing(list(xs), list(ys)))
    return out


def _short(data: str) -> str:
    """'cifar10' of 'resnet18 on cifar10'."""
    return data.rsplit(" on ", 1)[-1]


def _forest(ax: Any, rows: list[tuple[int, str, str]], found: dict, lo: float, hi: float) -> None:
    """One row per (method, data set): x* and its interval; an arrow at the edge for a bound."""
    labels = []
    for position, (i, method, data) in enumerate(rows):
        colour, cross = f"C{i % 10}", found[(method, data)][2]
        y = len(rows) - 1 - position
        labels.append(method if data == "all" else f"{method} · {_short(data)}")
        if cross is None or math.isnan(cross.estimate):
            words = "  too few runs" if cross is None else "  no rise with x"
            ax.text(lo, y, words, va="center", fontsize=6.5, color=colour)
            continue
        if math.isinf(cross.estimate):  # helps (or fails) over the whole measured range
            right = cross.estimate > 0  # the bound sits at the edge of this method's own runs
            edge = cross.x_max if right else cross.x_min
            ax.plot([edge], [y], marker=">" if right else "<", color=colour, ms=7)
            words = "helps over the whole range" if right else "never helps"
            ax.annotate(
                words, (edge, y), xytext=(-9 if right else 9, 0), textcoords="offset points",
                ha="right" if right else "left", va="center", fontsize=6.5, color=colour,
            )  # fmt: skip
            continue
        left = cross.low if math.isfinite(cross.low) else lo
        right_end = cross.high if math.isfinite(cross.high) else hi
        ax.plot([left, right_end], [y, y], color=colour, lw=2.2, solid_capstyle="butt")
        ax.plot([cross.estimate], [y], marker="D", color=colour, ms=5, mec="white", mew=0.6)
    ax.set_yticks(range(len(rows)), labels=list(reversed(labels)))
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(False, axis="y")
    ax.axvline(HELPS_BELOW, color="#b00020", ls=":", lw=1)
    ax.set_ylabel("x* (95 %)", fontsize=7)


def _figure(pts: list[Point], found: dict, out_dir: Path) -> str:
    methods = _order({p[1] for p in pts})[:MAX_DRAWN]
    datasets = sorted({p[0] for p in pts})
    per_data = datasets if len(datasets) > 1 else ["all"]
    forest_rows = [
        (i, m, d) for i, m in enumerate(methods) for d in per_data if (m, d) in found
    ]  # x* per data set: pooled, two data sets' crossings would be one meaningless number
    heights = [4.6, 0.35 + 0.2 * len(forest_rows)]
    fig, (ax, forest) = plots.stacked(heights, width=11.0)
    drawn = [y for _, m, _, y in pts if m in methods]
    floor, top = min(drawn) / 1.5, min(max(drawn) * 1.5, CEILING)
    above = 0
    for i, method in enumerate(methods):
        for j, data in enumerate(datasets):
            mine = [(x, min(y, top)) for d, m, x, y in pts if m == method and d == data]
            above += sum(y > top for d, m, _, y in pts if m == method and d == data)
            if mine:
                xs, ys = zip(*mine, strict=True)
                ax.scatter(xs, ys, s=20, marker=MARKERS[j % len(MARKERS)], color=f"C{i % 10}",
                           alpha=0.75, edgecolors="none")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(floor, top * (1.3 if above else 1.0))
    ax.margins(x=0.04)
    if above:
        ax.text(0.99, 0.02, f"{above} point{'s' if above > 1 else ''} above {top:g} drawn on "
                "the top edge (the weights overflowed)", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=6.5, color="#444444")  # fmt: skip
    lo, hi = ax.get_xlim()
    _forest(forest, forest_rows, found, lo, hi)
    forest.set_xlim(lo, hi)
    log_axis(forest.xaxis)
    log_axis(ax.yaxis)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.axvline(HELPS_BELOW, color="#b00020", ls=":", lw=1)
    handles = [
        Line2D([], [], color=f"C{i % 10}", marker="o", ls="", label=method)
        for i, method in enumerate(methods)
    ]
    bound = f"the digits rule's bound, x = {HELPS_BELOW:g}"
    handles += [
        Line2D([], [], color="grey", ls="--", label="doing nothing: v = v_none"),
        Line2D([], [], color="#b00020", ls=":", label=bound),
    ]
    handles += [
        Line2D([], [], color="grey", marker=MARKERS[j % len(MARKERS)], ls="", label=data)
        for j, data in enumerate(datasets)
    ]
    forest.set_xlabel("x = η·σ_avg·(t − 1): step size × curvature × steps since the forgotten one")
    ax.set_ylabel("v / v_none (below 1: closer to retraining than doing nothing)")
    plots.title(
        ax,
        f"When unlearning helps: {len({(p[0], p[2]) for p in pts})} windows pooled "
        f"({', '.join(datasets)}), the window's first batch forgotten",
        "below: x*, where a monotone fit of each method's v / v_none reaches 1, "
        "with its 95 % bootstrap interval" + (", per data set" if len(datasets) > 1 else ""),
        width=120,
    )
    ax.legend(handles=handles, fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              frameon=False)  # fmt: skip
    return plots.save(fig, out_dir, FIGURE)


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """The section: each method's crossing point, pooled and per data set, and the figure."""
    pts = points(rows)
    head = "## When unlearning helps: the crossing point x*"
    if not pts:
        return f"{head}\n\nNo run has both v / v_none and η·σ_avg·(t − 1) (no twin, or no σ).\n"
    found = estimates(pts)
    datasets = sorted({p[0] for p in pts})
    lines = [
        head,
        "",
        "x = η·σ_avg·(t − 1); x* is where a monotone fit of log(v / v_none) on log x "
        f"reaches 0, with a {LEVEL * 100:.0f} % bootstrap interval over runs ({RESAMPLES} "
        "resamples, seeded). "
        f"The project's rule from digits: {RULE}. Every run of this folder that forgets the "
        f"window's first batch is pooled ({len(rows) - len(rule_rows(rows))} runs forgetting "
        "another set are left out: x counts the steps since the forgotten one); `none` and "
        "`retrain` are the references and not listed.",
        "",
        "| method | data | runs | v / v_none < 1 | x* [95 % interval] |",
        "|---|---|---|---|---|",
    ]
    for method in _order({p[1] for p in pts}):
        for data in ["all", *datasets] if len(datasets) > 1 else datasets:
            if (method, data) not in found:
                continue
            runs, helped, cross = found[(method, data)]
            text = cross.text() if cross else f"— (fewer than {MIN_RUNS} runs or one x)"
            label = "all pooled" if data == "all" else data
            lines.append(f"| {method} | {label} | {runs} | {helped} | {text} |")
    lost = not_finite(rows)
    if lost:
        counted = ", ".join(f"{m} in {n}" for m, n in sorted(lost.items()))
        lines += ["", f"Left out for a v that is not finite (the weights overflowed): {counted}."]
    path = _figure(pts, found, out_dir)
    lines += ["", f"![v / v_none against η·σ_avg·(t − 1), every run pooled]({path})"]
    return "\n".join(lines) + "\n"
