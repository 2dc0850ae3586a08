"""Figure helpers: matplotlib on the Agg backend (no display), one PNG per call."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FIGURES = "figures"


def slug(*parts: object) -> str:
    """A file-name-safe name from `parts` ('table4_mini', 'small_cnn on digits' → ...)."""
    text = "__".join(str(p) for p in parts if p is not None and str(p) != "")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:150]


def panels(n: int, width: float = 4.0, height: float = 3.2) -> tuple[Figure, list[Axes]]:
    """A figure with `n` panels, at most 3 a row."""
    cols = min(3, max(1, n))
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def save(fig: Figure, out_dir: Path, name: str) -> str:
    """Save `fig` as out_dir/figures/<name>.png and close it; returns the relative path."""
    folder = Path(out_dir) / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(folder / f"{name}.png", dpi=110)
    plt.close(fig)
    return f"{FIGURES}/{name}.png"


def scatter(
    ax: Axes, x: Sequence[float], y: Sequence[float], c: Sequence[float], label: str
) -> None:
    """e against v, coloured by `c` (a step or γ), with a colour bar named `label`."""
    points = ax.scatter(x, y, c=c, cmap="viridis", s=18, edgecolors="none")
    ax.figure.colorbar(points, ax=ax, label=label)
    ax.set_xlabel("unlearning error e")
    ax.set_ylabel("verification error v")
