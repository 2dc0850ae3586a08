"""A job's signals under every launcher: SIGTERM, SIGINT and SIGUSR2 stop at a step boundary.

`python -m unlearn` installs `unlearn.runtime.interrupt`'s handler when it starts, but a launcher
that runs jobs in other processes never runs `__main__`: joblib's workers, and submitit's
(`python -m submitit.core._submit`), which binds SIGTERM to a handler that only logs
"Bypassing signal SIGTERM" and SIGUSR2 to its checkpoint-and-requeue, which exits at
whatever line the job is on. So the job itself (`unlearn.__main__.main`, the function
every launcher calls) installs the handler for its duration with `handled`, and puts
back the handlers it replaced when it ends.

Under submitit the saved stop is then handed over (`hand_over`):

- SIGUSR2, submitit's "time limit near / preempted" signal (``--signal=USR2@<signal_delay_s>``):
  once the step is saved and results.json says ``interrupted``, submitit's own handler
  runs: it pickles the job again and ``scontrol requeue``s it; the requeued job resumes
  from the step saved at the signal. When it refuses (``max_num_timeout`` time-outs used
  up) its reason is returned, for the job to record.
- SIGTERM / SIGINT (``scontrol requeue``, a SLURM preemption, ``scancel --signal=TERM``):
  the job exits 143 / 130 as it would locally, without a result for submitit. When SLURM
  requeues it, it resumes from the saved step; when not, the launcher reads its
  results.json (hydra_plugins/unlearn_sweeper/slurm_launcher.py).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from unlearn.runtime import interrupt
from unlearn.runtime.interrupt import Interrupted

Handlers = dict[int, Any]


def in_submitit() -> bool:
    """True inside a job that submitit started (its worker sets SUBMITIT_EXECUTOR)."""
    return bool(os.environ.get("SUBMITIT_EXECUTOR"))


def preemption_signal() -> int:
    """The signal submitit asks SLURM for before the time limit (SUBMITIT_PREEMPT_SIGNAL, USR2)."""
    return int(getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2")))


def restore(previous: Handlers) -> None:
    """Put back the handlers `handled` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)


@contextmanager
def handled() -> Iterator[Handlers]:
    """Inside: `unlearn.runtime.interrupt`'s handler for its signals; yields those it replaced.

    Outside the main thread (a thread-pool launcher) signals cannot be handled: a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous = {signum: signal.getsignal(signum) for signum in interrupt.SIGNALS}
    interrupt.install()
    try:
        yield previous
    finally:
        restore(previous)


def hand_over(err: Interrupted, previous: Handlers) -> str | None:
    """After `err` was saved and recorded: let submitit requeue the job (it exits: SystemExit).

    Returns submitit's reason when it does not requeue ("Job not requeued because:
    timed-out too many times."); None when the stop is not submitit's to handle (not a
    submitit job, or not its preemption signal), and the job stops as it would locally."""
    handler = previous.get(err.signum)
    if not in_submitit() or err.signum != preemption_signal() or not callable(handler):
        return None
    restore(previous)  # the requeue's own SIGTERM must not interrupt the exit
    from submitit.core.utils import UncompletedJobError

    try:
        handler(err.signum, None)  # checkpoint (pickle the job again), requeue, sys.exit
    except UncompletedJobError as refusal:
        return str(refusal)
    return "submitit returned without requeueing (not the job's first task)"
