"""Figure helpers: one house style for every panel (matplotlib, Agg backend, no display).

- Tick labels stay readable: at most 5 ticks an axis, large or small numbers with a
  shared ×10ⁿ offset instead of long decimals running into each other.
- Every panel that shows r also shows n, and a panel with fewer than
  `unlearn.analyze.stats.MIN_RELIABLE` points is shaded and says so.
- Legends name every factor that varies between the lines or points they label
  (`varied`, `factor_label`), never only γ when b or t differ too.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402

from unlearn.analyze.stats import MIN_RELIABLE  # noqa: E402

FIGURES = "figures"
STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 6.5,
    "legend.title_fontsize": 6.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
}
# The knobs a sweep varies, as (symbol, row key), in the order legends name them.
FACTORS = (
    ("model", "model"),
    ("data", "data"),
    ("loss", "loss"),
    ("N", "N_epochs"),
    ("γ", "gamma"),
    ("λ", "l2_lambda"),
    ("b", "batch_size"),
    ("t", "t"),
    ("η", "lr"),
    ("seed", "seed"),
    ("method", "method"),
    ("forget", "forget"),
)


NAMED = {"model", "data", "loss", "method", "forget"}  # shown by value alone


def slug(*parts: object) -> str:
    """A file-name-safe name from `parts` ('table4_mini', 'small_cnn on digits' → ...)."""
    text = "__".join(str(p) for p in parts if p is not None and str(p) != "")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:150]


def panels(
    n: int, width: float = 3.4, height: float = 2.7, cols: int = 3
) -> tuple[Figure, list[Axes]]:
    """A figure with `n` panels, at most `cols` a row, in the house style."""
    cols = min(cols, max(1, n))
    rows = (n + cols - 1) // cols
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    for ax in flat[:n]:
        tidy(ax)
    return fig, flat[:n]


def stacked(heights: Sequence[float], width: float) -> tuple[Figure, list[Axes]]:
    """Panels one above the other sharing the x axis, `heights` inches each, house style."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            len(heights), 1, figsize=(width, sum(heights)), sharex=True, squeeze=False,
            gridspec_kw={"height_ratios": list(heights)},
        )  # fmt: skip
    flat = list(axes.ravel())
    for ax in flat:
        tidy(ax)
    return fig, flat


def tidy(ax: Axes) -> None:
    """House style on one panel: few ticks, ×10ⁿ offsets for very large or small numbers."""
    with plt.rc_context(STYLE):
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=3))
            formatter = ScalarFormatter(useMathText=True)
            formatter.set_powerlimits((-2, 3))
            axis.set_major_formatter(formatter)
        ax.tick_params(labelsize=STYLE["xtick.labelsize"])
        ax.title.set_fontsize(STYLE["axes.titlesize"])
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(True, alpha=STYLE["grid.alpha"], linewidth=STYLE["grid.linewidth"])


def title(ax: Axes, *lines: str, width: int = 46) -> None:
    """A panel title wrapped at `width` characters (never cut off)."""
    wrapped = [w for line in lines if line for w in textwrap.wrap(line, width)]
    ax.set_title("\n".join(wrapped), fontsize=STYLE["axes.titlesize"])


def mark_few(ax: Axes, n: int) -> None:
    """Shade a panel drawn from fewer than MIN_RELIABLE points and say so on it, in a band
    of headroom added above the data so that the words never cover a point."""
    if n >= MIN_RELIABLE:
        return
    ax.set_facecolor("#f2f2f2")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.15 * (high - low))
    ax.text(
        0.03,
        0.97,
        f"n = {n} < {MIN_RELIABLE}: r not reliable",
        transform=ax.transAxes,
        va="top",
        fontsize=6.5,
        color="#b00020",
    )


def save(fig: Figure, out_dir: Path, name: str, note: str | None = None) -> str:
    """Save `fig` as out_dir/figures/<name>.png and close it; returns the relative path.

    `note` goes under the panels (e.g. which of many runs are shown)."""
    folder = Path(out_dir) / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    if note:
        fig.text(0.01, 0.005, note, fontsize=7, color="#444444", va="bottom")
    fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
    fig.savefig(folder / f"{name}.png", dpi=110)
    plt.close(fig)
    return f"{FIGURES}/{name}.png"


def scatter(
    ax: Axes, x: Sequence[float], y: Sequence[float], c: Sequence[float], label: str
) -> None:
    """e against v, coloured by `c` (a step or γ), with a colour bar named `label`; when
    `c` holds one value, one colour and a note saying so (a bar of one value reads as a
    scale that is not there)."""
    if len({float(v) for v in c}) <= 1:
        ax.scatter(x, y, color="C0", s=18, edgecolors="none")
        only = f"{float(c[0]):g}" if len(c) else "—"
        ax.text(0.98, 0.02, f"{label} = {only} in every run", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=6.5, color="#444444")  # fmt: skip
        ax.set_xlabel("unlearning error e")
        ax.set_ylabel("verification error v")
        tidy(ax)
        return
    points = ax.scatter(x, y, c=c, cmap="viridis", s=18, edgecolors="none")
    bar = ax.figure.colorbar(points, ax=ax)
    bar.set_label(label, fontsize=STYLE["axes.labelsize"])
    bar.ax.tick_params(labelsize=STYLE["ytick.labelsize"])
    bar.locator = MaxNLocator(nbins=5)
    bar.update_ticks()
    ax.set_xlabel("unlearning error e")
    ax.set_ylabel("verification error v")
    tidy(ax)


def _value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if key == "l2_lambda" and row.get("loss") != "l2":
        return None
    return value


def varied(rows: Sequence[dict[str, Any]], skip: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The FACTORS whose values differ between `rows` (minus the row keys in `skip`)."""
    return [
        (symbol, key)
        for symbol, key in FACTORS
        if key not in skip and len({repr(_value(r, key)) for r in rows}) > 1
    ]


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def factor_label(row: dict[str, Any], factors: Sequence[tuple[str, str]]) -> str:
    """'γ = 5, b = 64, t = 23' for the given factors (empty when none vary)."""
    parts = []
    for symbol, key in factors:
        value = _value(row, key)
        if value is None:
            continue
        parts.append(_show(value) if symbol in NAMED else f"{symbol} = {_show(value)}")
    return ", ".join(parts)
