"""Helpers and fixtures for the tests against a real one-node SLURM cluster (`make test-slurm`).

`make test-slurm` starts the cluster (scripts/slurm-local.sh up), runs these tests and
stops it. The jobs are tiny (digits, a few dozen steps, one CPU, 1 GB each); each is
compared field by field with the same job run locally.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# fits the one-node test cluster: no GPU, one CPU and 1 GB per job
SLURM = [
    "hydra/launcher=slurm",
    "hydra.launcher.gpus_per_node=0",
    "hydra.launcher.cpus_per_task=1",
    "hydra.launcher.mem_gb=1",
]
QUIET = ["logger=none", "pretrain.cache=false"]
TINY = ["N=20", "t=12", "track_every=4", "verify_every=3", *QUIET]
# a window long enough to signal it in the middle (periodic checkpoint every 15 steps)
LONG = ["N=30", "t=100", "track_every=2", "verify_every=5", "checkpoint_every=15", *QUIET]
# a long window of cheap steps, still seconds from its end after its first checkpoint
# (step 100); held still there (`stopped`) until a time limit brought near has signalled
LIMITED = ["N=30", "t=1500", "track_every=100", "verify_every=100", "checkpoint_every=100"]
LIMITED += QUIET


def unlearn(*args: str, **kwargs: Any) -> subprocess.Popen:
    """`python -m unlearn ARGS` from the repository; stdout (Hydra's log) and stderr
    captured together, as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "unlearn", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    """(exit status, output) once `proc` ends (killed after `timeout` s: a hang fails)."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"no exit within {timeout:.0f} s; output:\n{out[-3000:]}")
    return proc.returncode, out


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 300) -> Any:
    """Poll `condition` until it returns something true; fail after `timeout` s."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout:.0f} s")


def results(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "results.json").read_text())
    except (OSError, ValueError):
        return None


def slurm(*args: str) -> str:
    """A SLURM command's output (it must succeed)."""
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def queued(name: str) -> str | None:
    """The id of the job named `name` while it is pending or running."""
    out = slurm("squeue", "-h", "-r", "-n", name, "-o", "%i")
    return out.splitlines()[0] if out else None


def window_checkpoint(job_dir: Path) -> bool:
    """True once the job saved its first periodic window checkpoint (mid-window)."""
    return any((job_dir / "checkpoints").glob("*.ckpt"))


def reference_results(ref: dict[str, Any]) -> dict[str, Any]:
    """The local reference run's results.json (waits for it the first time)."""
    if "results" not in ref:
        code, err = finish(ref["proc"])
        assert code == 0, err[-3000:]
        ref["results"] = results(ref["out"])
    assert ref["results"]["status"] == "ok"
    return ref["results"]


def job_processes(job: str) -> list[int]:
    """The pids of the job's Python worker (submitit's `_submit`) on this one-node cluster."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
            cmd = (proc / "cmdline").read_bytes()
        except OSError:  # not a process, or it ended
            continue
        if f"SLURM_JOB_ID={job}".encode() in env and b"submitit.core._submit" in cmd:
            found.append(int(proc.name))
    return found


def signalled(pid: int, signum: int) -> bool:
    """True once the stopped process `pid` got `signum`: pending, or already handled
    (SLURM sends SIGCONT with its signals, so the process may run on, or have ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it handled the signal and ended
        return True
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    masks = [int(fields[key].strip(), 16) for key in ("SigPnd", "ShdPnd")]
    return not fields["State"].strip().startswith("T") or any(m >> (signum - 1) & 1 for m in masks)


@contextmanager
def stopped(job: str, awaiting: signal.Signals) -> Iterator[None]:
    """The job's worker held still (SIGSTOP) inside, and after until SLURM has sent it
    `awaiting`; then it continues (SIGCONT) and handles the signal at its next step.

    A job whose remaining steps take less time than SLURM needs to send a signal (its
    time-limit check runs every 30 s) would otherwise finish first: this makes the time
    at which the signal lands independent of the machine's speed."""
    pids = wait_for(lambda: job_processes(job), f"the Python worker of job {job}", 60)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
        wait_for(lambda: all(signalled(pid, awaiting) for pid in pids), awaiting.name, 150)
    finally:
        for pid in pids:
            with suppress(ProcessLookupError):  # it already handled the signal and ended
                os.kill(pid, signal.SIGCONT)
