"""Section "Pearson r(e, v)": does the unlearning error predict the verification error?

For each sweep, r with its n and 95% Fisher-z interval for every family of runs (along
t, along γ, per data set: `unlearn.analyze.families`), beside the paper's value for the
same family, and the e-against-v scatter plots (Figures 9, 10, 11, 12).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from unlearn.analyze import plots
from unlearn.analyze.families import Family, along_gamma, along_t, per_dataset, sweep_of
from unlearn.analyze.paper import describe, paper_r

MAX_ROWS = 12  # more families along t than this are summarised (all are in summary.csv)
MAX_PANELS = 9
KINDS = {  # kind: (heading, colour-bar label, figure title)
    "t": ("Along t (each run's own curve; Figure 9)", "step", "along t (Figure 9)"),
    "gamma": (
        "Along γ (runs that differ only in γ; Figures 10, 11)",
        "γ",
        "along γ (Figures 10, 11)",
    ),
    "lambda": (
        "Along λ (ℓ2 runs that differ only in λ; the paper gives no r)",
        "λ",
        "along λ",
    ),
    "dataset": ("Over all runs of a data set (Figure 12)", "γ", "over all runs (Figure 12)"),
}


def paper_text(family: Family) -> str | None:
    """The paper's r for this family's data set (and model); None if it reports none there."""
    values = [p for p in paper_r(family.kind, family.data, family.model) if p.data == family.data]
    return "; ".join(describe(p) for p in values) if values else None


def reference_text(kind: str) -> str:
    """Every r the paper reports for a kind of family (for runs in other settings)."""
    return "; ".join(describe(p) for p in paper_r(kind)) or "none reported"


LOSS_COLOURS = {"CE": "#d62728", "SD": "#2ca02c", "CE + ℓ2": "#1f77b4"}  # Figure 12's red, green
MODEL_MARKERS = ("o", "s", "^", "D", "v", "P")


def loss_kind(row: dict[str, Any]) -> str:
    """'CE' (γ = 0 or loss=ce), 'SD' (γ > 0) or 'CE + ℓ2': the colours of Figure 12."""
    if row.get("loss") == "l2":
        return "CE + ℓ2"
    return "SD" if row.get("loss") != "ce" and float(row.get("gamma") or 0) > 0 else "CE"


def _figure_12(family: Family, ax: Any) -> None:
    """Figure 12's scatter: colour = CE or SD, marker = model, size = batch size."""
    from matplotlib.lines import Line2D

    rows = family.rows
    models = sorted({str(r.get("model")) for r in rows})
    sizes = sorted({int(r.get("batch_size") or 0) for r in rows})
    area = {b: 10 + 30 * i for i, b in enumerate(sizes)}
    for row, e, v in zip(rows, family.e, family.v, strict=True):
        ax.scatter(
            e,
            v,
            c=LOSS_COLOURS[loss_kind(row)],
            marker=MODEL_MARKERS[models.index(str(row.get("model"))) % len(MODEL_MARKERS)],
            s=area[int(row.get("batch_size") or 0)],
            alpha=0.8,
            edgecolors="none",
        )
    handles = [
        Line2D([], [], ls="", marker="o", color=LOSS_COLOURS[k], label=k)
        for k in LOSS_COLOURS
        if any(loss_kind(r) == k for r in rows)
    ]
    handles += [
        Line2D([], [], ls="", marker=MODEL_MARKERS[i % len(MODEL_MARKERS)], color="0.4", label=m)
        for i, m in enumerate(models)
    ]
    handles += [
        Line2D(
            [], [], ls="", marker="o", color="0.6", markersize=(area[b] ** 0.5), label=f"b = {b}"
        )
        for b in sizes
    ]
    ax.legend(
        handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=6.5
    )
    ax.set_xlabel("unlearning error e")
    ax.set_ylabel("verification error v")


def _panel_title(fam: Family, factors: list[tuple[str, str]], kind: str) -> str:
    if kind == "t":  # one run: name it by the factors its sweep varies, and its job
        row = fam.rows[0]
        return f"{plots.factor_label(row, factors) or fam.label} (job {row.get('num', '?')})"
    return fam.label


