"""Figures 2, 13, 14 and 15: privacy risk and amnesiac unlearning, ours beside the paper's.

- Figure 2: PRS of the forgotten samples after amnesiac unlearning against v (paper:
  Pearson r = −0.29 on CIFAR-10, −0.02 on CIFAR-100: "no monotonic relation").
- Figure 13: PRS before and after single-gradient unlearning against γ, with Spearman ρ
  (paper: unlearning at γ = 0 roughly halves PRS; ρ switches sign and is often weak).
- Figure 14: e against v with amnesiac unlearning across settings (paper: r = 0.91 / 0.81).
- Figure 15: e against v along t within one amnesiac run (paper: "comparable" to Figure 9,
  whose r are 0.934 and 0.9668).

PRS needs runs made with ``prs=true``; the amnesiac figures need ``unlearn=amnesiac``.
Runs without them are left out, and the section says what to run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from scipy import stats as scipy_stats

from unlearn.analyze.families import along_t, setting
from unlearn.analyze.plots import mark_few, panels, save, scatter, title
from unlearn.analyze.stats import pearson

Row = dict[str, Any]
PAPER = {
    "fig2": "r = −0.29 (CIFAR-10), −0.02 (CIFAR-100), 27 settings each",
    "fig13": "PRS roughly halved by unlearning at γ = 0; Spearman ρ switches sign, often weak",
    "fig14": "r = 0.91 (CIFAR-10), 0.81 (CIFAR-100), 104 settings",
    "fig15": "comparable to Figure 9 (r = 0.934, 0.9668)",
}


def method(row: Row) -> str | None:
    """The unlearning method of a run (results.json's `method`, else its config choice)."""
    return row.get("method") or row.get("unlearn")


def _groups(rows: list[Row], name: str, prs: bool) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if method(row) == name and (not prs or isinstance(row.get("prs_after"), dict)):
            out[setting(row)].append(row)
    return dict(sorted(out.items()))


def _spearman(x: list[float], y: list[float]) -> float:
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan
    return float(scipy_stats.spearmanr(x, y)[0])


def _figure(
    out_dir: Path, name: str, series: dict[str, tuple[list, list, list]], labels: tuple[str, ...]
) -> str:
    """One panel per series of (x, y, colour); returns the markdown image line."""
    if not series:
        return ""
    fig, axes = panels(len(series))
    for ax, (name_, (x, y, c)) in zip(axes, series.items(), strict=True):
        scatter(ax, x, y, c, labels[2])
        ax.set(xlabel=labels[0], ylabel=labels[1])
        corr = pearson(x, y)
        title(ax, name_, corr.label())
        mark_few(ax, corr.n)
    return f"![{name}]({save(fig, out_dir, name)})"


def figure_2(rows: list[Row], out_dir: Path) -> str:
    groups = _groups(rows, "amnesiac", prs=True)
    lines = ["### Figure 2: PRS after amnesiac unlearning against v", f"Paper: {PAPER['fig2']}."]
    if not groups:
        return ""  # no such runs: the figure is left out
    series = {
        k: (
            [r["verification_error"] for r in g],
            [r["prs_after"]["mean"] for r in g],
            [r.get("gamma", 0.0) for r in g],
        )
        for k, g in groups.items()
    }
    lines += ["", "| setting | r(v, PRS after) |", "|---|---|"]
    lines += [f"| {k} | {pearson(x, y).text()} |" for k, (x, y, _) in series.items()]
    return "\n".join([*lines, "", _figure(out_dir, "fig2_prs_vs_v", series, ("v", "PRS", "γ"))])


def figure_13(rows: list[Row], out_dir: Path) -> str:
    groups = _groups(rows, "single_gradient", prs=True)
    lines = [
        "### Figure 13: PRS before and after unlearning against γ",
        f"Paper: {PAPER['fig13']}.",
    ]
    if not groups:
        return ""  # no such runs: the figure is left out
    lines += ["", "| setting | runs | ρ(γ, before) | ρ(γ, after) | after / before at γ = 0 |"]
    lines.append("|---|---|---|---|---|")
    series = {}
    for k, g in groups.items():
        gamma = [float(r["gamma"]) for r in g]
        before = [r["prs_before"]["mean"] for r in g]
        after = [r["prs_after"]["mean"] for r in g]
        zero = [(b, a) for gm, b, a in zip(gamma, before, after, strict=True) if gm == 0]
        ratio = sum(a for _, a in zero) / sum(b for b, _ in zero) if zero else math.nan
        rho_b, rho_a = _spearman(gamma, before), _spearman(gamma, after)
        lines.append(f"| {k} | {len(g)} | {rho_b:.3f} | {rho_a:.3f} | {ratio:.3f} |")
        series[f"{k}: before"] = (gamma, before, gamma)
        series[f"{k}: after"] = (gamma, after, gamma)
    image = _figure(out_dir, "fig13_prs_vs_gamma", series, ("γ", "PRS of F", "γ"))
    return "\n".join([*lines, "", image])


def figure_14(rows: list[Row], out_dir: Path) -> str:
    groups = _groups(rows, "amnesiac", prs=False)
    lines = ["### Figure 14: e against v, amnesiac unlearning", f"Paper: {PAPER['fig14']}."]
    if not groups:
        return ""  # no such runs: the figure is left out
    series = {
        k: (
            [r["unlearning_error"] for r in g],
            [r["verification_error"] for r in g],
            [r.get("gamma", 0.0) for r in g],
        )
        for k, g in groups.items()
    }
    lines += ["", "| setting | r(e, v) |", "|---|---|"]
    lines += [f"| {k} | {pearson(e, v).text()} |" for k, (e, v, _) in series.items()]
    return "\n".join([*lines, "", _figure(out_dir, "fig14_e_vs_v_amnesiac", series, _EV_GAMMA)])


_EV_GAMMA = ("unlearning error e", "verification error v", "γ")


def figure_15(rows: list[Row], out_dir: Path) -> str:
    fams = [f for r in rows if method(r) == "amnesiac" and (f := along_t(r)) is not None]
    lines = ["### Figure 15: e against v along t, amnesiac", f"Paper: {PAPER['fig15']}."]
    if not fams:
        return ""  # no such runs: the figure is left out
    lines += ["", "| run | r(e, v) along t |", "|---|---|"]
    lines += [f"| {f.label} | {f.corr.text()} |" for f in fams]
    series = {f.label: (f.e, f.v, f.colour) for f in fams[:6]}
    labels = ("unlearning error e", "verification error v", "step")
    return "\n".join([*lines, "", _figure(out_dir, "fig15_e_vs_v_along_t", series, labels)])


def privacy_report(rows: list[Row], out_dir: str | Path) -> str:
    """The figures that have runs, as one report section (none: no section).

    Figures 2 and 13 need runs with ``prs=true``, 14 and 15 runs with ``unlearn=amnesiac``.
    """
    out = Path(out_dir)
    parts = [f(rows, out) for f in (figure_2, figure_13, figure_14, figure_15)]
    if not any(parts):
        return ""
    missing = [
        name
        for name, part in zip(
            ("Figure 2", "Figure 13", "Figure 14", "Figure 15"), parts, strict=True
        )
        if not part
    ]
    note = (
        [
            f"Left out for want of runs: {', '.join(missing)} (2 and 13 need `prs=true`, "
            "14 and 15 `unlearn=amnesiac`)."
        ]
        if missing
        else []
    )
    head = "## Privacy risk and amnesiac unlearning (Figures 2, 13–15)"
    return "\n\n".join([head, *(p for p in parts if p), *note])
