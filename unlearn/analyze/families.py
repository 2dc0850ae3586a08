"""Families of (e, v) points, the units over which the paper computes Pearson's r.

- ``t``: one run's own curve, e(s) against v(s) at the window steps s where both were
  measured (Figure 9: "t is the only variable giving a distribution").
- ``gamma``: the final (e, v) of runs identical in every knob but γ (Figures 10, 11);
  ``lambda`` likewise along the ℓ2 strength λ (no r in the paper).
- ``dataset``: the final (e, v) of every run of a sweep on one data set, whatever its
  setting (Figure 12).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from unlearn.analyze.stats import Correlation, pearson
from unlearn.analyze.summary import override_knobs

IDENTITY = ("data", "model", "loss", "N", "t", "lr", "batch_size", "seed", "l2_lambda")


@dataclass
class Family:
    """Points (e, v) with a colour value each (the step or γ), and their correlation."""

    kind: str
    label: str
    sweep: str
    data: str | None
    model: str | None
    e: list[float]
    v: list[float]
    colour: list[float]
    rows: list[dict[str, Any]] = field(default_factory=list)
    corr: Correlation = field(init=False)

    def __post_init__(self) -> None:
        self.corr = pearson(self.e, self.v)


def sweep_of(row: dict[str, Any]) -> str:
    """The name a run's sweep goes by: ``+sweep=NAME``, else its sweep folder."""
    return str(row.get("sweep") or row.get("sweep_dir") or ".")


def setting(row: dict[str, Any]) -> str:
    """'small_cnn on digits' (the model and data set of a run)."""
    return f"{row.get('model') or '?'} on {row.get('data') or '?'}"


def _n(row: dict[str, Any]) -> str:
    n, n_epochs = row.get("N"), row.get("N_epochs")
    return f"N = {n_epochs:g} epochs" if isinstance(n_epochs, int | float) else f"N = {n} steps"


def along_t(row: dict[str, Any]) -> Family | None:
    """The run's own (e(s), v(s)) at the steps where both were measured; None if < 3."""
    curves = row.get("curves") or {}
    e_at = dict(zip(curves.get("step") or [], curves.get("unlearning_error") or [], strict=False))
    v_at = dict(
        zip(curves.get("verify_step") or [], curves.get("verification_error") or [], strict=False)
    )
    steps = sorted(set(e_at) & set(v_at))
    if len(steps) < 3:
        return None
    return Family(
        "t",
        f"{setting(row)}, {_n(row)}, γ = {row.get('gamma')} ({row.get('job')})",
        sweep_of(row),
        row.get("data"),
        row.get("model"),
        [float(e_at[s]) for s in steps],
        [float(v_at[s]) for s in steps],
        [float(s) for s in steps],
        [row],
    )


def _final(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    def num(x: Any) -> float:
        return float(x) if isinstance(x, int | float) else math.nan

    return (
        [num(r.get("unlearning_error")) for r in rows],
        [num(r.get("verification_error")) for r in rows],
    )


def _reg(row: dict[str, Any]) -> tuple[str, str, float]:
    """(family kind, override key, value) of a run's regulariser: λ for ℓ2, else γ."""
    if row.get("loss") == "l2":
        return "lambda", "loss.l2_lambda", float(row.get("l2_lambda") or 0.0)
    return "gamma", "gamma", float(row.get("gamma") or 0.0)


def along_gamma(rows: list[dict[str, Any]]) -> list[Family]:
    """One family per group of runs that differ only in their regulariser (3 values at
    least): γ for the SD loss (kind ``gamma``), λ for ℓ2 (kind ``lambda``)."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        kind, key, _ = _reg(row)
        knobs = {k: v for k, v in override_knobs(row).items() if k not in (key, "gamma")}
        ident = tuple(str(row.get(k)) for k in IDENTITY if k != "l2_lambda")
        groups[(kind, sweep_of(row), ident, tuple(sorted(knobs.items())))].append(row)
    families = []
    for (kind, *_), members in groups.items():
        if len({_reg(m)[2] for m in members}) < 3:
            continue
        members = sorted(members, key=lambda m: _reg(m)[2])
        e, v = _final(members)
        first = members[0]
        label = f"{setting(first)}, {_n(first)}, b = {first.get('batch_size')}"
        families.append(
            Family(
                kind,
                label,
                sweep_of(first),
                first.get("data"),
                first.get("model"),
                e,
                v,
                [_reg(m)[2] for m in members],
                members,
            )
        )
    return families


def per_dataset(rows: list[dict[str, Any]]) -> list[Family]:
    """One family per (sweep, data set) with at least 4 runs."""
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(sweep_of(row), row.get("data"))].append(row)
    families = []
    for (sweep, data), members in groups.items():
        if len(members) < 4:
            continue
        e, v = _final(members)
        families.append(
            Family(
                "dataset",
                f"all {len(members)} runs on {data}",
                sweep,
                data,
                None,
                e,
                v,
                [float(m.get("gamma") or 0) for m in members],
                members,
            )
        )
    return families
