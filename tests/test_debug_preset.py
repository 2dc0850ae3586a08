"""debug=fast runs every preset for a few steps on a tiny subset, after the preset's own
settings (which it overrides) and before the command line's (which override it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import compose_config
from paper_fakes import tiny_bert_override, write_cifar_npz, write_imdb_jsonl, write_vocab

from unlearn.config.debug import apply_debug, debug_given
from unlearn.experiment.job import JobContext, run_job
from unlearn.experiment.preflight import _sweep_jobs, compose_run
from unlearn.experiment.sweeps import list_jobs, sweep_names

PRESETS = ["cifar10_resnet18", "cifar10_vgg19", "cifar100_resnet18", "cifar100_vgg19"]
PRESETS += ["imdb_distilbert"]


@pytest.fixture(scope="module")
def fakes(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("fakes")
    return {
        "cifar10": str(write_cifar_npz(d / "c10.npz", 10, n_train=80, n_test=40)),
        "cifar100": str(write_cifar_npz(d / "c100.npz", 100, n_train=100, n_test=40)),
        "jsonl": str(write_imdb_jsonl(d / "imdb.jsonl.gz")),
        "vocab": str(write_vocab(d / "vocab")),
    }


def _data(preset: str, fakes: dict[str, str]) -> list[str]:
    if preset.startswith("cifar"):
        return [f"data.npz={fakes[preset.split('_')[0]]}"]
    return [
        f"data.jsonl={fakes['jsonl']}",
        f"data.tokenizer={fakes['vocab']}",
        "data.max_length=24",
        "model.pretrained=null",
        tiny_bert_override("model.config"),
    ]


# full-width CIFAR models take 20-30 s each on a loaded 2-core machine: one runs by default
FAST = ["cifar10_resnet18", "imdb_distilbert"]
RUNS = [p if p in FAST else pytest.param(p, marks=pytest.mark.slow) for p in PRESETS]


@pytest.mark.parametrize("preset", PRESETS)
def test_debug_fast_shrinks_every_preset(preset):
    cfg = compose_run([f"+experiment={preset}", "debug=fast"])
    assert (cfg.N, cfg.N_epochs, cfg.t, cfg.t_epochs) == (4, None, 4, None)
    assert (cfg.batch_size, cfg.pretrain_batch_size, cfg.sigma.max_iter) == (8, 8, 5)
    assert (cfg.data.train_subset, cfg.data.test_subset, cfg.checkpoint_every) == (64, 32, None)


@pytest.mark.parametrize("preset", [*RUNS, None], ids=[*PRESETS, "default"])
def test_debug_fast_runs_every_preset_in_a_few_steps(preset, fakes, tmp_path):
    overrides = ["debug=fast", "trainer=cpu", "logger=none"]
    overrides += [f"paths.cache_dir={tmp_path / 'cache'}"]
    if preset:
        overrides = [f"+experiment={preset}", *overrides, *_data(preset, fakes)]
    cfg = compose_config(overrides, tmp_path / "run")
    ctx = JobContext(overrides=tuple(overrides))
    res = run_job(cfg, ctx)
    assert res["status"] == "ok", res.get("reason")
    assert (res["N"], res["t"], res["batch_size"]) == (4, 4, 8)
    assert cfg.sigma.max_iter == 5 and cfg.track_every == 2
    if preset:
        assert cfg.data.train_subset == 64 and cfg.data.test_subset == 32


def test_the_command_line_wins_over_the_debug_preset():
    cfg = compose_run(["+experiment=cifar10_resnet18", "debug=fast", "t=6", "batch_size=2"])
    assert (cfg.N, cfg.t, cfg.t_epochs, cfg.batch_size, cfg.pretrain_batch_size) == (
        4, 6, None, 2, 8
    )  # fmt: skip


def test_without_debug_nothing_changes(tmp_path):
    cfg = compose_config(["+experiment=cifar10_resnet18"], Path(tmp_path))
    before = dict(cfg)
    apply_debug(cfg)
    assert dict(cfg) == before and cfg.N_epochs == 10


def _sweep_configs(name: str, every_job: bool) -> list:
    """Each job of ``-m +sweep=NAME debug=fast`` composed as the job itself composes it:
    its overrides (the sweep's keys among them), the command line being only the two typed."""
    argv = [f"+sweep={name}", "debug=fast"]
    jobs = list_jobs(name, ["debug=fast"]) if every_job else _sweep_jobs(argv)
    assert jobs
    return [compose_run(job, argv=argv) for job in jobs]


def _assert_tiny(cfg) -> None:
    """What conf/debug/fast.yaml promises, whatever the sweep's epochs and batch sizes."""
    assert (cfg.N, cfg.N_epochs, cfg.t, cfg.t_epochs) == (4, None, 4, None)
    assert cfg.batch_size <= 8 and cfg.pretrain_batch_size <= 8
    assert cfg.sigma.max_iter <= 5 and cfg.checkpoint_every is None
    if "train_subset" in cfg.data:
        assert cfg.data.train_subset <= 64 and cfg.data.test_subset <= 32


@pytest.mark.parametrize("name", sweep_names())
def test_debug_fast_wins_over_every_sweep(name):
    """A sweep's epochs and batch sizes are its jobs' overrides, not the command line's:
    debug=fast still shrinks each job (table4_mini's t_epochs=1 once gave 180 steps)."""
    for cfg in _sweep_configs(name, every_job=False):
        _assert_tiny(cfg)


@pytest.mark.slow
@pytest.mark.parametrize("name", sweep_names())
def test_debug_fast_wins_over_every_job_of_every_sweep(name):
    for cfg in _sweep_configs(name, every_job=True):
        _assert_tiny(cfg)


def test_a_key_typed_on_the_command_line_still_wins_in_a_sweep():
    argv = ["+sweep=table4_mini", "debug=fast", "t=6"]
    job = [*list_jobs("table4_mini", ["debug=fast", "t=6"])[0]]
    cfg = compose_run(job, argv=argv)
    assert (cfg.N, cfg.t, cfg.batch_size) == (4, 6, 8)
    assert debug_given(job, argv) == ["+sweep", "debug", "t"]  # model, gamma: the sweep's


def test_without_a_sweep_every_key_of_the_command_line_is_given():
    assert debug_given(["t_epochs=2", "debug=fast"]) == ["t_epochs", "debug"]
