"""results.json (written atomically) and the summary table a run prints."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write JSON to a temporary file beside `path`, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2, allow_nan=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    v_none = results["verification_error_no_unlearning"]
    derived["v_ratio"] = results["verification_error"] / v_none if v_none else float("nan")
    width = max(len(label) for label, _ in SUMMARY_ROWS)
    lines = [f"{label:<{width}}  {_fmt(derived[key])}" for label, key in SUMMARY_ROWS]
    rule = "-" * (width + 14)
    return "\n".join([rule, *lines, rule])
