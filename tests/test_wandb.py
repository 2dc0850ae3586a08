"""W&B offline: one run per job under the run directory, finished even after a failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wandb
from conftest import compose_config

from unlearn.experiment.job import JobContext, run_job


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No account, no network, nothing written outside tmp_path."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))
    yield
    assert wandb.run is None  # finished: the next job cannot log into this one


def _log_of(run_dir: Path) -> bytes:
    """The one offline W&B run under `run_dir` (its records, as bytes)."""
    wandb.teardown()  # finish() may return before W&B's service has flushed the file
    runs = list((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1, runs
    return runs[0].read_bytes()


def _ctx(tmp_path: Path, num: int) -> JobContext:
    return JobContext(
        multirun=True,
        sweep="fig9_t_mini",
        sweep_dir=str(tmp_path / "sweep"),
        job_num=num,
        overrides=(f"gamma={num}", "+sweep=fig9_t_mini"),
    )


def test_logger_mode_switches_offline_and_online(tmp_path):
    cfg = compose_config(["logger=wandb"], tmp_path)
    assert cfg.logger.wandb.mode == "offline" and cfg.logger.wandb.save_dir == str(tmp_path)
    cfg = compose_config(["logger=wandb", "logger.mode=online"], tmp_path)
    assert cfg.logger.wandb.mode == "online"


def test_offline_run_holds_config_curves_and_summary_under_the_run_dir(make_cfg, tmp_path):
    cfg = make_cfg("logger=wandb", "gamma=4")
    results = run_job(cfg, _ctx(tmp_path, 4))
    assert results["status"] == "ok"
    log = _log_of(tmp_path)
    for key in ("sigma", "weight_drift", "unlearning_error", "verification_error", "test_acc"):
        assert key.encode() in log, key  # curves and summary
    for key in ("v_ratio", "lr_sigma", "forget_size", "sd_normalization"):
        assert key.encode() in log, key  # summary and resolved config
    assert b"gamma=4" in log  # run name: the job's own overrides
    assert f"fig9_t_mini/{tmp_path.name}".encode() not in log
    assert b"fig9_t_mini/sweep" in log  # group: <sweep>/<the sweep folder's name>
    assert b"gamma=4 +sweep=fig9_t_mini" in log  # notes: the job's overrides
    for tag in (b"sweep:fig9_t_mini", b"method:single_gradient", b"model:smallcnn"):
        assert tag in log, tag
    for key in (b"pretrain/train_loss", b"window/train_acc", b"pretrain/test_acc"):
        assert key in log, key  # training curves beside σ, drift, e and v
    assert b"pretrain/*" in log and b"window/*" in log  # each on its own step axis
    saved = list((tmp_path / "wandb").glob("offline-run-*/files/results.json"))
    assert len(saved) == 1 and not saved[0].is_symlink()  # a copy: survives copying the sweep


def test_a_failed_job_gets_its_own_finished_run_and_the_next_job_another(tmp_path):
    first, second = tmp_path / "0", tmp_path / "1"

    def broken(_cfg):
        raise RuntimeError("disk on fire")

    results = run_job(compose_config(["logger=wandb"], first), _ctx(tmp_path, 0), run_fn=broken)
    assert results["status"] == "failed" and wandb.run is None
    log = _log_of(first)
    assert b"disk on fire" in log and b"failed" in log
    run_job(compose_config(["logger=wandb"], second), _ctx(tmp_path, 1), run_fn=broken)
    assert b"gamma=1" in _log_of(second) and b"gamma=1" not in _log_of(first)


def test_the_analysis_joins_the_sweeps_group_as_its_own_run(tmp_path):
    from unlearn.analyze import analyze
    from unlearn.analyze.to_wandb import log_analysis

    wandb_cfg = {"_target_": "lightning.pytorch.loggers.WandbLogger", "project": "unlearn"}
    wandb_cfg |= {"group": "mysweep-group", "mode": "offline"}
    job = tmp_path / "0"
    job.mkdir()
    curves = {"step": [1, 2, 3], "unlearning_error": [0.1, 0.2, 0.3]}
    curves |= {"verify_step": [1, 2, 3], "verification_error": [0.2, 0.3, 0.5]}
    results = {"status": "ok", "gamma": 0.0, "N": 10, "t": 3, "unlearning_error": 0.3}
    results |= {"verification_error": 0.5, "curves": curves}
    results |= {"config": {"logger": {"wandb": wandb_cfg}}}
    (job / "results.json").write_text(json.dumps(results))
    analysis = analyze(tmp_path)
    assert log_analysis(analysis) is True
    log = _log_of(tmp_path)
    assert b"mysweep-group" in log and b"analysis" in log and b"figures/" in log
