"""A job's signals under every launcher (unlearn/runtime/job_signals.py): the handler is the
job's own while it runs, SIGUSR2 after SIGTERM still waits for the step, and under
submitit the saved stop is handed to submitit's requeue. The real thing, against a real
SLURM cluster, is tests/slurm/test_signals.py (`make test-slurm`)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from submitit.core.utils import UncompletedJobError

from unlearn.experiment.job import failure_results, out_of_requeues
from unlearn.experiment.results import read_results
from unlearn.runtime import interrupt, job_signals
from unlearn.runtime.interrupt import Interrupted


@pytest.fixture
def clean():
    before = {s: signal.getsignal(s) for s in interrupt.SIGNALS}
    interrupt.clear()
    yield
    interrupt.clear()
    job_signals.restore(before)


def _submitit_like(signum, frame):  # stands for submitit's handlers (bypass, requeue)
    raise AssertionError("not to be called here")


def test_the_job_installs_its_handler_and_puts_back_the_replaced_one(clean):
    for signum in interrupt.SIGNALS:
        signal.signal(signum, _submitit_like)
    with job_signals.handled() as replaced:
        assert all(signal.getsignal(s) is interrupt._handler for s in interrupt.SIGNALS)
        assert set(replaced) == {signal.SIGTERM, signal.SIGINT, signal.SIGUSR2}
    assert all(signal.getsignal(s) is _submitit_like for s in interrupt.SIGNALS)


def test_usr2_after_a_pending_sigterm_still_waits_for_the_step(clean):
    """A preemption through submitit sends SIGTERM, then SIGUSR2: the stop that follows at
    the step boundary is USR2's (the one submitit requeues); a repeat stops at once."""
    with job_signals.handled(), interrupt.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGUSR2)
        assert interrupt.pending() == signal.SIGUSR2
        with pytest.raises(Interrupted) as err:
            os.kill(os.getpid(), signal.SIGUSR2)
    assert err.value.exit_code == 128 + signal.SIGUSR2


def test_under_submitit_usr2_goes_to_its_requeue_and_its_refusal_comes_back(clean, monkeypatch):
    monkeypatch.setenv("SUBMITIT_EXECUTOR", "slurm")
    seen = []

    def requeue(signum, frame):  # submitit's checkpoint_and_try_requeue, out of requeues
        seen.append(signal.getsignal(signal.SIGTERM))  # its own SIGTERM handler is back
        raise UncompletedJobError("Job not requeued because: timed-out too many times.")

    replaced = {signal.SIGUSR2: requeue, signal.SIGTERM: _submitit_like}
    refusal = job_signals.hand_over(Interrupted(signal.SIGUSR2), replaced)
    assert refusal == "Job not requeued because: timed-out too many times."
    assert seen == [_submitit_like]
    assert job_signals.hand_over(Interrupted(signal.SIGTERM), replaced) is None  # exits 143

    def requeued(signum, frame):  # the requeue itself: submitit exits the process
        raise SystemExit(-1)

    with pytest.raises(SystemExit):
        job_signals.hand_over(Interrupted(signal.SIGUSR2), {signal.SIGUSR2: requeued})
    monkeypatch.delenv("SUBMITIT_EXECUTOR")
    assert job_signals.hand_over(Interrupted(signal.SIGUSR2), replaced) is None  # locally


def test_out_of_requeues_is_recorded_as_such_not_as_a_failure(make_cfg):
    cfg = make_cfg()
    err = Interrupted(signal.SIGUSR2, "the window", 7, 12, "window checkpoint at step 7")
    err.results = failure_results(  # what run_job wrote at the stop
        cfg, "interrupted", f"stopped by {err.where()}", **err.facts(), resume="python -m x"
    )
    refusal = "Job not requeued because: timed-out too many times."
    out_of_requeues(cfg, err, refusal, {"timeout_min": 2, "max_num_timeout": 3})
    stored = read_results(Path(cfg.paths.output_dir) / "results.json")
    assert stored["status"] == "interrupted" and stored["requeues_exhausted"] is True
    assert stored["reason"] == (
        "time limit: out of requeues (Job not requeued because: timed-out too many times; "
        "hydra.launcher.timeout_min=2, hydra.launcher.max_num_timeout=3); stopped by SIGUSR2 "
        "in the window at step 7 of 12 (window checkpoint at step 7)"
    )
    assert (stored["step"], stored["resume"]) == (7, "python -m x")
