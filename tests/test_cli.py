"""`python -m unlearn` end to end: a complete results.json and the summary table."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

KEYS = {
    "status",
    "N",
    "t",
    "lr",
    "batch_size",
    "gamma",
    "seed",
    "weight_drift",
    "sigma_avg",
    "unlearning_error",
    "verification_error",
    "verification_error_no_unlearning",
    "test_acc",
    "wall_time_s",
    "config",
    "curves",
}
CURVES = {"step", "sigma", "weight_drift", "unlearning_error", "verification_error"}


def test_main_writes_complete_results(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unlearn",
            "N=30",
            "t=20",
            "gamma=1",
            "logger=csv",
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert res.keys() >= KEYS and res["curves"].keys() >= CURVES
    assert res["status"] == "ok" and res["N"] == 30 and res["t"] == 20 and res["gamma"] == 1.0
    for key in (
        "weight_drift",
        "sigma_avg",
        "unlearning_error",
        "verification_error",
        "verification_error_no_unlearning",
        "test_acc",
        "wall_time_s",
    ):
        assert math.isfinite(res[key]) and res[key] >= 0, key
    assert res["config"]["gamma"] == 1
    assert res["curves"]["step"][-1] == 20 and res["curves"]["verify_step"][-1] == 20
    for label in ("σ_avg", "e (unlearning error)", "v without unlearning", "test accuracy"):
        assert label in proc.stdout
    metrics = (out / "csv" / "metrics.csv").read_text()
    assert "verification_error" in metrics and "sigma" in metrics


@pytest.mark.slow  # ~10 s subprocess; the step resolution is tested in-process
def test_given_steps_replace_configured_epochs(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unlearn",
            "N=0",
            "t_epochs=0.1",
            "logger=none",
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["N"] == 0 and res["t"] == 4  # 0.1 of 45 steps per epoch, rounded
