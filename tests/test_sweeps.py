"""Sweeps: every paper grid lists the right jobs, and multiruns survive a diverging job."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from unlearn.experiment.sweeps import CONF_DIR, list_jobs, sweep_names
from unlearn.runtime import devices

ROOT = Path(__file__).resolve().parents[1]
TINY = ["N=20", "t=12", "track_every=4", "verify_every=3", "logger=none"]

EXPECTED = {
    "table4": 144,
    "table3_l2": 72,
    "fig9_t": 2,
    "fig11_gamma": 20,
    "grid160": 160,
    "table2_imdb": 9,
}


def knobs(job: list[str]) -> dict[str, str]:
    return dict(item.lstrip("+").split("=", 1) for item in job)


def test_every_paper_grid_and_its_mini_variant_exist():
    names = set(sweep_names())
    assert set(EXPECTED) <= names
    assert {f"{n}_mini" for n in EXPECTED} <= names


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sweep_lists_its_jobs_once_each(name):
    jobs = list_jobs(name)
    lines = [" ".join(j) for j in jobs]
    assert len(jobs) == EXPECTED[name] and len(set(lines)) == len(lines)
    assert all(knobs(j)["sweep"] == name for j in jobs)


def test_table4_pairs_each_data_set_with_its_own_gamma_grid():
    jobs = [knobs(j) for j in list_jobs("table4")]
    for data, gammas in (("cifar10_", {"0", "1", "5", "10", "15", "20"}), ("cifar100", None)):
        mine = [j for j in jobs if j["experiment"].startswith(data)]
        assert len(mine) == 72
        if gammas:
            assert {j["gamma"] for j in mine} == gammas
    cifar100 = {j["gamma"] for j in jobs if j["experiment"].startswith("cifar100")}
    assert cifar100 == {"0", "50", "100", "150", "200", "250"}


def test_grid160_is_the_documented_latin_square():
    jobs = [knobs(j) for j in list_jobs("grid160")]
    Ns = [10, 20, 30, 40, 50, 60, 70, 80]
    levels = {"cifar10": [0, 5, 10, 15, 20], "cifar100": [0, 100, 150, 200, 250]}
    cells = Counter((j["experiment"], j["N_epochs"], j["gamma"]) for j in jobs)
    assert len(cells) == 160 and set(cells.values()) == {1}
    for j in jobs:
        data = j["experiment"].split("_")[0]
        i_n, i_g = Ns.index(int(j["N_epochs"])), levels[data].index(int(float(j["gamma"])))
        assert int(j["batch_size"]) == (32, 64, 128)[(i_n + i_g) % 3]
        assert j["batch_size"] == j["pretrain_batch_size"] and j["t_epochs"] == "1"
    per_data = Counter(j["experiment"].split("_")[0] for j in jobs)
    assert per_data == {"cifar10": 80, "cifar100": 80}


def test_command_line_overrides_reach_every_job_and_sweeps_multiply():
    jobs = list_jobs("fig9_t_mini", ["seed=1,2", "lr=0.003"])
    assert len(jobs) == 4
    assert {knobs(j)["seed"] for j in jobs} == {"1", "2"}
    assert all(knobs(j)["lr"] == "0.003" for j in jobs)


def test_mini_sweeps_compose_and_validate():
    """Every mini job's config composes (schema checks included)."""
    for name in [n for n in sweep_names() if n.endswith("_mini")]:
        for job in list_jobs(name)[:2]:
            with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
                cfg = compose("config", job)
            assert cfg.t_epochs is not None


def test_make_dry_run_prints_one_line_per_job_and_nothing_else():
    proc = subprocess.run(
        ["make", "--no-print-directory", "sweep-table4", "DRY_RUN=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split() for ln in lines] == list_jobs("table4")


def test_slurm_launcher_keys_are_overridable():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(
            "config",
            ["hydra/launcher=slurm", "hydra.launcher.partition=gpu", "hydra.launcher.mem_gb=64"],
            return_hydra_config=True,
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert (launcher.partition, launcher.mem_gb, launcher.gpus_per_node) == ("gpu", 64, 1)
    assert launcher.timeout_min > 0


def test_each_worker_claims_its_own_gpu_slot(tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "_slot", None)
    lock_dir = tmp_path / ".gpu_slots"
    lock_dir.mkdir()
    with open(lock_dir / "gpu0.lock", "w") as other:  # another worker holds GPU 0
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert devices.claim_slot(lock_dir, 2) == 1
        assert devices.claim_slot(lock_dir, 2) == 1  # kept for the process's life
        monkeypatch.setattr(devices, "_slot", None)
        with pytest.raises(RuntimeError, match="GPU slots"):
            devices.claim_slot(lock_dir, 1)


def _multirun(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    sweep_dir = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "unlearn", "-m", "lr=0.01,1e12", *TINY, *extra]
        + [f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, sweep_dir


def _check_two_jobs(proc: subprocess.CompletedProcess, sweep_dir: Path) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = json.loads((sweep_dir / "jobs.json").read_text())
    assert [j["num"] for j in jobs] == [0, 1]
    ok, diverged = (json.loads((sweep_dir / f"{i}/results.json").read_text()) for i in (0, 1))
    assert ok["status"] == "ok" and ok["lr"] == 0.01 and ok["t"] == 12
    assert diverged["status"] == "diverged" and diverged["reason"].startswith("non-finite loss")


def test_two_job_multirun_goes_on_past_a_diverging_job(tmp_path):
    _check_two_jobs(*_multirun(tmp_path))


@pytest.mark.slow  # ~20 s; tests/test_launcher_options.py checks its options
def test_joblib_launcher_runs_two_jobs_in_parallel_on_cpu(tmp_path):
    _check_two_jobs(*_multirun(tmp_path, "hydra/launcher=local_gpus", "hydra.launcher.n_jobs=2"))


@pytest.mark.slow  # ~20 s; make test-slurm runs submitit for real
def test_submitit_local_executor_runs_the_sweep(tmp_path):
    proc, sweep_dir = _multirun(tmp_path, "hydra/launcher=submitit_local")
    _check_two_jobs(proc, sweep_dir)
    assert (sweep_dir / ".submitit").is_dir()


def test_an_unknown_sweep_is_one_line_naming_the_allowed_ones():
    from unlearn.config.checks import ConfigError
    from unlearn.experiment.sweeps import check_argv

    check_argv(["-m", "+sweep=table4", "gamma=1"])
    with pytest.raises(
        ConfigError, match=r"^sweep='tabel4': allowed curvature, fig11_gamma, .*when_helps_mini$"
    ):
        check_argv(["-m", "+sweep=tabel4"])
