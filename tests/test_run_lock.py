"""One process per run folder: a second one is refused at once, in one line naming the
holder; a holder that died (even by SIGKILL) leaves a folder the next process takes over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.runtime import run_lock
from unlearn.runtime.run_lock import FolderBusy, hold, release

ROOT = Path(__file__).resolve().parents[1]


def _holder(folder: Path) -> subprocess.Popen:
    """Another process that takes `folder` and keeps it until killed."""
    code = (
        "import sys, time; from unlearn.runtime.run_lock import hold; "
        f"hold({str(folder)!r}); print('held', flush=True); time.sleep(600)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_is_refused_then_takes_over_when_the_holder_dies(tmp_path):
    folder = tmp_path / "run"
    other = _holder(folder)
    try:
        with pytest.raises(FolderBusy) as err:
            hold(folder)
        text = str(err.value)
        assert "\n" not in text and text.startswith(f"hydra.run.dir={str(folder)!r}: in use by")
        assert f"pid {other.pid} on host {socket.gethostname()}" in text and "allowed" in text
    finally:
        other.send_signal(signal.SIGKILL)  # no clean-up: its owner record stays behind
        other.wait()
    assert json.loads((folder / run_lock.OWNER).read_text())["pid"] == other.pid  # stale
    hold(folder)  # the kernel dropped the dead holder's flock: taken over
    try:
        assert json.loads((folder / run_lock.OWNER).read_text())["pid"] == os.getpid()
    finally:
        release(folder)


def test_an_owner_record_of_a_live_process_is_trusted_even_where_flock_is_not(tmp_path):
    """A file system that grants flock without enforcing it: the recorded live holder
    (pid and start time on this host) still keeps the folder; a dead one does not."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    record = {
        "pid": sleeper.pid,
        "host": socket.gethostname(),
        "start_token": run_lock.start_token(sleeper.pid),
        "since": 0,
    }
    (tmp_path / run_lock.OWNER).write_text(json.dumps(record))
    try:
        with pytest.raises(FolderBusy, match=f"pid {sleeper.pid} on host"):
            hold(tmp_path)
        recycled = {**record, "start_token": (record["start_token"] or 0) + 1}  # a reused pid
        (tmp_path / run_lock.OWNER).write_text(json.dumps(recycled))
        hold(tmp_path)
        release(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    (tmp_path / run_lock.OWNER).write_text(json.dumps(record))  # now dead: stale
    hold(tmp_path)
    release(tmp_path)


def test_the_command_is_refused_with_status_2_and_one_line(tmp_path):
    folder = tmp_path / "run"
    other = _holder(folder)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "unlearn", "logger=none", "N=4", "t=4",
             f"hydra.run.dir={folder}"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        other.kill()
        other.wait()
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and f"in use by pid {other.pid}" in lines[0], lines
    assert not (folder / ".hydra").exists()  # Hydra wrote nothing into the held folder
