"""Find every run below a folder and what was asked for but is not there.

A run is a folder with a results.json (any status: ok, diverged, failed). Its row is the
results.json itself plus what places it in its sweep, read from Hydra's records beside
it (``.hydra/hydra.yaml``: the chosen config options and the job number;
``.hydra/overrides.yaml``: the job's overrides, i.e. its swept knobs), with fallbacks to
the resolved config when those records are missing. Keys a run lacks are simply absent:
every reader uses ``row.get``.

What was asked for comes from the ``jobs.json`` each sweep folder holds (written by the
union sweeper before it launches): a job without a results.json is reported as missing
(not started, or running, or killed).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import yaml

from unlearn.experiment.results import restore_non_finite

SKIP_DIRS = {"wandb", ".submitit", "checkpoints", "csv", ".hydra", "figures"}
METRICS = (
    "weight_drift",
    "sigma_avg",
    "lr_sigma",
    "unlearning_error",
    "verification_error",
    "verification_error_no_unlearning",
    "v_ratio",
    "test_acc",
)


def natural(text: object) -> tuple:
    """A sort key that orders the numbers inside names by value: job 2 before job 10."""
    parts = re.split(r"(\d+)", str(text))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _files(root: Path, name: str) -> list[Path]:
    found = []
    for path in sorted(root.rglob(name), key=lambda p: natural(p.relative_to(root))):
        if not SKIP_DIRS.intersection(path.relative_to(root).parts[:-1]):
            found.append(path)
    return found


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _leaf(target: Any) -> str | None:
    """'unlearn.models.SmallCNN' → 'SmallCNN' (a fallback name when Hydra's record is gone)."""
    return str(target).rsplit(".", 1)[-1] if target else None


def _number(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else math.nan


def describe_run(path: Path, root: Path, results: dict[str, Any]) -> dict[str, Any]:
    """One row: results.json plus choices, job number, overrides and derived metrics."""
    job_dir = path.parent
    row: dict[str, Any] = dict(results)
    row["job"] = str(job_dir.relative_to(root)) or "."
    row["_dir"] = job_dir
    hydra = (_yaml(job_dir / ".hydra" / "hydra.yaml") or {}).get("hydra", {})
    choices = hydra.get("runtime", {}).get("choices", {}) or {}
    config = results.get("config") or {}
    for group in ("data", "model", "loss", "unlearn", "forget"):
        node = config.get(group) if isinstance(config.get(group), dict) else {}
        row.setdefault(group, choices.get(group) or _leaf(node.get("_target_")))
    row["experiment"] = choices.get("experiment")
    row["sweep"] = choices.get("sweep")
    num = hydra.get("job", {}).get("num")
    if not isinstance(num, int):
        num = int(job_dir.name) if job_dir.name.isdigit() else None
    row["num"] = num
    row["sweep_dir"] = _sweep_dir(job_dir, root)
    overrides = _yaml(job_dir / ".hydra" / "overrides.yaml")
    row["overrides"] = overrides if isinstance(overrides, list) else []
    for key in ("N_epochs", "t_epochs"):
        row.setdefault(key, config.get(key))
    loss = config.get("loss") if isinstance(config.get("loss"), dict) else {}
    row.setdefault("l2_lambda", loss.get("l2_lambda"))
    v, v_none = (
        _number(row.get("verification_error")),
        _number(row.get("verification_error_no_unlearning")),
    )
    row["v_ratio"] = v / v_none if v_none and not math.isnan(v_none) else math.nan
    row["lr_sigma"] = _number(row.get("lr")) * _number(row.get("sigma_avg"))
    return row


def per_method(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A run that compared several methods (results.json ``methods``) as one row per method,
    like that many single runs of the same seed: the run's shared keys, the method's own
    (v, ratios, accuracies, MIA, cost, its v curve) over them, and ``compared`` = how many.
    A single-method run is its one row."""
    methods = row.get("methods")
    if not isinstance(methods, dict) or not methods:
        return [row]
    out = []
    for name, own in methods.items():
        one = {k: v for k, v in row.items() if k not in ("methods", "compare")}
        one |= {k: v for k, v in own.items() if k != "curves"}
        one["curves"] = {**(row.get("curves") or {}), **(own.get("curves") or {})}
        one["method"] = one["unlearn"] = name
        # its label: the method in place of the whole list (figure titles, summary.csv)
        kept = [o for o in row.get("overrides") or [] if not str(o).startswith("unlearn.compare=")]
        one["overrides"] = [*kept, f"method={name}"]
        one["compared"] = len(methods)
        v, v_none = (
            _number(one.get("verification_error")),
            _number(one.get("verification_error_no_unlearning")),
        )
        one["v_ratio"] = v / v_none if v_none and not math.isnan(v_none) else math.nan
        out.append(one)
    return out


def _sweep_dir(job_dir: Path, root: Path) -> str:
    """The nearest folder at or above the job's parent holding jobs.json or multirun.yaml."""
    for folder in [job_dir.parent, *job_dir.parent.parents]:
        if (folder / "jobs.json").exists() or (folder / "multirun.yaml").exists():
            return str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)
        if folder == root:
            break
    return str(job_dir.parent.relative_to(root)) if job_dir != root else "."


def collect(root: str | Path) -> list[dict[str, Any]]:
    """Every run below `root`, one row per expected job not found (status ``missing``) and
    per results.json that cannot be read (status ``unreadable``), in numeric job order."""
    root = Path(root).resolve()
    rows: list[dict[str, Any]] = []
    broken: list[dict[str, Any]] = []
    for path in _files(root, "results.json"):
        try:
            results = json.loads(path.read_text())
            if not isinstance(results, dict):
                raise ValueError("not a JSON object")
            restore_non_finite(results)  # NaN/inf written as null (unlearn.experiment.results)
        except (OSError, ValueError) as err:
            job = str(path.parent.relative_to(root))
            broken.append({"status": "unreadable", "job": job, "reason": str(err)})
            continue
        rows.extend(per_method(describe_run(path, root, results)))
    found = {(r["sweep_dir"], r["num"]) for r in rows}
    for jobs_file in _files(root, "jobs.json"):
        sweep_dir = str(jobs_file.parent.relative_to(root)) or "."
        try:
            jobs = json.loads(jobs_file.read_text())
        except (OSError, ValueError) as err:
            broken.append({"status": "unreadable", "job": sweep_dir, "reason": str(err)})
            continue
        for job in jobs:
            num = job.get("num")
            if (sweep_dir, num) in found:
                continue
            started = (jobs_file.parent / str(num)).is_dir()
            rows.append(
                {
                    "status": "missing",
                    "job": str(Path(sweep_dir) / str(num)),
                    "sweep_dir": sweep_dir,
                    "sweep": _sweep_name(job.get("overrides") or []),
                    "num": num,
                    "overrides": job.get("overrides") or [],
                    "reason": "started, no results.json (running or killed)"
                    if started
                    else "not started",
                }
            )
    return sorted(rows + broken, key=lambda r: natural(r["job"]))


def _sweep_name(overrides: list[str]) -> str | None:
    for item in overrides:
        if str(item).lstrip("+").startswith("sweep="):
            return str(item).split("=", 1)[1]
    return None


def ok_runs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of runs that finished with status ok."""
    return [r for r in rows if r.get("status") == "ok"]
