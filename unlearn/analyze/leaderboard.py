"""Section "Leaderboard": every unlearning method scored against the same lock-step twin.

One table per forget set (and setting), one line per method, ranked by v/v_none (below 1:
closer to the twin than doing nothing), with the field's metrics beside it: the accuracy
gaps to the twin on F, R and the test set, membership-inference efficacy on F, the
output distance, and the cost. Each number is the mean over seeds ± the half-width of a
95 % Student-t interval. The comparisons are paired: a run with a given seed has one
window and one twin for every method (`unlearn.compare`, and equally separate runs of one
seed, which are deterministic), so the difference of v/v_none between two methods is
taken within each seed and its interval is over those differences (`paired`), which
removes the seed-to-seed spread the methods share. Two figures: v/v_none against cost
(log axes), with doing nothing (v/v_none = 1) and retraining (v = 0, at the twin's cost)
drawn as references; and v against the output distance, where the two notions of
"forgotten" part ways.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from unlearn.analyze.families import setting
from unlearn.analyze.plots import factor_label, save, slug, varied
from unlearn.analyze.ratio import CEILING
from unlearn.analyze.tables import fmt

Row = dict[str, Any]
COLUMNS = (  # (header, results.json key)
    ("v/v_none", "v_ratio"),
    ("v", "verification_error"),
    ("JS on F", "output_distance_forget"),
    ("JS on test", "output_distance_test"),
    ("Δacc F", "gap_acc_forget"),
    ("Δacc R", "gap_acc_retain"),
    ("Δacc test", "gap_acc_test"),
    ("MIA on F", "mia_forget"),
    ("grads", "cost_gradient_evaluations"),
    ("HVPs", "cost_hessian_vector_products"),
    ("seconds", "cost_seconds"),
)


def mean_interval(values: list[float], level: float = 0.95) -> tuple[float, float, int]:
    """(mean, half-width of the Student-t interval at `level`, n) of the finite values;
    the half-width is NaN for fewer than 2 values and 0 when they are all equal."""
    a = np.asarray([v for v in values if isinstance(v, int | float) and math.isfinite(v)])
    n = int(a.size)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(a.mean())
    if n < 2:
        return mean, math.nan, n
    sem = float(stats.sem(a))
    return mean, float(stats.t.ppf(0.5 + level / 2, n - 1) * sem), n


def cell(values: list[float]) -> str:
    """'0.87 ± 0.05' ('0.87' for one value, '—' for none)."""
    mean, half, n = mean_interval(values)
    if n == 0:
        return "—"
    return fmt(mean, 3) if math.isnan(half) else f"{fmt(mean, 3)} ± {fmt(half, 2)}"


def _method(row: Row) -> str:
    return str(row.get("method") or row.get("unlearn") or "?")


def _forget(row: Row) -> str:
    name = str(row.get("forget") or "?")
    size = row.get("forget_size")
    return name if name != "random" else f"random (k = {size})"


def groups(rows: list[Row]) -> dict[str, dict[str, list[Row]]]:
    """forget set (· setting, · every other knob that varies: η, t, γ, …) → method → its
    runs, which then differ only by seed: a table never averages over η or t."""
    scored = [r for r in rows if r.get("method") and isinstance(r.get("v_ratio"), int | float)]
    several = len({setting(r) for r in scored}) > 1
    knobs = varied(scored, skip=("seed", "method", "unlearn", "forget", "model", "data"))
    out: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in scored:
        key = _forget(row) + (f" · {setting(row)}" if several else "")
        key += f" · {factor_label(row, knobs)}" if knobs else ""
        out[key][_method(row)].append(row)
    return {k: dict(v) for k, v in sorted(out.items())}


def ranking(by_method: dict[str, list[Row]]) -> list[tuple[str, list[Row]]]:
    """Methods by mean v/v_none, lowest first (NaN last)."""

    def key(item: tuple[str, list[Row]]) -> float:
        mean = mean_interval([r.get("v_ratio") for r in item[1]])[0]
        return math.inf if math.isnan(mean) else mean

    return sorted(by_method.items(), key=key)


def beats_nothing(by_method: dict[str, list[Row]]) -> list[str]:
    """Methods whose mean v/v_none is below 1 (retrain, v = 0, aside)."""
    out = []
    for name, runs in ranking(by_method):
        mean = mean_interval([r.get("v_ratio") for r in runs])[0]
        if name != "retrain" and mean < 1.0:
            out.append(name)
    return out


REFERENCES = ("none", "single_gradient")  # the paired differences' references


def _window(row: Row) -> Any:
    """What makes two rows share a window and a twin: the job of a compared run, else the
    seed (separate runs of one seed and setting are deterministic, so they share them)."""
    return ("job", row.get("job")) if row.get("compared") else ("seed", row.get("seed"))


def paired(runs: list[Row], reference: list[Row], key: str = "v_ratio") -> list[float]:
    """`key` of each run minus the reference's on the same window (same twin), for the
    windows both have."""
    ref = {_window(r): r.get(key) for r in reference}
    out = []
    for r in runs:
        a, b = r.get(key), ref.get(_window(r))
        if isinstance(a, int | float) and isinstance(b, int | float):
            out.append(float(a) - float(b))
    return out


def closer_than(by_method: dict[str, list[Row]], reference: str) -> list[str]:
    """Methods whose paired difference of v/v_none to `reference` has its whole 95 %
    interval below 0: significantly closer to the twin (retrain aside)."""
    out = []
    for name, runs in ranking(by_method):
        if name in ("retrain", reference) or reference not in by_method:
            continue
        mean, half, _ = mean_interval(paired(runs, by_method[reference]))
        if math.isfinite(mean) and math.isfinite(half) and mean + half < 0:
            out.append(name)
    return out


def _paired_cell(runs: list[Row], by_method: dict[str, list[Row]], reference: str) -> str:
    if reference not in by_method:
        return "—"
    diffs = paired(runs, by_method[reference])
    mean, half, n = mean_interval(diffs)
    mark = " ✓" if n > 1 and math.isfinite(half) and mean + half < 0 else ""
    return cell(diffs) + mark


def table(by_method: dict[str, list[Row]]) -> list[str]:
    order = any("v_order_ratio" in r for runs in by_method.values() for r in runs)
    columns = [COLUMNS[0], *([("v/v_order", "v_order_ratio")] if order else []), *COLUMNS[1:]]
    heads = [columns[0][0], *(f"Δ vs {ref}" for ref in REFERENCES), *(h for h, _ in columns[1:])]
    head = "| rank | method | seeds | " + " | ".join(heads) + " |"
    lines = [head, "|" + "---|" * (3 + len(heads))]
    for i, (name, runs) in enumerate(ranking(by_method), 1):
        cells = [cell([r.get(k) for r in runs]) for _, k in columns]
        deltas = [_paired_cell(runs, by_method, ref) for ref in REFERENCES]
        lines.append(
            f"| {i} | {name} | {len(runs)} | " + " | ".join([cells[0], *deltas, *cells[1:]]) + " |"
        )
    return lines


def _cost(row: Row) -> float:
    grads, hvps = row.get("cost_gradient_evaluations"), row.get("cost_hessian_vector_products")
    return float(grads or 0) + float(hvps or 0)


FLOOR = 0.5  # where a method that spends no gradient is drawn on the log cost axis
ORDER = (  # the paper's methods, then the field's; any other method follows, sorted
    "none", "retrain", "single_gradient", "amnesiac", "fine_tune", "random_label",
    "gradient_ascent", "neggrad_plus", "scrub", "l1_sparse", "salun",
)  # fmt: skip
MARKERS = "osD^vP*Xhp<>"


def styles(grouped: dict[str, dict[str, list[Row]]]) -> dict[str, dict[str, Any]]:
    """One colour and marker per method, the same in every panel and both figures."""
    import matplotlib

    names = {m for by_method in grouped.values() for m in by_method}
    ordered = [m for m in ORDER if m in names] + sorted(names - set(ORDER))
    cmap = matplotlib.colormaps["tab20"]
    return {
        m: {"color": cmap(i % 20), "marker": MARKERS[i % len(MARKERS)]}
        for i, m in enumerate(ordered)
    }


def _row_of_panels(n: int) -> tuple[Any, list[Any], Any]:
    """One panel per forget set in a row, and a narrow last one holding the legend."""
    import matplotlib.pyplot as plt

    ratios = [1.0] * n + [0.42]
    fig, axes = plt.subplots(1, n + 1, figsize=(4.2 * n + 1.8, 3.8), width_ratios=ratios)
    axes[-1].axis("off")
    return fig, list(axes[:-1]), axes[-1]


def _legend(ax: Any, style: dict[str, dict[str, Any]], extra: list[Any]) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="", label=m, markersize=6, mfc="none", **s) for m, s in style.items()
    ] + extra
    ax.legend(handles=handles, loc="center left", fontsize=8, frameon=False)


def figure_cost(out_dir: Path, grouped: dict[str, dict[str, list[Row]]]) -> str:
    from matplotlib.lines import Line2D

    style = {m: s for m, s in styles(grouped).items() if m not in ("none", "retrain")}
    fig, axes, key = _row_of_panels(len(grouped))
    for ax, (title, by_method) in zip(axes, grouped.items(), strict=True):
        retrain = [_cost(r) for r in by_method.get("retrain", [])]
        above = []
        for name, runs in ranking(by_method):
            if name not in style:
                continue
            y, half, _ = mean_interval([r.get("v_ratio") for r in runs])
            x = max(mean_interval([_cost(r) for r in runs])[0], FLOOR)
            if y > CEILING:  # an overflowing method: on the top edge, named in a note
                above.append(name)
                ax.plot(x, CEILING, marker="^", ls="", mfc="none", color=style[name]["color"])
                continue
            err = None if math.isnan(half) else [[min(half, y * 0.999)], [min(half, CEILING)]]
            ax.errorbar(x, y, yerr=err, capsize=3, ls="", mfc="none", **style[name])
        if above:
            ax.text(0.99, 0.02, f"above {CEILING:g}, on the top edge: {', '.join(above)}",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5)  # fmt: skip
        ax.axhline(1.0, color="grey", ls="--", lw=1)
        if retrain:
            ax.axvline(float(np.mean(retrain)), color="black", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", title=f"forget: {title}")
        ax.set(xlabel=f"gradient evals + HVPs (0 drawn at {FLOOR})", ylabel="v / v_none")
    refs = [
        Line2D([], [], color="grey", ls="--", label="do nothing (v = v_none)"),
        Line2D([], [], color="black", ls=":", label="retrain: v = 0, at its cost"),
    ]
    _legend(key, style, refs)
    fig.suptitle("v / v_none against cost (mean ± 95 % interval over seeds)", fontsize=10)
    return save(fig, out_dir, slug("leaderboard_ratio_vs_cost"))


def figure_output_space(out_dir: Path, grouped: dict[str, dict[str, list[Row]]]) -> str:
    style = {m: s for m, s in styles(grouped).items() if m != "retrain"}
    fig, axes, key = _row_of_panels(len(grouped))
    for ax, (title, by_method) in zip(axes, grouped.items(), strict=True):
        for name, runs in ranking(by_method):
            pts = [
                (r["output_distance_test"], r["verification_error"])
                for r in runs
                if (r.get("output_distance_test") or 0) > 0
                and (r.get("verification_error") or 0) > 0
            ]
            if pts and name in style:
                color, marker = style[name]["color"], style[name]["marker"]
                xs, ys = zip(*pts, strict=True)
                ax.scatter(xs, ys, s=22, facecolors="none", edgecolors=color, marker=marker)
        ax.set(xscale="log", yscale="log", title=f"forget: {title}")
        ax.set(xlabel="mean JS(M'' ‖ M') on the test set", ylabel="v = ‖w' − w''‖")
    _legend(key, style, [])
    fig.suptitle("weight space (v) against output space (one point per run; retrain at 0, 0)",
                 fontsize=10)  # fmt: skip
    return save(fig, out_dir, slug("leaderboard_v_vs_output_distance"))


def figure_paired(out_dir: Path, grouped: dict[str, dict[str, list[Row]]]) -> str:
    """Δ v/v_none to doing nothing, within each seed: mean ± 95 % interval per method
    (symlog axis: the differences span from −1, retraining, to tens)."""
    style = styles(grouped)
    fig, axes, key = _row_of_panels(len(grouped))
    for ax, (title, by_method) in zip(axes, grouped.items(), strict=True):
        if "none" not in by_method:
            ax.set_axis_off()
            continue
        names = [n for n, _ in ranking(by_method) if n != "none"]
        for y, name in enumerate(names):
            mean, half, _ = mean_interval(paired(by_method[name], by_method["none"]))
            err = None if math.isnan(half) else [[half], [half]]
            ax.errorbar(mean, y, xerr=err, capsize=3, ls="", mfc="none", **style[name])
        ax.axvline(0.0, color="grey", ls="--", lw=1)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("symlog", linthresh=0.1)
        lo, hi = ax.get_xlim()  # a few plain ticks: symlog's own crowd around −1 … −0.1
        ticks = [t for t in (-100, -10, -1, 0, 1, 10, 100) if lo <= t <= hi]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set(title=f"forget: {title}", xlabel="Δ v/v_none to doing nothing (paired)")
    _legend(key, {m: s for m, s in style.items() if m != "none"}, [])
    fig.suptitle("paired difference to doing nothing, within each seed (mean ± 95 % interval; "
                 "left of 0: closer to the twin)", fontsize=10)  # fmt: skip
    return save(fig, out_dir, slug("leaderboard_paired_vs_none"))


def render(rows: list[Row], out_dir: str | Path) -> str:
    """The leaderboard section: the tables, the methods that beat doing nothing, figures."""
    grouped = {k: g for k, g in groups(rows).items() if len(g) > 1}
    if not grouped:  # a sweep of one method has no leaderboard
        return ""
    lines = ["## Leaderboard: unlearning methods against the lock-step twin"]
    lines += [
        "",
        "Ranked by v/v_none (< 1: closer to the twin M' than doing nothing); mean ± 95 % "
        "t-interval over seeds. Δ vs none, Δ vs single_gradient: the paired difference of "
        "v/v_none to that method within each seed (same window, same twin), mean ± 95 % "
        "t-interval over seeds; ✓: the whole interval is below 0 (significantly closer to "
        "the twin). v/v_order: v over the distance between two exact retrains that differ "
        "only in batch order (< 1: indistinguishable from retraining). "
        "Δacc = accuracy of M'' − accuracy of M' (0 is the twin's); "
        "MIA on F: share of F a loss/entropy attack calls non-member (the twin's own value "
        "is the target, `twin_mia_forget` in summary.csv); JS: mean Jensen–Shannon "
        "divergence (nats) between the softmax outputs of M'' and M'; grads and HVPs: "
        "backward passes and Hessian-vector products spent unlearning.",
    ]
    for title, by_method in grouped.items():
        better = beats_nothing(by_method)
        lines += ["", f"### Forget set: {title}", "", *table(by_method), ""]
        lines.append(
            "Beat doing nothing (mean v/v_none < 1): " + (", ".join(better) if better else "none")
            + "."
        )  # fmt: skip
        for ref in REFERENCES:
            if ref in by_method:
                sig = closer_than(by_method, ref)
                lines.append(
                    f"Significantly closer to the twin than {ref} (paired 95 % interval of "
                    f"Δ v/v_none below 0): {', '.join(sig) if sig else 'none'}."
                )
    out = Path(out_dir)
    lines += ["", f"![v/v_none against cost]({figure_cost(out, grouped)})"]
    lines += ["", f"![v against output distance]({figure_output_space(out, grouped)})"]
    if any("none" in g for g in grouped.values()):
        lines += ["", f"![paired difference to doing nothing]({figure_paired(out, grouped)})"]
    return "\n".join(lines)
