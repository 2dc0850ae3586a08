"""Section "Tables": the paper's Tables 1–4 rebuilt from the runs, the paper's beside them.

One table per sweep and setting (data set, model, loss), one line per run, sorted by N
and the regulariser: γ for the SD loss (Tables 1, 2, 4), λ for ℓ2 (Table 3). Each line
has e and accuracy (Tables 1, 3, 4), v (Table 2), and v/v_none and η·σ_avg, without which v
cannot be read (docs/quantities.md). Where the paper reports the same setting, its numbers follow.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from unlearn.analyze.families import sweep_of
from unlearn.analyze.paper import paper_cell


def fmt(value: Any, digits: int = 4) -> str:
    """A number with `digits` significant digits; '—' for missing or NaN."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return "—"
    return f"{value:.{digits}g}"


def regulariser(row: dict[str, Any]) -> tuple[str, float]:
    """('λ', l2_lambda) for the ℓ2 loss, else ('γ', gamma)."""
    if row.get("loss") == "l2":
        return "λ", float(row.get("l2_lambda") or 0.0)
    return "γ", float(row.get("gamma") or 0.0)


def pretrain_amount(row: dict[str, Any]) -> tuple[str, float | None]:
    """('N (epochs)', N_epochs) when the run was configured in epochs, else steps."""
    if isinstance(row.get("N_epochs"), int | float):
        return "N (epochs)", float(row["N_epochs"])
    n = row.get("N")
    return "N (steps)", float(n) if isinstance(n, int | float) else None


def _overshoot(row: dict[str, Any]) -> float:
    """η·σ_avg·(t − 1): when it is not small, single-gradient unlearning overshoots."""
    t, lr_sigma = row.get("t"), row.get("lr_sigma")
    ok = isinstance(t, int | float) and isinstance(lr_sigma, int | float)
    return float(lr_sigma) * (t - 1) if ok else math.nan


def _table(rows: list[dict[str, Any]]) -> list[str]:
    reg_name, _ = regulariser(rows[0])
    n_name, _ = pretrain_amount(rows[0])
    show_b = len({r.get("batch_size") for r in rows}) > 1
    shown = [k for k in ("method", "forget") if len({str(r.get(k)) for r in rows}) > 1]
    papers = []
    for r in rows:
        n = pretrain_amount(r)[1] if n_name == "N (epochs)" else None
        papers.append(
            paper_cell(r.get("loss") or "sd", r.get("data"), r.get("model"), n, regulariser(r)[1])
        )
    with_paper = any(p is not None for p in papers)
    imdb = any(p is not None and len(p) == 3 for p in papers)
    head = [*shown, n_name, reg_name, *(["b"] if show_b else [])]
    head += ["e", "v", "v/v_none", "η·σ_avg", "η·σ_avg·(t−1)", "acc %"]
    if with_paper:
        head += ["paper e", "paper v", "paper acc %"] if imdb else ["paper e", "paper acc %"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r, paper in zip(rows, papers, strict=True):
        acc = r.get("test_acc")
        cells = [str(r.get(k)) for k in shown]
        cells += [fmt(pretrain_amount(r)[1]), fmt(regulariser(r)[1])]
        cells += [str(r.get("batch_size"))] if show_b else []
        cells += [fmt(r.get(k)) for k in ("unlearning_error", "verification_error", "v_ratio")]
        cells += [fmt(r.get("lr_sigma"), 3), fmt(_overshoot(r), 3)]
        cells += [fmt(100 * acc if isinstance(acc, float) else acc, 3)]
        if with_paper:
            width = 3 if imdb else 2
            cells += [fmt(x) for x in paper] if paper else ["—"] * width
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    """One table per sweep and setting, from the runs that finished."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        key = (sweep_of(r), str(r.get("data")), str(r.get("model")), str(r.get("loss") or "sd"))
        groups[key].append(r)
    lines = ["## Tables (as the paper's Tables 1–4)", ""]
    if not groups:
        return ""  # no finished runs: no section
    lines.append(
        "e: unlearning error (eq. 9); v: verification error; v_none: v without unlearning; "
        "η·σ_avg·(t−1): the step size against curvature over the window (unlearning helps "
        "only while it is small); acc: test accuracy. The paper's columns appear where it "
        "reports the same setting."
    )
    for (sweep, data, model, loss), members in sorted(groups.items()):
        members.sort(
            key=lambda r: (
                str(r.get("method")),
                str(r.get("forget")),
                pretrain_amount(r)[1] or 0,
                regulariser(r)[1],
                r.get("batch_size") or 0,
            )
        )
        lines += ["", f"### {sweep}: {model} on {data}, loss {loss}", "", *_table(members)]
    return "\n".join(lines)
