"""What a person watching a run sees: a bar per phase in a terminal, a line now and then in
the log otherwise (a SLURM job's log, ``<output_dir>/__main__.log``).

Both show the phase's own name and step count ("pretrain 120/450"), not Lightning's
"Epoch 0", since each phase of a run is one Lightning epoch of its own length. Which one a
run gets is `progress.bar` (``auto``: the bar when standard error is a terminal) and
`progress.log_every_s` (the seconds between log lines when there is no bar).

Example::

    trainer = L.Trainer(max_steps=450, callbacks=progress_callbacks("pretrain", 0, 450,
                        bar="auto", log_every_s=60))
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from typing_extensions import override

log = logging.getLogger(__name__)


def bar_wanted(bar: Any) -> bool:
    """``progress.bar``: true/false, or ``auto`` (a bar when standard error is a terminal)."""
    if bar == "auto":
        return sys.stderr.isatty()
    return bool(bar)


def duration(seconds: float) -> str:
    """'42 s', '3 min 05 s', '2 h 07 min' (for log lines)."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


class PhaseBar(TQDMProgressBar):
    """Lightning's tqdm bar, named after the phase and counting its steps.

    Args:
        phase: the bar's label, e.g. ``"pretrain"`` or ``"window"``.
        start: the phase's first stream step (a pretraining resumed from a cached step k
            counts k … N, not 0 … N − k).
    """

    def __init__(self, phase: str, start: int = 0) -> None:
        super().__init__()
        self.phase = phase
        self.start = start

    @property
    @override
    def train_description(self) -> str:
        return self.phase

    @override
    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any) -> None:
        bar = self.train_progress_bar  # Lightning's own would relabel it "Epoch 0"
        bar.reset(total=self.start + int(trainer.max_steps))
        bar.initial = bar.n = self.start
        bar.set_description(self.phase)

    @override
    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        bar = self.train_progress_bar
        n = self.start + int(trainer.global_step)
        if self._should_update(n - self.start, bar.total) or n >= bar.total:
            bar.n = n
            bar.set_postfix(self.get_metrics(trainer, args[0]), refresh=False)
            bar.refresh()

    @override
    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        items = super().get_metrics(trainer, pl_module)
        items.pop("v_num", None)
        return items


class ProgressLog(L.Callback):
    """A log line every `every_s` seconds of a phase, and one when it ends::

        pretrain: step 120/450 (27 %), 3.1 steps/s, about 1 min 46 s left

    Args:
        phase: the phase's name in the line.
        start: the phase's first stream step.
        every_s: seconds between lines.
    """

    def __init__(self, phase: str, start: int = 0, every_s: float = 60.0) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s={every_s}: allowed a number > 0")
        self.phase = phase
        self.start = start
        self.every_s = every_s
        self._t0 = self._last = 0.0

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = self._last = time.perf_counter()

    @override
    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        now = time.perf_counter()
        done = int(trainer.global_step)
        if now - self._last >= self.every_s and done < int(trainer.max_steps):
            self._last = now
            log.info(self.line(done, int(trainer.max_steps), now - self._t0))

    @override
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        elapsed = time.perf_counter() - self._t0
        total = self.start + int(trainer.global_step)
        log.info("%s: done, %d steps in %s", self.phase, total, duration(elapsed))

    def line(self, done: int, planned: int, elapsed: float) -> str:
        """The progress line after `done` of `planned` steps of this phase (not counting
        the `start` steps done before), `elapsed` seconds in."""
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (planned - done) / rate if rate > 0 else float("nan")
        step, total = self.start + done, self.start + planned
        eta = duration(left) if left == left else "?"
        return (
            f"{self.phase}: step {step}/{total} ({100 * step / max(total, 1):.0f} %), "
            f"{rate:.1f} steps/s, about {eta} left"
        )


def progress_callbacks(
    phase: str, start: int, bar: Any = "auto", log_every_s: float | None = 60.0
) -> list[L.Callback]:
    """The bar (when `bar_wanted(bar)`) or else the periodic log line, for one phase."""
    if bar_wanted(bar):
        return [PhaseBar(phase, start)]
    return [ProgressLog(phase, start, log_every_s)] if log_every_s else []
