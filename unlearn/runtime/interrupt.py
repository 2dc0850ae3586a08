"""SIGTERM, SIGINT, SIGUSR2: stop at the next step, save what resumes, say where, exit 128 + n.

SLURM, ``docker stop`` and supervisors stop a job with SIGTERM; Ctrl-C sends SIGINT.
Lightning turns SIGTERM into a `SystemExit` without a code (a run that "succeeded") and
SIGINT into exit status 1 without a word. Instead, `install` makes both:

- inside a training loop (`deferred`): note the signal; `StopOnSignal`
  (unlearn/callbacks/stop_on_signal.py), the last callback, sees it at the end of the
  current step, saves a window checkpoint or a pretrain cache entry at that step, and
  raises `Interrupted` (a second signal stops at
  once, mid-step);
- anywhere else (setup, the test pass): raise `Interrupted` at once.

`unlearn.experiment.job.run_job` writes results.json with ``status: "interrupted"`` and the step;
`python -m unlearn` prints one line saying where it stopped and the exact command that
resumes, and exits with 128 + the signal number (143 for SIGTERM, 130 for SIGINT). A
multirun stops there too: the remaining jobs are not started.
"""

from __future__ import annotations

import shlex
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# SIGUSR2: what submitit asks SLURM to send before a time limit (unlearn/runtime/job_signals.py)
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)


class Interrupted(BaseException):  # noqa: N818 (not an error: a request to stop)
    """A stop request (SIGTERM, SIGINT), raised where the run stopped.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` records it
    as a failure."""

    def __init__(
        self,
        signum: int,
        phase: str = "setup",
        step: int | None = None,
        total: int | None = None,
        saved: str | None = None,
    ) -> None:
        self.signum, self.phase, self.step, self.total, self.saved = (
            signum, phase, step, total, saved,
        )  # fmt: skip
        super().__init__(self.where())

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (143 SIGTERM, 130 SIGINT)."""
        return 128 + int(self.signum)

    def where(self) -> str:
        """'in the window at step 37 of 60' and what was saved."""
        text = f"{self.signal_name} in {self.phase}"
        if self.step is not None:
            text += f" at step {self.step}" + (f" of {self.total}" if self.total else "")
        return text + (f" ({self.saved})" if self.saved else "")

    def facts(self) -> dict[str, Any]:
        """What results.json records about the stop."""
        return {
            "signal": self.signal_name,
            "phase": self.phase,
            "step": self.step,
            "steps_total": self.total,
            "saved": self.saved,
        }


class _State:
    pending: int | None = None
    depth = 0
    progress: dict[str, Any] = {"phase": "setup", "step": None, "total": None}  # noqa: RUF012


_state = _State()


def _handler(signum: int, frame: Any) -> None:
    if _state.depth == 0:
        raise Interrupted(signum, **_state.progress)
    if _state.pending is None or (signum == signal.SIGUSR2 and _state.pending != signum):
        # USR2 after another signal still waits for the step: a preemption through
        # submitit sends SIGTERM, then USR2, and USR2's stop is the one that requeues
        _state.pending = signum
        return
    raise Interrupted(signum, **_state.progress)  # a second signal: stop at once


def install() -> None:
    """Handle `SIGNALS` as this module says (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in SIGNALS:
        signal.signal(signum, _handler)


def pending() -> int | None:
    """The signal received and not yet acted on, or None."""
    return _state.pending


def clear() -> None:
    _state.pending = None
    _state.progress = {"phase": "setup", "step": None, "total": None}


def at(phase: str, step: int | None = None, total: int | None = None) -> None:
    """Where the run is now (for the line an immediate stop prints)."""
    _state.progress = {"phase": phase, "step": step, "total": total}


@contextmanager
def deferred() -> Iterator[None]:
    """Inside: a first signal only sets `pending` (acted on at a step boundary)."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1


def stop_if_pending(phase: str, step: int, total: int, save: Any = None) -> None:
    """At a step boundary: record the position; on a pending signal, `save` and stop."""
    at(phase, step, total)
    if _state.pending is not None:
        saved = save() if save else None
        raise Interrupted(_state.pending, phase, step, total, saved)


def check(saved: str | None = None) -> None:
    """Raise `Interrupted` if a signal is pending."""
    if _state.pending is not None:
        raise Interrupted(_state.pending, **_state.progress, saved=saved)


def resume_command(argv: Sequence[str], out_dir: str, sweep_dir: str | None = None) -> str:
    """The command that continues this run (or sweep): the same arguments, with its folder."""
    args = list(argv)
    key, folder = ("hydra.sweep.dir", sweep_dir) if sweep_dir else ("hydra.run.dir", out_dir)
    args = [a for a in args if a.split("=", 1)[0].lstrip("+") != key]
    return shlex.join(["python", "-m", "unlearn", *args, f"{key}={folder}"])
