"""Progress a person can read: a line per phase, a bar or a periodic line, in __main__.log."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.callbacks.progress import PhaseBar, ProgressLog, bar_wanted, progress_callbacks
from unlearn.experiment.run import run

ROOT = Path(__file__).resolve().parents[1]


def test_phase_lines_say_what_each_phase_does(make_cfg, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="unlearn")
    quiet = ["progress.bar=false", "progress.log_every_s=null", f"paths.cache_dir={tmp_path}/c"]
    run(make_cfg(*quiet))
    text = caplog.text
    assert "pretraining 20 steps (cache miss" in text and "window: 12 steps" in text
    run(make_cfg(*quiet))  # the same trajectory
    assert "pretraining: cache hit, M_20 loaded" in caplog.text


def test_a_bar_per_phase_named_after_it(make_cfg, capsys):
    res = run(make_cfg("progress.bar=true", "pretrain.cache=false"))
    assert res["status"] == "ok"
    shown = capsys.readouterr()
    text = shown.out + shown.err  # Lightning's tqdm writes to standard output
    assert "pretrain" in text and "20/20" in text and "window" in text and "12/12" in text
    assert "Epoch" not in text


def test_the_periodic_line_counts_the_phase_steps_from_its_start():
    line = ProgressLog("pretrain", start=100, every_s=60).line(50, 400, 10.0)
    assert line == "pretrain: step 150/500 (30 %), 5.0 steps/s, about 1 min 10 s left"


def test_bar_or_line_by_setting_and_terminal():
    assert not bar_wanted("auto")  # pytest captures stderr: not a terminal
    assert bar_wanted(True) and not bar_wanted(False)
    assert isinstance(progress_callbacks("window", 0, True, 60)[0], PhaseBar)
    assert isinstance(progress_callbacks("window", 0, "auto", 60)[0], ProgressLog)
    assert progress_callbacks("window", 0, False, None) == []


def test_the_runs_log_file_holds_the_phase_and_progress_lines(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "unlearn", "N=20", "t=12", "track_every=4", "verify_every=3",
         "logger=none", "progress.log_every_s=0.001", f"hydra.run.dir={out}",
         f"paths.cache_dir={tmp_path / 'cache'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    log = (out / "__main__.log").read_text()
    assert "pretraining 20 steps" in log and "window: 12 steps" in log
    assert "pretrain: step " in log and "window: step " in log  # the periodic lines
    assert "window: done, 12 steps" in log


def test_a_resumed_run_says_where_it_resumed(tmp_path, monkeypatch, caplog):
    from test_resume import QUICK, Crash, _compose, _crash_at

    out = tmp_path / "crashed"
    _crash_at(monkeypatch, 13)  # window checkpoints after steps 5 and 10
    with pytest.raises(Crash):
        run(_compose(QUICK, out))
    monkeypatch.undo()
    caplog.set_level(logging.INFO, logger="unlearn")
    assert run(_compose(QUICK, out))["resumed_at_step"] == 10
    assert "resumed at window step 10 of" in caplog.text
