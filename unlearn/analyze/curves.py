"""Section "Curves": e against t (Figures 3, 7) and ‖w_t − w_0‖ and σ against step (Figure 8).

Per sweep and setting (data set, model, loss): one panel per pretraining amount N with
one line per regulariser value (γ or λ) for e(t); and, at the N nearest 10 epochs (the
paper's Figure 8 setting), the weight drift and σ along the window.
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


def _colour(value: float, values: list[float]) -> Any:
    ordered = sorted(set(values))
    frac = ordered.index(value) / max(1, len(ordered) - 1)
    return mpl.colormaps["viridis"](frac)


def _lines(ax: Any, runs: list[dict[str, Any]], key: str, step_key: str = "step") -> None:
    regs = [regulariser(r)[1] for r in runs]
    for run, reg in sorted(zip(runs, regs, strict=True), key=lambda p: p[1]):
        curves = run.get("curves") or {}
        steps, values = curves.get(step_key) or [], curves.get(key) or []
        if steps and len(steps) == len(values):
            name = regulariser(run)[0]
            ax.plot(steps, values, color=_colour(reg, regs), label=f"{name} = {reg:g}", lw=1.2)
    ax.set_xlabel("window step t")
    if ax.lines:
        ax.legend(fontsize=6)


def _by_n(runs: list[dict[str, Any]]) -> dict[float, list[dict[str, Any]]]:
    out: dict[float, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        out[pretrain_amount(run)[1] or 0.0].append(run)
    return dict(sorted(out.items()))


def _e_figure(runs: list[dict[str, Any]], out_dir: Path, name: str, title: str) -> str:
    by_n = _by_n(runs)
    ns = list(by_n)
    if len(ns) > MAX_N_PANELS:  # evenly spaced, first and last included
        step = (len(ns) - 1) / (MAX_N_PANELS - 1)
        ns = [ns[round(i * step)] for i in range(MAX_N_PANELS)]
    fig, axes = plots.panels(len(ns))
    unit = pretrain_amount(runs[0])[0]
    for ax, n in zip(axes, ns, strict=True):
        _lines(ax, by_n[n], "unlearning_error")
        ax.set_ylabel("unlearning error e")
        ax.set_title(f"{title}, {unit} = {n:g}", fontsize=8)
    return plots.save(fig, out_dir, plots.slug(name, "e_vs_t"))


def _drift_figure(runs: list[dict[str, Any]], out_dir: Path, name: str, title: str) -> str:
    by_n = _by_n(runs)
    n = min(by_n, key=lambda x: abs(x - 10))
    fig, (ax_sigma, ax_drift) = plots.panels(2)
    _lines(ax_sigma, by_n[n], "sigma")
    _lines(ax_drift, by_n[n], "weight_drift")
    ax_sigma.set_ylabel("σ (Hessian spectral norm)")
    ax_drift.set_ylabel("‖w_t − w_0‖")
    unit = pretrain_amount(runs[0])[0]
    for ax in (ax_sigma, ax_drift):
        ax.set_title(f"{title}, {unit} = {n:g}", fontsize=8)
    return plots.save(fig, out_dir, plots.slug(name, "drift_sigma"))


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """The figures of every sweep and setting whose runs kept their curves."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if (r.get("curves") or {}).get("step"):
            key = (sweep_of(r), str(r.get("data")), str(r.get("model")), str(r.get("loss") or "sd"))
            groups[key].append(r)
    lines = ["## Curves (Figures 3, 7, 8)", ""]
    if not groups:
        return "\n".join([*lines, "No finished run with curves."])
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