def _figure(families: list[Family], out_dir: Path, sweep: str, kind: str) -> str:
    shown = families[:MAX_PANELS]
    rows = [r for f in families for r in f.rows]
    factors = plots.varied(rows, skip=("t",) if kind == "t" else ())
    fig, axes = plots.panels(len(shown), width=4.6 if kind == "dataset" else 3.4)
    for ax, fam in zip(axes, shown, strict=True):
        if kind == "dataset":
            _figure_12(fam, ax)
        else:
            plots.scatter(ax, fam.e, fam.v, fam.colour, KINDS[kind][1])
        plots.title(ax, _panel_title(fam, factors, kind), fam.corr.label())
        plots.mark_few(ax, fam.corr.n)
    settings = sorted({f"{r.get('model')} on {r.get('data')}" for r in rows})
    common = settings[0] if len(settings) == 1 else f"{len(settings)} settings"
    fig.suptitle(f"{sweep}: e against v {KINDS[kind][2]}, {common}", fontsize=9)
    note = None
    if len(families) > len(shown):
        where = "summary.csv (r_along_t)" if kind == "t" else "report.md"
        note = (
            f"{len(shown)} of {len(families)} shown (the first in job order); every r is in {where}"
        )
    return plots.save(fig, out_dir, plots.slug(sweep, "r", kind), note)


def _block(kind: str, families: list[Family], out_dir: Path, sweep: str) -> list[str]:
    title = KINDS[kind][0]
    lines = ["", f"#### {title}", ""]
    if kind == "t" and len(families) > MAX_ROWS:
        rs = [f.corr.r for f in families if f.corr.r == f.corr.r]
        lines.append(
            f"{len(families)} runs: median r = {statistics.median(rs):.3f} "
            f"(min {min(rs):.3f}, max {max(rs):.3f}); each run's r and n are in summary.csv "
            f"(r_along_t, n_along_t). Paper: {reference_text(kind)}."
            if rs
            else f"{len(families)} runs, r undefined (constant e or v)."
        )
    elif any(paper_text(f) for f in families):
        lines += ["| family | Pearson r [95% CI], n | paper |", "|---|---|---|"]
        lines += [f"| {f.label} | {f.corr.text()} | {paper_text(f) or '—'} |" for f in families]
    else:
        lines += ["| family | Pearson r [95% CI], n |", "|---|---|"]
        lines += [f"| {f.label} | {f.corr.text()} |" for f in families]
        ref = reference_text(kind)
        lines += [
            "",
            f"Paper, in its own settings (for reference): {ref}."
            if ref != "none reported"
            else "The paper reports no r for this family.",
        ]
    if kind == "t":
        lines += [
            "",
            "The points of one run are successive states of one trajectory, not independent "
            "samples: their interval is too narrow.",
        ]
    lines += ["", f"![{title}]({_figure(families, out_dir, sweep, kind)})"]
    return lines


def families_by_sweep(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[Family]]]:
    """sweep → kind → families, from the finished runs."""
    out: dict[str, dict[str, list[Family]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        fam = along_t(row)
        if fam is not None:
            out[fam.sweep]["t"].append(fam)
    for fam in along_gamma(rows) + per_dataset(rows):
        out[fam.sweep][fam.kind].append(fam)
    for row in rows:  # a sweep with no family still gets its heading
        out[sweep_of(row)]
    return out


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """r per family and scatter plots, sweep by sweep."""
    lines = ["## Pearson r(e, v)", ""]
    by_sweep = families_by_sweep(rows)
    if not by_sweep:
        return ""  # no finished runs: no section
    lines.append(
        "r with its 95% confidence interval (Fisher z, scipy.stats.pearsonr) and n, beside "
        "the paper's r; an r from fewer than 5 points is marked (n < 5)."
    )
    for sweep, kinds in sorted(by_sweep.items()):
        lines += ["", f"### {sweep}"]
        if not any(kinds.values()):
            lines += ["", "No family with enough points (3 along t or γ, 4 per data set)."]
        for kind in KINDS:
            if kinds.get(kind):
                lines += _block(kind, kinds[kind], out_dir, sweep)
    return "\n".join(lines)
