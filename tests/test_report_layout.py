"""The report's layout: numeric job order, failures grouped by reason, sections only with
data, n < 5 marked, and legends that name every varied factor."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from unlearn.analyze import analyze
from unlearn.analyze.collect import collect, natural
from unlearn.analyze.correlation import loss_kind
from unlearn.analyze.plots import factor_label, varied
from unlearn.analyze.stats import pearson


def _job(sweep: Path, num: int, results: dict | None, overrides: list[str] | None = None) -> None:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    hydra = {"hydra": {"runtime": {"choices": {"sweep": "s"}}, "job": {"num": num}}}
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides or []))
    if results is not None:
        (job / "results.json").write_text(json.dumps(results))


def _failed_sweep(tmp_path: Path, n: int = 45) -> Path:
    folder = tmp_path / "sweep"
    folder.mkdir()
    jobs = [{"num": i, "overrides": [f"gamma={i}", "+sweep=s"]} for i in range(n + 1)]
    (folder / "jobs.json").write_text(json.dumps(jobs))
    for i in range(n):
        _job(folder, i, {"status": "failed", "reason": "RuntimeError: out of memory"})
    return folder


def test_natural_order_puts_job_2_before_job_10(tmp_path):
    assert sorted(["s/10", "s/2", "s/1", "s/19", "s/0"], key=natural) == [
        "s/0",
        "s/1",
        "s/2",
        "s/10",
        "s/19",
    ]
    jobs = [r["job"] for r in collect(_failed_sweep(tmp_path, 12))]
    assert jobs == [str(i) for i in range(13)]  # the 13th is the missing one


def test_failures_are_one_line_per_reason_and_empty_sections_are_left_out(tmp_path):
    folder = _failed_sweep(tmp_path)
    report = (analyze(folder).report).read_text()
    assert report.count("RuntimeError: out of memory") == 1
    assert "| failed | 45 | 0–44 |" in report
    assert "| missing | 1 | 45 |" in report
    for heading in ("## Tables", "## Pearson", "## Curves", "## Privacy", "## SISA"):
        assert heading not in report, heading
    assert "## Runs" in report


def test_an_r_from_fewer_than_5_points_is_marked():
    assert pearson([1, 2, 3, 4], [1, 3, 2, 5]).text().endswith("n = 4 (n < 5)")
    assert "(n < 5)" not in pearson([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]).text()


def test_figure_12_colours_ce_and_sd_apart():
    assert loss_kind({"gamma": 0.0}) == "CE" and loss_kind({"gamma": 5.0}) == "SD"
    assert loss_kind({"loss": "ce", "gamma": 5.0}) == "CE"
    assert loss_kind({"loss": "l2", "gamma": 0.0}) == "CE + ℓ2"


def test_legends_name_every_factor_that_varies():
    runs = [
        {"gamma": 0.0, "batch_size": 32, "t": 45, "lr": 0.01, "model": "mlp"},
        {"gamma": 5.0, "batch_size": 64, "t": 23, "lr": 0.01, "model": "mlp"},
    ]
    factors = varied(runs)
    assert [k for _, k in factors] == ["gamma", "batch_size", "t"]
    assert factor_label(runs[1], factors) == "γ = 5, b = 64, t = 23"
