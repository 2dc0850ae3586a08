"""`unlearn.analyze` on a generated sweep folder: numbers, Pearson r, failures, missing jobs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from unlearn.analyze import analyze
from unlearn.analyze.__main__ import main
from unlearn.analyze.stats import pearson

GAMMAS = [0.0, 1.0, 5.0, 10.0, 15.0]
STEPS = [10, 20, 30, 40]
VERIFY = [5, 10, 15, 20, 25, 30, 35, 40]


def _job(sweep: Path, num: int, overrides: list[str], results: dict | None) -> None:
    job = sweep / str(num)
    (job / ".hydra").mkdir(parents=True)
    choices = {"data": "cifar10", "model": "resnet18", "loss": "sd", "sweep": "mysweep"}
    hydra = {"hydra": {"runtime": {"choices": choices}, "job": {"num": num}}}
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if results is not None:
        (job / "results.json").write_text(json.dumps(results))


def _ok(i: int, gamma: float) -> dict:
    rng = np.random.default_rng(i)
    e = [0.1 * s * (1 + 0.05 * i) for s in STEPS]
    v = [0.02 * s + float(rng.normal(0, 0.05)) for s in VERIFY]
    return {
        "status": "ok",
        "N": 3125,
        "N_epochs": 10,
        "t": 40,
        "t_epochs": 1,
        "lr": 0.01,
        "batch_size": 32,
        "gamma": gamma,
        "seed": 0,
        "weight_drift": 1.0 + i,
        "sigma_avg": 20.0 - i,
        "unlearning_error": e[-1],
        "verification_error": 0.5 + 0.3 * i + float(rng.normal(0, 0.2)),
        "verification_error_no_unlearning": 2.0,
        "test_acc": 0.75 - 0.01 * i,
        "wall_time_s": 1.0,
        "config": {"loss": {"gamma": gamma}},
        "curves": {
            "step": STEPS,
            "unlearning_error": e,
            "verify_step": VERIFY,
            "verification_error": v,
        },
    }


@pytest.fixture
def sweep(tmp_path) -> Path:
    """8 jobs asked for: 5 finished (γ varies), 1 failed, 1 started and killed, 1 not started."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    jobs = [[f"gamma={g}", "N_epochs=10", "+sweep=mysweep"] for g in [*GAMMAS, 20, 25, 30]]
    (folder / "jobs.json").write_text(
        json.dumps([{"num": i, "overrides": o} for i, o in enumerate(jobs)])
    )
    for i, g in enumerate(GAMMAS):
        _job(folder, i, jobs[i], _ok(i, g))
    failed = {"status": "failed", "reason": "RuntimeError: disk on fire", "gamma": 20.0}
    _job(folder, 5, jobs[5], failed)
    _job(folder, 6, jobs[6], None)  # started, killed before results.json
    return folder


def _summary(folder: Path) -> list[dict[str, str]]:
    with (folder / "summary.csv").open() as f:
        return list(csv.DictReader(f))


def test_pearson_matches_scipy_with_a_fisher_interval():
    rng = np.random.default_rng(0)
    x = rng.normal(size=12)
    y = x + rng.normal(size=12)
    ours, theirs = pearson(x, y), stats.pearsonr(x, y)
    assert ours.r == pytest.approx(theirs.statistic) and ours.p == pytest.approx(theirs.pvalue)
    ci = theirs.confidence_interval(0.95)
    assert (ours.low, ours.high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert ours.n == 12
    assert math.isnan(pearson([1, 2], [3, 4]).r) and math.isnan(pearson([1, 1, 1], [1, 2, 3]).r)


def test_summary_has_one_row_per_run_with_its_numbers(sweep):
    analysis = analyze(sweep)
    rows = _summary(sweep)
    assert [r["status"] for r in rows] == ["ok"] * 5 + ["failed", "missing", "missing"]
    assert rows[5]["reason"] == "RuntimeError: disk on fire"
    assert {rows[6]["reason"], rows[7]["reason"]} == {
        "started, no results.json (running or killed)",
        "not started",
    }
    for i, row in enumerate(rows[:5]):
        res = json.loads((sweep / str(i) / "results.json").read_text())
        assert float(row["gamma"]) == GAMMAS[i] and row["model"] == "resnet18"
        for key in ("unlearning_error", "verification_error", "test_acc", "weight_drift"):
            assert float(row[key]) == res[key], key
        v_ratio = res["verification_error"] / res["verification_error_no_unlearning"]
        assert float(row["v_ratio"]) == pytest.approx(v_ratio)
        assert float(row["lr_sigma"]) == pytest.approx(0.01 * res["sigma_avg"])
        common = [VERIFY.index(s) for s in STEPS]
        v = [res["curves"]["verification_error"][j] for j in common]
        direct = stats.pearsonr(res["curves"]["unlearning_error"], v).statistic
        assert float(row["r_along_t"]) == pytest.approx(direct) and row["n_along_t"] == "4"
    assert len(analysis.rows) == 8


def test_report_gives_r_along_gamma_beside_the_paper_and_lists_what_is_missing(sweep):
    analyze(sweep)
    report = (sweep / "report.md").read_text()
    runs = [json.loads((sweep / f"{i}/results.json").read_text()) for i in range(5)]
    direct = pearson([r["unlearning_error"] for r in runs], [r["verification_error"] for r in runs])
    assert direct.r == pytest.approx(
        stats.pearsonr(
            [r["unlearning_error"] for r in runs], [r["verification_error"] for r in runs]
        ).statistic
    )
    gamma_line = next(
        ln
        for ln in report.splitlines()
        if ln.startswith("| resnet18 on cifar10, N = 10 epochs, b = 32")
    )
    assert direct.text() in gamma_line and "0.96 (ResNet-18, CIFAR-10, Fig. 11)" in gamma_line
    assert "| mysweep | 5 | 0 | 1 | 0 | 0 | 2 | 0 |" in report
    assert "disk on fire" in report and "not started" in report
    assert "| 10 | 0 | 4 | " in report and "| 132.5 | 77.11 |" in report  # Table 4 (N = 10, γ = 0)
    figures = sorted(p.name for p in (sweep / "figures").glob("*.png"))
    assert "mysweep__r__gamma.png" in figures and "mysweep__r__t.png" in figures
    assert any(name.endswith("e_vs_t.png") for name in figures)
    assert all((sweep / "figures" / f).stat().st_size > 1000 for f in figures)


def test_cli_works_on_an_empty_or_unreadable_folder(tmp_path, capsys):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "results.json").write_text("{not json")
    assert main([str(tmp_path), "--no-wandb"]) == 0
    assert "1 unreadable" in capsys.readouterr().out
    assert "unreadable" in (tmp_path / "report.md").read_text()
    assert main([str(tmp_path / "nope")]) == 2


def test_cli_refuses_a_folder_without_runs_in_one_line(tmp_path, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    assert main([str(tmp_path / "empty"), "--no-wandb"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no results.json or jobs.json below it" in err
    assert not (tmp_path / "empty" / "report.md").exists()
