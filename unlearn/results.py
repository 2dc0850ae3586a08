"""results.json (written atomically) and the summary table a run prints."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from unlearn.atomic import write_text_atomic


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: readers never see half a file."""
    write_text_atomic(path, json.dumps(obj, indent=2, allow_nan=True))


FINISHED = ("ok", "diverged")  # a run with one of these statuses is never run or written again


class FinishedRunError(FileExistsError):
    """A finished run's results.json is in the way: it is never overwritten."""


def read_results(path: str | Path) -> dict[str, Any] | None:
    """The results.json at `path`, or None if there is none (ValueError if it is not JSON)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a results.json ({err})") from err


def write_results(path: str | Path, results: dict[str, Any]) -> None:
    """`write_json_atomic`, except over a finished run's results.json (FinishedRunError).

    A failed run's file may be replaced: retrying it is the point of running it again.
    """
    try:
        existing = read_results(path)
    except ValueError:
        existing = None
    if existing is not None and existing.get("status") in FINISHED:
        raise FinishedRunError(f"{path}: a finished run's results.json is never overwritten")
    write_json_atomic(path, results)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"  # undefined (e.g. v / v_none when nothing is forgotten), never "nan"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


SUMMARY_ROWS = (
    ("N (pretrain steps)", "N"),
    ("t (window steps)", "t"),
    ("η (lr)", "lr"),
    ("b (batch size)", "batch_size"),
    ("γ (SD strength)", "gamma"),
    ("‖w_t − w_0‖", "weight_drift"),
    ("σ_avg", "sigma_avg"),
    ("η·σ_avg", "lr_sigma"),
    ("e (unlearning error)", "unlearning_error"),
    ("v (verification error)", "verification_error"),
    ("v without unlearning", "verification_error_no_unlearning"),
    ("v / v_none", "v_ratio"),
    ("test accuracy", "test_acc"),
    ("wall time (s)", "wall_time_s"),
)


def _choice(results: dict[str, Any], choices: dict[str, Any] | None, group: str) -> str:
    """The config option a run chose ('small_cnn'), else its _target_'s class name."""
    if choices and choices.get(group):
        return str(choices[group])
    node = (results.get("config") or {}).get(group)
    target = node.get("_target_") if isinstance(node, dict) else None
    return str(target).rsplit(".", 1)[-1] if target else "?"


def v_ratio(results: dict[str, Any]) -> float:
    """v / v_none; NaN where it is undefined (v_none = 0: nothing was forgotten)."""
    v, v_none = results.get("verification_error"), results.get("verification_error_no_unlearning")
    ok = isinstance(v, int | float) and isinstance(v_none, int | float) and v_none != 0
    return v / v_none if ok else math.nan


def summary_table(results: dict[str, Any], choices: dict[str, Any] | None = None) -> str:
    """The run's headline numbers as a plain-text rich table, below what was run.

    Args:
        results: a run's results.json.
        choices: Hydra's chosen config options (names ``model``, ``data``); without them
            the class names of the config's ``_target_``s are shown.
    """
    from rich.box import HORIZONTALS
    from rich.console import Console
    from rich.table import Table

    derived = dict(results)
    derived["lr_sigma"] = results["lr"] * results["sigma_avg"]
    derived["v_ratio"] = v_ratio(results)
    table = Table(box=HORIZONTALS, show_header=False, pad_edge=False)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("method", str(results.get("method") or "—"))
    table.add_row("forget set", str(results.get("forget") or "—"))
    table.add_row("model", _choice(results, choices, "model"))
    table.add_row("data", _choice(results, choices, "data"))
    table.add_section()
    for label, key in SUMMARY_ROWS:
        table.add_row(label, _fmt(derived.get(key)))
    console = Console(width=100, color_system=None, force_terminal=False, record=True)
    with console.capture() as out:
        console.print(table)
    return "\n".join(line.rstrip() for line in out.get().strip("\n").splitlines())
