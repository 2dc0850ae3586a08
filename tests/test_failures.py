"""Failure isolation: divergence and exceptions become a status in results.json, never a crash."""

from __future__ import annotations

import json
import math

import pytest
import torch

from unlearn.config.checks import ConfigError
from unlearn.experiment.job import JobContext, run_job
from unlearn.runtime.divergence import Diverged, DivergenceGuard

MULTIRUN = JobContext(multirun=True, sweep="test", sweep_dir="sweep", job_num=3)


def test_guard_checks_every_step_on_cpu():
    guard = DivergenceGuard(check_every=10)
    guard.start("pretrain")
    guard.observe(torch.tensor(1.0), step=1, last_step=100)
    with pytest.raises(Diverged) as info:
        guard.observe(torch.tensor(float("inf")), step=2, last_step=100)
    assert (info.value.step, info.value.phase, info.value.value) == (2, "pretrain", math.inf)
    assert info.value.reason == "non-finite loss (inf) at pretrain step 2"


def test_deferred_guard_reports_the_first_bad_step_at_the_next_check():
    """The GPU path (no sync per step): the flag is read only every `check_every` steps."""
    guard = DivergenceGuard(check_every=4, defer=True)
    guard.start("window")
    guard.observe(torch.tensor(0.5), step=1, last_step=9)
    guard.observe(torch.tensor(float("nan")), step=2, last_step=9)  # no check yet
    guard.observe(torch.tensor(float("inf")), step=3, last_step=9)
    with pytest.raises(Diverged) as info:
        guard.observe(torch.tensor(0.1), step=4, last_step=9)
    assert info.value.step == 2 and math.isnan(info.value.value)
    guard.start("window")  # a new phase forgets the old one
    for step in range(1, 10):
        guard.observe(torch.tensor(1.0), step=step, last_step=9)


def test_deferred_guard_checks_at_the_last_step():
    guard = DivergenceGuard(check_every=100, defer=True)
    guard.start("window")
    guard.observe(torch.tensor(float("nan")), step=5, last_step=7)
    with pytest.raises(Diverged):
        guard.observe(torch.tensor(1.0), step=7, last_step=7)


def _results(cfg) -> dict:
    with open(f"{cfg.paths.output_dir}/results.json") as f:
        return json.load(f)


def test_a_diverging_run_stops_cleanly_with_step_and_reason(make_cfg):
    cfg = make_cfg("lr=1e12")
    results = run_job(cfg, MULTIRUN)
    stored = _results(cfg)
    assert results["status"] == stored["status"] == "diverged"
    assert stored["phase"] == "pretrain" and 1 <= stored["step"] <= 20
    assert stored["reason"].startswith("non-finite loss") and stored["lr"] == 1e12
    assert "unlearning_error" not in stored and stored["config"]["lr"] == 1e12


def test_an_exception_becomes_status_failed_with_the_message(make_cfg):
    cfg = make_cfg()

    def broken(_cfg):
        raise RuntimeError("disk on fire")

    results = run_job(cfg, MULTIRUN, run_fn=broken)
    stored = _results(cfg)
    assert results["status"] == stored["status"] == "failed"
    assert stored["reason"] == "RuntimeError: disk on fire"
    assert "disk on fire" in stored["traceback"] and stored["gamma"] == 0.0


def test_a_bad_config_fails_a_single_run_but_only_its_job_in_a_multirun(make_cfg, tmp_path):
    def bad(_cfg):
        raise ConfigError("gamma=-1: allowed a number >= 0")

    cfg = make_cfg()
    with pytest.raises(ConfigError):
        run_job(cfg, JobContext(multirun=False), run_fn=bad)
    assert not (tmp_path / "results.json").exists()  # a single run's bad input writes nothing
    results = run_job(cfg, MULTIRUN, run_fn=bad)
    assert results["status"] == "refused" and results["error_type"] == "ConfigError"
    assert _results(cfg)["reason"] == "ConfigError: gamma=-1: allowed a number >= 0"


def test_a_finished_runs_results_are_never_replaced_by_a_failure(make_cfg, tmp_path):
    cfg = make_cfg()
    (tmp_path / "results.json").write_text(json.dumps({"status": "ok", "test_acc": 0.5}))

    def broken(_cfg):
        raise RuntimeError("late crash")

    run_job(cfg, MULTIRUN, run_fn=broken)
    assert _results(cfg) == {"status": "ok", "test_acc": 0.5}
