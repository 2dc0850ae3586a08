"""Section "Curves": e against t (Figures 3, 7) and ‖w_t − w_0‖ and σ against step (Figure 8).

Per sweep and setting (data set, model, loss): one panel per pretraining amount N, one
line per run. A line's legend names every factor that varies between the runs of the
figure (γ or λ, and b, t, η, seed where they differ), so windows of different lengths
are never drawn under one γ-only legend; line style follows the batch size. The drift
and σ figure shows every N (up to `MAX_N_PANELS`, evenly spaced, the note says which).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib as mpl

from unlearn.analyze import plots
from unlearn.analyze.families import sweep_of
from unlearn.analyze.tables import pretrain_amount, regulariser

MAX_N_PANELS = 6
STYLES = ("-", "--", ":", "-.")


def _colour(value: float, values: list[float]) -> Any:
    ordered = sorted(set(values))
    frac = ordered.index(value) / max(1, len(ordered) - 1)
    return mpl.colormaps["viridis"](0.9 * frac)


def _lines(
    ax: Any,
    runs: list[dict[str, Any]],
    key: str,
    factors: list[tuple[str, str]],
    regs: list[float],
    sizes: list[int],
    step_key: str = "step",
) -> None:
    order = sorted(
        runs, key=lambda r: (regulariser(r)[1], r.get("batch_size") or 0, r.get("t") or 0)
    )
    for run in order:
        curves = run.get("curves") or {}
        steps, values = curves.get(step_key) or [], curves.get(key) or []
        if steps and len(steps) == len(values):
            b = int(run.get("batch_size") or 0)
            ax.plot(
                steps,
                values,
                color=_colour(regulariser(run)[1], regs),
                ls=STYLES[sizes.index(b) % len(STYLES)],
                label=plots.factor_label(run, factors) or "this run",
                lw=1.2,
            )
    ax.set_xlabel("window step")
    if ax.lines:
        ax.legend(fontsize=6, frameon=False)


def _by_n(runs: list[dict[str, Any]]) -> dict[float, list[dict[str, Any]]]:
    out: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        out[pretrain_amount(run)[1] or 0.0].append(run)
    return dict(sorted(out.items()))


def _chosen(ns: list[float]) -> tuple[list[float], str | None]:
    """At most MAX_N_PANELS of the N values, evenly spaced (first and last kept), and a note."""
    if len(ns) <= MAX_N_PANELS:
        return ns, None
    step = (len(ns) - 1) / (MAX_N_PANELS - 1)
    kept = [ns[round(i * step)] for i in range(MAX_N_PANELS)]
    return kept, f"N shown: {', '.join(f'{n:g}' for n in kept)} of {len(ns)} values"


def _context(runs: list[dict[str, Any]]) -> tuple[list[tuple[str, str]], list[float], list[int]]:
    factors = plots.varied(runs, skip=("N_epochs", "model", "data", "loss"))
    if not any(k in ("gamma", "l2_lambda") for _, k in factors):  # always say which regulariser
        factors = [("λ", "l2_lambda") if runs[0].get("loss") == "l2" else ("γ", "gamma"), *factors]
    regs = [regulariser(r)[1] for r in runs]
    sizes = sorted({int(r.get("batch_size") or 0) for r in runs})
    return factors, regs, sizes


def _e_figure(runs: list[dict[str, Any]], out_dir: Path, name: str, title: str) -> str:
    by_n = _by_n(runs)
    ns, note = _chosen(list(by_n))
    factors, regs, sizes = _context(runs)
    fig, axes = plots.panels(len(ns))
    unit = pretrain_amount(runs[0])[0]
    for ax, n in zip(axes, ns, strict=True):
        _lines(ax, by_n[n], "unlearning_error", factors, regs, sizes)
        ax.set_ylabel("unlearning error e")
        plots.title(ax, title, f"{unit} = {n:g}, {len(by_n[n])} runs")
    return plots.save(fig, out_dir, plots.slug(name, "e_vs_t"), note)


def _drift_figure(runs: list[dict[str, Any]], out_dir: Path, name: str, title: str) -> str:
    by_n = _by_n(runs)
    ns, note = _chosen(list(by_n))
    factors, regs, sizes = _context(runs)
    fig, axes = plots.panels(2 * len(ns), cols=len(ns))
    unit = pretrain_amount(runs[0])[0]
    for i, n in enumerate(ns):
        ax_sigma, ax_drift = axes[i], axes[len(ns) + i]
        _lines(ax_sigma, by_n[n], "sigma", factors, regs, sizes)
        _lines(ax_drift, by_n[n], "weight_drift", factors, regs, sizes)
        ax_sigma.set_ylabel("σ (Hessian spectral norm)")
        ax_drift.set_ylabel("‖w_t − w_0‖")
        for ax in (ax_sigma, ax_drift):
            plots.title(ax, title, f"{unit} = {n:g}")
    return plots.save(fig, out_dir, plots.slug(name, "drift_sigma"), note)


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """The figures of every sweep and setting whose runs kept their curves."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if (r.get("curves") or {}).get("step"):
            key = (sweep_of(r), str(r.get("data")), str(r.get("model")), str(r.get("loss") or "sd"))
            groups[key].append(r)
    if not groups:
        return ""  # no finished run with curves: no section
    lines = ["## Curves (Figures 3, 7, 8)", ""]
    for (sweep, data, model, loss), runs in sorted(groups.items()):
        title = f"{model} on {data}, {loss}"
        name = plots.slug(sweep, model, data, loss)
        e_path = _e_figure(runs, out_dir, name, title)
        d_path = _drift_figure(runs, out_dir, name, title)
        lines += [
            f"### {sweep}: {title}",
            "",
            f"![e against t]({e_path})",
            "",
            f"![drift and σ against step]({d_path})",
            "",
        ]
    return "\n".join(lines)
