"""W&B a sweep can live with (offline): names from overrides, tags, a short group, config
keys for entity/project/tags/notes, resume into the same run id, one analysis run per sweep
folder, and `python -m unlearn.sync` finding every offline run (no network contacted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wandb
from conftest import compose_config
from omegaconf import open_dict

from unlearn.experiment.job import JobContext, run_job
from unlearn.loggers import sync
from unlearn.loggers.wandb_run import group_name, run_name


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb_home"))
    yield
    assert wandb.run is None


def _ctx(sweep_dir: Path, num: int, *overrides: str) -> JobContext:
    return JobContext(
        multirun=True,
        sweep="table4",
        sweep_dir=str(sweep_dir),
        job_num=num,
        overrides=(*overrides, "+sweep=table4", "hydra.launcher.n_jobs=2"),
        choices=(("data", "cifar10"), ("model", "resnet18")),
    )


def test_run_names_come_from_the_jobs_own_overrides():
    overrides = ("+experiment=cifar10_resnet18", "gamma=5", "N_epochs=10", "+sweep=table4")
    assert run_name((*overrides, "hydra.launcher.n_jobs=2", "logger=wandb")) == (
        "cifar10_resnet18,gamma=5,N_epochs=10"
    )
    assert run_name(("+sweep=table4",)) is None


def test_the_group_is_short_and_names_the_sweep():
    ctx = _ctx(Path("/very/long/path/multirun/table4/2026-12-01_08-00-00"), 0)
    assert group_name(ctx.multirun, ctx.sweep, ctx.sweep_dir) == "table4/2026-12-01_08-00-00"
    ctx = _ctx(Path("/x/multirun/mini/2026-12-01_08-00-00/tbl"), 0)
    assert group_name(ctx.multirun, ctx.sweep, ctx.sweep_dir) == "table4/tbl"


def test_entity_project_tags_and_notes_are_config_keys(tmp_path):
    cfg = compose_config(
        ["logger=wandb", "logger.wandb.entity=myteam", "logger.wandb.project=p",
         "logger.wandb.tags=[mine]", "logger.wandb.notes=hello"],
        tmp_path,
    )  # fmt: skip
    assert cfg.logger.wandb.entity == "myteam" and cfg.logger.wandb.tags == ["mine"]


def _offline_runs(where: Path) -> list[Path]:
    wandb.teardown()
    return sorted(where.glob("wandb/offline-run-*"))


def test_a_rerun_after_a_crash_resumes_the_same_wandb_run(make_cfg, tmp_path):
    cfg = make_cfg("logger=wandb", "gamma=1")
    out = Path(cfg.paths.output_dir)

    def crash(_cfg):
        raise RuntimeError("node lost")

    ctx = _ctx(tmp_path / "sweep", 3, "gamma=1")
    assert run_job(cfg, ctx, run_fn=crash)["status"] == "failed"
    again = make_cfg("logger=wandb", "gamma=1")
    with open_dict(again):
        again.paths.output_dir = str(out)  # the same job folder, rerun
    assert run_job(again, ctx)["status"] == "ok"
    runs = _offline_runs(out)
    ids = {p.name.split("-")[3] for p in runs}  # offline-run-<time>-<id>[-<n>]
    assert len(runs) == 2 and len(ids) == 1  # two offline pieces of one W&B run
    log = b"".join(p.read_bytes() for r in runs for p in r.glob("run-*.wandb"))
    for tag in (b"sweep:table4", b"method:single_gradient", b"data:cifar10", b"model:resnet18"):
        assert tag in log, tag
    assert b"gamma=1" in log  # its name


def test_one_analysis_run_per_sweep_folder(tmp_path):
    from unlearn.analyze import analyze
    from unlearn.analyze.to_wandb import log_analysis

    wandb_cfg = {"_target_": "unlearn.loggers.wandb_logger.WandbLogger", "project": "unlearn"}
    wandb_cfg |= {"group": "table4/2026", "mode": "offline"}
    job = tmp_path / "0"
    job.mkdir()
    curves = {"step": [1, 2, 3], "unlearning_error": [0.1, 0.2, 0.3]}
    curves |= {"verify_step": [1, 2, 3], "verification_error": [0.2, 0.3, 0.5]}
    results = {"status": "ok", "gamma": 0.0, "N": 10, "t": 3, "unlearning_error": 0.3}
    results |= {"verification_error": 0.5, "curves": curves}
    results |= {"config": {"logger": {"wandb": wandb_cfg}}}
    (job / "results.json").write_text(json.dumps(results))
    assert log_analysis(analyze(tmp_path)) is True
    first = _offline_runs(tmp_path)
    assert log_analysis(analyze(tmp_path)) is True
    second = _offline_runs(tmp_path)
    assert len(first) == len(second) == 1  # updated, not duplicated
    run_id = (tmp_path / "wandb" / "analysis_id").read_text().strip()
    assert run_id in first[0].name and run_id in second[0].name  # the same W&B run
    report = second[0] / "files" / "report.md"
    assert report.is_file() and not report.is_symlink()


def test_sync_finds_every_offline_run_of_a_sweep_and_builds_one_command(tmp_path, capsys):
    jobs = (("0", "20261201_080000"), ("1", "20261201_070000"), ("1", "20261201_090000"))
    for job, stamp in jobs:
        (tmp_path / job / "wandb" / f"offline-run-{stamp}-abc{job}").mkdir(parents=True)
    (tmp_path / "wandb" / "offline-run-20261201_100000-analysis-x").mkdir(parents=True)
    (tmp_path / "0" / "wandb" / "run-20261201_080000-online").mkdir(parents=True)  # not offline
    runs = sync.offline_runs(tmp_path)
    assert [r.name.split("-")[2] for r in runs] == [
        "20261201_070000", "20261201_080000", "20261201_090000", "20261201_100000"
    ]  # fmt: skip
    command = sync.sync_command(runs, ["--entity", "myteam"])
    assert Path(command[0]).name == "wandb" and command[1:4] == ["sync", "--entity", "myteam"]
    assert command[4:] == [str(r) for r in runs]
    assert sync.main([str(tmp_path), "--dry-run"]) == 0  # prints, runs nothing
    out = capsys.readouterr().out
    assert "4 offline runs" in out and "sync" in out
    assert sync.main([str(tmp_path / "missing")]) == 2
