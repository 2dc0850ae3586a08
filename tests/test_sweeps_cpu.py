"""The CPU grids on real CIFAR-10 (multirun_sweeps/*_cpu.yaml) and `make reproduce-cpu`:
the right jobs, once each, on the CPU presets, composing with the schema."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from unlearn.config.checks import validate
from unlearn.experiment.preflight import compose_run
from unlearn.experiment.sweeps import CONF_DIR, list_jobs, sweep_names

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"table4_cpu": 30, "fig9_t_cpu": 2, "fig11_gamma_cpu": 12, "grid160_cpu": 18}
EXPECTED["table3_l2_cpu"] = 16
EXPECTED["privacy_cpu"] = 12
PRESETS = {"cifar10_small_resnet18", "cifar10_small_vgg19"}


def knobs(job: list[str]) -> dict[str, str]:
    return dict(item.lstrip("+").split("=", 1) for item in job)


def test_every_cpu_grid_exists():
    assert set(EXPECTED) <= set(sweep_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cpu_grid_lists_its_jobs_once_each_on_the_cpu_presets(name, tmp_path):
    jobs = list_jobs(name)
    lines = [" ".join(j) for j in jobs]
    assert len(jobs) == EXPECTED[name] and len(set(lines)) == len(lines)
    assert all(knobs(j)["sweep"] == name and knobs(j)["experiment"] in PRESETS for j in jobs)
    for job in (jobs[0], jobs[-1]):  # composes and passes the schema's ranges
        cfg = compose_run([*job, "data.npz=/path/to/cifar10.npz", f"hydra.run.dir={tmp_path}"])
        validate(cfg)
        assert cfg.trainer.accelerator == "cpu" and cfg.model.width == 16


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_sweeps_base_config_takes_data_npz_from_the_command_line(name):
    """Hydra composes the multirun's base config (no job's +experiment yet) with the
    command line, so the sweep itself picks CIFAR-10 for data.npz=PATH to exist there."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("config", [f"+sweep={name}", "data.npz=/path/to/cifar10.npz"])
    assert cfg.data.dataset == "cifar10" and cfg.data.npz == "/path/to/cifar10.npz"


def test_table4_cpu_is_gamma_by_n_with_the_cache_between_ns():
    jobs = [knobs(j) for j in list_jobs("table4_cpu")]
    cells = Counter((j["experiment"], j["gamma"], j["N_epochs"]) for j in jobs)
    assert set(cells.values()) == {1} and len(cells) == 2 * 5 * 3
    assert {j["gamma"] for j in jobs} == {"0", "1", "5", "10", "20"}
    assert all(j["pretrain.save_at_epochs"] == "[5]" and j["t_epochs"] == "1" for j in jobs)
    for model in PRESETS:  # N = 10 runs after N = 5 of its (model, γ): it continues from it
        order = [int(j["N_epochs"]) for j in jobs if (j["experiment"], j["gamma"]) == (model, "5")]
        assert order == [0, 5, 10]


def test_v_grids_use_the_verification_rate():
    for name in ("fig9_t_cpu", "fig11_gamma_cpu", "grid160_cpu", "privacy_cpu"):
        assert {knobs(j)["lr"] for j in list_jobs(name)} == {"0.01"}


def test_grid160_cpu_is_a_latin_square_per_model():
    jobs = [knobs(j) for j in list_jobs("grid160_cpu")]
    Ns, gammas = ["2", "4", "8"], ["0", "10", "20"]
    for model in PRESETS:
        mine = [j for j in jobs if j["experiment"] == model]
        assert len(mine) == 9
        for j in mine:
            i_n, i_g = Ns.index(j["N_epochs"]), gammas.index(j["gamma"])
            assert int(j["batch_size"]) == (32, 64, 128)[(i_n + i_g) % 3]
            assert j["batch_size"] == j["pretrain_batch_size"]
        for b in ("32", "64", "128"):  # each b meets every N and every γ once
            cells = [(j["N_epochs"], j["gamma"]) for j in mine if j["batch_size"] == b]
            assert sorted(n for n, _ in cells) == sorted(Ns)
            assert sorted(g for _, g in cells) == sorted(gammas, key=int)


