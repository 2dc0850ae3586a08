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
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
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
    ("η·σ_avg·(t − 1)", "lr_sigma_window"),  # small: the update helps (SPEC.md)
    ("e (unlearning error)", "unlearning_error"),
    ("v (verification error)", "verification_error"),
    ("v without unlearning", "verification_error_no_unlearning"),
    ("v / v_none", "v_ratio"),
    ("test accuracy", "test_acc"),
    ("wall time (s)", "wall_time_s"),
)


def summary_table(results: dict[str, Any]) -> str:
    """The run's headline numbers, one per line, aligned."""
    derived = dict(results)
    derived["lr_sigma"] = results["lr"] * results["sigma_avg"]
    derived["lr_sigma_window"] = derived["lr_sigma"] * (results["t"] - 1)
    v_none = results["verification_error_no_unlearning"]
    derived["v_ratio"] = results["verification_error"] / v_none if v_none else float("nan")
    width = max(len(label) for label, _ in SUMMARY_ROWS)
    lines = [f"{label:<{width}}  {_fmt(derived[key])}" for label, key in SUMMARY_ROWS]
    rule = "-" * (width + 14)
    return "\n".join([rule, *lines, rule])
