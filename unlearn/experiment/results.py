"""results.json (written atomically) and the summary table a run prints.

results.json is strict JSON: a NaN or infinite number (a diverged run's loss, a σ that
was never measured) is written as null, and the key ``non_finite`` maps each such
place ("sigma_avg", "curves.sigma.3") to "nan", "inf" or "-inf"; `read_results` puts
the floats back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from unlearn.runtime.atomic import write_text_atomic


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: readers never see half a file.

    Non-finite floats become null, noted under ``non_finite`` (for a dict)."""
    notes: dict[str, str] = {}
    safe = _finite(obj, "", notes)
    if notes and isinstance(safe, dict):
        safe["non_finite"] = notes
    write_text_atomic(path, json.dumps(safe, indent=2, allow_nan=False))


def _finite(obj: Any, where: str, notes: dict[str, str]) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        notes[where] = "nan" if math.isnan(obj) else "inf" if obj > 0 else "-inf"
        return None
    if isinstance(obj, dict):
        return {k: _finite(v, f"{where}.{k}" if where else str(k), notes) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v, f"{where}.{i}", notes) for i, v in enumerate(obj)]
    return obj


def restore_non_finite(results: dict[str, Any]) -> dict[str, Any]:
    """Put the floats `write_json_atomic` wrote as null back (in place), and return it."""
    for where, text in (results.pop("non_finite", None) or {}).items():
        parts = where.split(".")
        node: Any = results
        try:
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node[part]
            last = parts[-1]
            if isinstance(node, list):
                node[int(last)] = float(text)
            else:
                node[last] = float(text)
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return results


class ResultsNotWritten(OSError):  # noqa: N818 (an OSError that carries the results)
    """results.json could not be written (a full disk): the finished results ride along."""

    def __init__(self, results: dict[str, Any], cause: OSError) -> None:
        super().__init__(cause.errno, f"results.json not written: {cause.strerror or cause}")
        self.results = results
        self.cause = cause


FINISHED = ("ok", "diverged")  # a run with one of these statuses is never run or written again


class FinishedRunError(FileExistsError):
    """A finished run's results.json is in the way: it is never overwritten."""


def read_results(path: str | Path) -> dict[str, Any] | None:
    """The results.json at `path`, or None if there is none (ValueError if it is not JSON)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a results.json ({err})") from err
    if not isinstance(results, dict):
        raise ValueError(f"{path}: not a results.json (not a JSON object)")
    return restore_non_finite(results)


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
    ("η·σ_avg·(t − 1)", "lr_sigma_window"),  # small: the update helps (docs/quantities.md)
    ("e (unlearning error)", "unlearning_error"),
    ("v (verification error)", "verification_error"),
    ("v without unlearning", "verification_error_no_unlearning"),
    ("v / v_none", "v_ratio"),
    ("test accuracy (original)", "test_acc"),  # the unlearned and twin: the verdict's table
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
    """The run's headline numbers as a plain-text rich table, below what was run, and
    the verdict (did unlearning work? `unlearn.metrics.verdict`) under it.

    Args:
        results: a run's results.json.
        choices: Hydra's chosen config options (names ``model``, ``data``); without them
            the class names of the config's ``_target_``s are shown.
    """
    from rich.box import HORIZONTALS
    from rich.console import Console
    from rich.table import Table

    derived = {k: math.nan if v is None else v for k, v in results.items()}  # null: NaN
    derived["lr_sigma"] = derived["lr"] * derived["sigma_avg"]
    derived["lr_sigma_window"] = derived["lr_sigma"] * (derived["t"] - 1)
    derived["v_ratio"] = v_ratio(derived)
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
    lines = [line.rstrip() for line in out.get().strip("\n").splitlines()]
    from unlearn.metrics.verdict import verdict_text  # here: unlearn.metrics imports torch (--help)

    return "\n".join([*lines, "", verdict_text(results)])
