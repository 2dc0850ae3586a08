"""Search, not only grids: a run returns the configured objective, and an Optuna search
asks the paper's question (the γ with the lowest e within 3 points of γ = 0's accuracy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from unlearn.experiment.objective import INFEASIBLE, objective_value, reference_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ["N=20", "t=6", "track_every=3", "verify_every=3", "logger=none", "checkpoint_every=null"]


def test_no_metric_no_objective(make_cfg):
    results = {"status": "ok", "unlearning_error": 1.0}
    assert objective_value(make_cfg(), results, run_fn=lambda c: {}) is None


def test_the_objective_is_the_metric_within_the_accuracy_constraint(make_cfg):
    cfg = make_cfg("objective.metric=unlearning_error", "objective.max_acc_drop=3", "gamma=5")
    ref = {"status": "ok", "test_acc": 0.90}
    calls = []

    def fake_run(c):
        calls.append(c)
        return ref

    ok = {"status": "ok", "unlearning_error": 0.25, "test_acc": 0.875}
    assert objective_value(cfg, ok, fake_run) == 0.25  # 2.5 points down: allowed
    low = {"status": "ok", "unlearning_error": 0.01, "test_acc": 0.80}
    assert objective_value(cfg, low, fake_run) == pytest.approx(INFEASIBLE + 7)
    assert objective_value(cfg, {"status": "failed"}, fake_run) is None
    assert calls[0].gamma == 0.0 and calls[0].objective.metric is None
    assert Path(calls[0].paths.output_dir).parent == Path(cfg.paths.output_dir).parent
    assert reference_config(cfg).paths.output_dir == calls[1].paths.output_dir  # one folder


@pytest.mark.slow  # ~15 s; the objective value itself is tested in-process
def test_an_optuna_search_of_three_trials_on_digits(tmp_path):
    sweep = tmp_path / "search"
    proc = subprocess.run(
        [sys.executable, "-m", "unlearn", "-m", "+search=gamma_acc",
         "hydra.sweeper.n_trials=3", *TINY, f"hydra.sweep.dir={sweep}",
         f"paths.cache_dir={tmp_path / 'cache'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0 <= best["best_params"]["gamma"] <= 20
    trials = sorted(p for p in sweep.iterdir() if p.name.isdigit())
    assert [p.name for p in trials] == ["0", "1", "2"]
    refs = list(sweep.glob("gamma0-*/results.json"))
    assert len(refs) == 1  # the γ = 0 reference, made once for all trials
    values = [json.loads((p / "results.json").read_text())["objective"] for p in trials]
    assert best["best_value"] == min(values)
