"""Real signals to a real `python -m unlearn`: SIGTERM exits 143, SIGINT 130, each with one
line saying where it stopped and the command that resumes; an interrupted multirun stops.

(The in-process checks of what is saved and that the resumed results are identical are
in tests/test_reliability.py; this file checks the exit statuses and the printed line.)
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_resume import ROOT, SLOW_WINDOW, _env

from unlearn.experiment.checkpointing import checkpoint_path


def _wait_for(path_exists, proc: subprocess.Popen, what: str) -> None:
    start = time.perf_counter()
    while not path_exists():
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        assert time.perf_counter() - start < 300, f"no {what} within 300 s"
        time.sleep(0.02)


def _stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.slow  # two process starts and a window (~50 s); the in-process twin is fast
def test_sigterm_mid_window_exits_143_and_the_printed_command_resumes(tmp_path):
    out = tmp_path / "run"
    args = [*SLOW_WINDOW, "logger=none", "pretrain.cache=false", f"hydra.run.dir={out}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "unlearn", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(checkpoint_path(out).exists, proc, "window checkpoint")
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 143
    lines = _stderr_lines(err.decode())
    assert len(lines) == 1, lines
    stored = json.loads((out / "results.json").read_text())
    assert stored["status"] == "interrupted" and stored["phase"] == "the window"
    step = stored["step"]
    assert lines[0].startswith(f"interrupted by SIGTERM in the window at step {step} of 60")
    command = lines[0].split("; resume: ", 1)[1]
    assert command == stored["resume"] == shlex.join(["python", "-m", "unlearn", *args])

    again = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = json.loads((out / "results.json").read_text())
    assert resumed["status"] == "ok" and resumed["resumed_at_step"] == step


def test_sigint_stops_a_multirun_in_its_first_job_with_130(tmp_path):
    sweep, cache = tmp_path / "sweep", tmp_path / "cache"
    args = ["-m", "lr=0.01,0.02", "N=5000", "t=4", "logger=none", f"paths.cache_dir={cache}"]
    args += [f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "unlearn", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: any((cache / "pretrain").glob("*/.lock")), proc, "pretraining")
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 130, err.decode()[-2000:]
    line = _stderr_lines(err.decode())[-1]
    assert line.startswith("interrupted by SIGINT in pretraining at step "), line
    assert f"(job 0 of {sweep})" in line and line.endswith(f"hydra.sweep.dir={sweep}")
    stored = json.loads((sweep / "0" / "results.json").read_text())
    assert stored["status"] == "interrupted" and stored["phase"] == "pretraining"
    assert stored["saved"] == f"pretrain cache entry at step {stored['step']}"
    assert any((cache / "pretrain").glob(f"*/step_{stored['step']:09d}.pt"))
    assert not (sweep / "1").exists()  # the second job never started
    assert Path(sweep / "jobs.json").exists()


@pytest.mark.slow  # a multirun of two small jobs, twice (~90 s)
def test_sigterm_to_a_multirun_then_its_printed_command_finishes_every_job(tmp_path):
    """The printed resume command of an interrupted sweep resumes its job at the saved
    step and runs the jobs that never started (issue 26: not tried before)."""
    sweep = tmp_path / "sweep"
    args = ["-m", "seed=0,1", "N=10", "t=24", "track_every=2", "verify_every=4"]
    args += ["checkpoint_every=4", "logger=none", "pretrain.cache=false"]
    args += [f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "unlearn", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(checkpoint_path(sweep / "0").exists, proc, "window checkpoint of job 0")
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 143, err.decode()[-2000:]
    line = _stderr_lines(err.decode())[-1]
    assert line.startswith("interrupted by SIGTERM in the window at step "), line
    assert f"(job 0 of {sweep}); resume: " in line
    command = line.split("; resume: ", 1)[1]
    assert command == shlex.join(["python", "-m", "unlearn", *args])
    stopped = json.loads((sweep / "0" / "results.json").read_text())
    assert stopped["status"] == "interrupted" and not (sweep / "1").exists()

    again = subprocess.run(
        [sys.executable, *shlex.split(command)[1:]],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    first, second = (json.loads((sweep / j / "results.json").read_text()) for j in "01")
    assert first["status"] == second["status"] == "ok"
    assert first["resumed_at_step"] == stopped["step"] and second["resumed_at_step"] is None
