"""Signals and time limits of real SLURM jobs: every stop saves its step and resumes from it.

The job (LONG: 30 pretraining steps, a 100-step window with a periodic checkpoint every
15) is signalled once its first periodic checkpoint exists, i.e. mid-window; the step
saved at the signal, not the periodic one, is where the requeued job resumes, and its
results equal a local run's field by field (timings and the resume step aside).
"""

from __future__ import annotations

import math
import shlex
import signal
import socket
import subprocess
import sys

from cluster import (
    LIMITED,
    LONG,
    ROOT,
    SLURM,
    finish,
    queued,
    reference_results,
    results,
    slurm,
    stopped,
    unlearn,
    wait_for,
    window_checkpoint,
)
from test_resume import metrics

HOST = socket.gethostname()
# a limit far enough not to warn before `_limit_near`; its warning 40 s ahead
LIMIT = ["hydra.launcher.timeout_min=10", "hydra.launcher.signal_delay_s=40"]


def _interrupted(job_dir):
    found = results(job_dir)
    return found if found and found["status"] == "interrupted" else None


def _sweep(tmp_path, job_name, *extra, job=LONG):
    sweep = tmp_path / "sweep"
    proc = unlearn(
        "-m", *job, "lr=0.01", *SLURM, f"hydra.launcher.name={job_name}",
        f"hydra.sweep.dir={sweep}", *extra,
    )  # fmt: skip
    return proc, sweep / "0"


def _signal_mid_window(job_dir, job_name, *command):
    """Once the job is mid-window: run `command` + its id (or call a function with it);
    returns the id and the job's interrupted results.json."""
    wait_for(lambda: window_checkpoint(job_dir), "periodic window checkpoint", 400)
    job = wait_for(lambda: queued(job_name), "job in the queue")
    if callable(command[0]):
        command[0](job)
    else:
        slurm(*command, job)
    return job, wait_for(lambda: _interrupted(job_dir), "interrupted results.json", 150)


def test_scontrol_requeue_mid_window_resumes_from_the_step_saved_at_the_signal(
    tmp_path, job_name, long_reference
):
    proc, job_dir = _sweep(tmp_path, job_name)
    _, stopped = _signal_mid_window(job_dir, job_name, "scontrol", "requeue")
    code, err = finish(proc)
    assert code == 0, err[-3000:]
    step = stopped["step"]
    assert (stopped["signal"], stopped["phase"]) == ("SIGTERM", "the window")
    assert stopped["saved"] == f"window checkpoint at step {step}"
    final = results(job_dir)
    assert final["status"] == "ok" and final["resumed_at_step"] == step  # not the periodic 15
    assert metrics(final) == metrics(reference_results(long_reference))


def test_scancel_signal_term_saves_says_interrupted_and_its_command_resumes(
    tmp_path, job_name, long_reference
):
    proc, job_dir = _sweep(tmp_path, job_name)
    job, stopped = _signal_mid_window(job_dir, job_name, "scancel", "--signal=TERM")
    code, err = finish(proc, 300)  # the submitter notices: no waiting for a result pickle
    assert code == 1, err[-3000:]  # a sweep with an unfinished job
    assert (stopped["signal"], stopped["phase"]) == ("SIGTERM", "the window")
    assert stopped["saved"] == f"window checkpoint at step {stopped['step']}"
    assert f"job 0 (SLURM {job}, FAILED): stopped by SIGTERM in the window" in err
    assert f"resume: {stopped['resume']}" in err
    assert "1 of 1 jobs did not finish" in err
    # the printed command continues this job, here, to a local run's numbers
    assert stopped["resume"].endswith(f"hydra.run.dir={job_dir}")
    again = subprocess.run(
        [sys.executable, *shlex.split(stopped["resume"])[1:]],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    final = results(job_dir)
    assert final["status"] == "ok" and final["resumed_at_step"] == stopped["step"]
    assert metrics(final) == metrics(reference_results(long_reference))


def _limit_near(job: str) -> None:
    """Bring the running job's time limit near, with the job held still until SLURM's
    warning (USR2, signal_delay_s = 40 s before the limit) has reached it: the limit then
    lies 40 to 100 s ahead, SLURM checks time limits every 30 s and sends the warning up
    to 60 s early, and a fast machine would finish the window before it arrived."""
    with stopped(job, signal.SIGUSR2):
        used = [int(x) for x in slurm("squeue", "-h", "-j", job, "-o", "%M").split(":")]
        seconds = sum(x * 60**i for i, x in enumerate(reversed(used)))
        limit = math.ceil((seconds + 40) / 60)
        slurm("scontrol", "update", f"JobId={job}", f"TimeLimit={limit}")


def test_a_time_limit_requeues_by_default_and_resumes_from_the_signal_step(
    tmp_path, job_name, limited_reference
):
    """A real time limit: the job (LIMITED) runs under a 10-minute limit until it is mid-window,
    then its limit is brought near (`_limit_near`); submitit's USR2 handler requeues it
    (max_num_timeout from conf/hydra/launcher/slurm.yaml), and once requeued the limit is
    put back to 10 minutes so that the second attempt finishes."""
    proc, job_dir = _sweep(tmp_path, job_name, *LIMIT, job=LIMITED)
    job, stopped = _signal_mid_window(job_dir, job_name, _limit_near)
    slurm("scontrol", "update", f"JobId={job}", "TimeLimit=10")
    code, err = finish(proc)
    assert code == 0, err[-3000:]
    assert (stopped["signal"], stopped["phase"]) == ("SIGUSR2", "the window")
    assert stopped["saved"] == f"window checkpoint at step {stopped['step']}"
    log = "\n".join(p.read_text() for p in job_dir.parent.glob(".submitit/*/*_log.*"))
    assert "Caught signal SIGUSR2 on vm: this job is timed-out." in log.replace(HOST, "vm")
    assert f"Requeued job {job} (9 remaining timeouts)" in log  # max_num_timeout: 10
    final = results(job_dir)
    assert final["status"] == "ok" and final["resumed_at_step"] == stopped["step"]
    assert metrics(final) == metrics(reference_results(limited_reference))


def test_a_time_limit_with_no_requeue_left_says_so_in_results_json(tmp_path, job_name):
    proc, job_dir = _sweep(
        tmp_path, job_name, *LIMIT, "hydra.launcher.max_num_timeout=0", job=LIMITED
    )
    _, stopped = _signal_mid_window(job_dir, job_name, _limit_near)
    code, err = finish(proc)
    assert code == 1, err[-3000:]
    out = wait_for(lambda: (r := results(job_dir)) and r.get("requeues_exhausted") and r, "record")
    assert out["status"] == "interrupted" and out["signal"] == "SIGUSR2"  # not "failed"
    assert out["step"] == stopped["step"] and out["max_num_timeout"] == 0
    assert out["reason"].startswith(
        "time limit: out of requeues (Job not requeued because: timed-out too many times; "
        "hydra.launcher.timeout_min=10, hydra.launcher.max_num_timeout=0); stopped by SIGUSR2"
    )
    assert "time limit: out of requeues" in err  # the submitter's line for job 0