def test_table3_l2_cpu_varies_lambda_at_gamma_zero():
    jobs = [knobs(j) for j in list_jobs("table3_l2_cpu")]
    assert {j["loss"] for j in jobs} == {"l2"} and {j["gamma"] for j in jobs} == {"0"}
    assert {j["loss.l2_lambda"] for j in jobs} == {"0", "0.001", "0.01", "0.1"}


def test_privacy_cpu_scores_both_methods_on_fig11s_cached_resnet_settings():
    jobs = [knobs(j) for j in list_jobs("privacy_cpu")]
    assert all(j["prs"] == "True" for j in jobs)
    cells = Counter((j["unlearn"], j["gamma"]) for j in jobs)
    assert set(cells.values()) == {1} and {u for u, _ in cells} == {"single_gradient", "amnesiac"}
    # single-gradient forgets the first batch; amnesiac samples spread over many batches
    # (on the first batch alone it would subtract exactly the single-gradient update)
    assert {j["forget"] for j in jobs if j["unlearn"] == "single_gradient"} == {"first_batch"}
    assert {(j["forget"], j["forget.k"]) for j in jobs if j["unlearn"] == "amnesiac"} == {
        ("random", "32")
    }
    own = ("sweep", "unlearn", "prs", "forget", "forget.k")
    mine = {tuple(sorted((k, v) for k, v in j.items() if k not in own)) for j in jobs}
    fig11 = {  # the same (γ, N, η, t) as fig11_gamma_cpu's ResNet jobs: M_N from the cache
        tuple(sorted((k, v) for k, v in knobs(j).items() if k != "sweep"))
        for j in list_jobs("fig11_gamma_cpu")
        if knobs(j)["experiment"] == "cifar10_small_resnet18"
    }
    assert mine == fig11


def test_make_reproduce_cpu_dry_run_lists_every_cpu_job_with_its_data_and_sigma():
    proc = subprocess.run(
        ["make", "--no-print-directory", "reproduce-cpu", "DRY_RUN=1"]
        + ["CIFAR_NPZ=/path/to/cifar10.npz", "SIGMA=reference"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    extra = ["data.npz=/path/to/cifar10.npz", "sigma=reference", "logger=csv"]
    expected = [job for name in EXPECTED for job in list_jobs(name, extra)]
    assert sorted(ln.split() for ln in proc.stdout.splitlines()) == sorted(expected)
    assert len(expected) == sum(EXPECTED.values()) == 90


def test_preflight_checks_a_sweeps_own_experiments_with_the_command_line(tmp_path):
    """``-m +sweep=NAME data.npz=PATH``: data.npz exists only once the sweep's +experiment
    picked CIFAR, so the preflight checks the sweep's jobs, not the bare command line."""
    from paper_fakes import write_cifar_npz

    from unlearn.config.checks import ConfigError
    from unlearn.experiment.preflight import preflight

    # as many training images as the presets' fixed subset (5,000): a subset the data
    # cannot hold is refused
    npz = write_cifar_npz(tmp_path / "c10.npz", 10, n_train=5000, n_test=6)
    assert preflight(["-m", "+sweep=table4_cpu", f"data.npz={npz}"]) is None
    with pytest.raises(ConfigError, match=r"^data.npz='/no/such.npz': no such file"):
        preflight(["-m", "+sweep=fig11_gamma_cpu", "data.npz=/no/such.npz"])
    with pytest.raises(ConfigError, match=r"^lr=-1"):  # every swept value is still checked
        preflight(["-m", "+sweep=fig9_t_cpu", f"data.npz={npz}", "seed=0,1", "lr=0.1,-1"])


def test_make_answers_cpu_dry_run_gives_cifar_its_data_and_digits_none():
    """The real-data answers: the digits grid takes no data.npz (its data set has none)."""
    proc = subprocess.run(
        ["make", "--no-print-directory", "answers-cpu", "DRY_RUN=1", "CIFAR_NPZ=/p/c10.npz"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cifar = ["data.npz=/p/c10.npz", "logger=csv"]
    expected = list_jobs("when_helps_mini", ["logger=csv"])
    expected += list_jobs("methods_cpu", cifar) + list_jobs("when_helps_cpu", cifar)
    assert [ln.split() for ln in proc.stdout.splitlines()] == expected
    assert len(expected) == 40 + 18 + 13
