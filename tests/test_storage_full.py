"""A full disk tells the truth: one line saying what failed, what is kept and the command
that resumes; no traceback, no `--- Logging error ---` block, no claim of numbers or a
checkpoint that are not there.

The disk fills (``OSError(ENOSPC)``) at the k-th ``os.replace`` onto a given file name
(the atomic writes' last move) and stays full: every later replace and every log-file
line fails as well, as on a real full disk.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.runtime import storage

ROOT = Path(__file__).resolve().parents[1]
RUN = ["logger=none", "N=4", "t=6", "pretrain.cache=false"]

FULL_DISK = """
import errno, logging, os, runpy, sys
target, nth = os.environ["FULL_AT"], int(os.environ.get("FULL_AFTER", "0"))
real_replace, real_emit, seen, full = os.replace, logging.FileHandler.emit, [], []
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith(target):
        seen.append(dst)
    if full or len(seen) > nth:
        full.append(dst)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
    return real_replace(src, dst, *args, **kwargs)
def emit(self, record):
    if not full:
        return real_emit(self, record)
    try:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError:
        self.handleError(record)
os.replace, logging.FileHandler.emit = replace, emit
sys.argv = ["unlearn", *sys.argv[1:]]
runpy.run_module("unlearn", run_name="__main__", alter_sys=True)
"""


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", FULL_DISK] if env else [sys.executable, "-m", "unlearn"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env={**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_line(proc: subprocess.CompletedProcess) -> str:
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything and "Logging error" not in everything, everything
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.slow  # three runs of the command (~60 s)
def test_a_full_disk_at_a_window_checkpoint_is_one_true_line_and_resumes(tmp_path):
    out = tmp_path / "run"
    args = [*RUN, "checkpoint_every=2", f"hydra.run.dir={out}"]
    proc = _run(args, {"FULL_AT": "last.ckpt", "FULL_AFTER": "1"})  # the save at step 4 fails
    assert proc.returncode == 1, proc.stderr[-3000:]
    line = _one_line(proc)
    assert line.startswith(
        "error: checkpoints/last.ckpt at window step 4 not written (No space left on device)"
        ", nor results.json; kept: checkpoints/last.ckpt of window step 2 (a rerun resumes there)"
    ), line
    assert "numbers above" not in line and "final checkpoint" not in line
    resume = line.split("then: ", 1)[1]
    assert resume == shlex.join(["python", "-m", "unlearn", *args])
    again = _run(shlex.split(resume)[3:])  # room again: the printed command resumes
    assert again.returncode == 0, again.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["status"] == "ok" and results["resumed_at_step"] == 2


@pytest.mark.slow  # one run of the command (~25 s)
def test_a_full_disk_at_results_json_without_checkpoints_says_the_window_runs_again(tmp_path):
    out = tmp_path / "run"
    args = [*RUN, "checkpoint_every=null", f"hydra.run.dir={out}"]
    proc = _run(args, {"FULL_AT": "results.json"})
    assert proc.returncode == 4, proc.stderr[-3000:]  # finished, results.json not written
    line = _one_line(proc)
    assert "test accuracy" in proc.stdout  # the numbers above are really there
    assert line == storage.line(
        f"{out}/results.json not written (No space left on device); the numbers above are the "
        "run's",
        "no window checkpoint (checkpoint_every=null: a rerun trains the window again)",
        shlex.join(["python", "-m", "unlearn", *args]),
    )
    assert not (out / "results.json").exists()


def test_the_line_names_each_write_that_failed():
    cause = OSError(errno.ENOSPC, "No space left on device")
    err = storage.WriteFailed("checkpoints/last.ckpt at window step 5", cause, "nothing")
    assert storage.is_storage(err) and storage.is_storage(OSError(errno.EROFS, "ro"))
    assert not storage.is_storage(OSError(errno.ENOENT, "missing"))
    results = {"status": "failed", "storage": err.failure, "kept": err.kept}
    assert storage.message(results, "out", "python -m unlearn") == (
        "error: checkpoints/last.ckpt at window step 5 not written (No space left on device); "
        "kept: nothing; free space (or make it writable), then: python -m unlearn"
    )
    assert storage.message({"status": "ok"}, "out", "cmd") is None
