"""StopOnSignal: ends a phase at a step boundary when SIGTERM or SIGINT arrived.

The signal is caught by unlearn.runtime.interrupt.

Keep it last among the callbacks, after those that complete a step (the twin) or save state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
from typing_extensions import override

from unlearn.runtime import interrupt


class StopOnSignal(L.Callback):
    """At the end of each step: record the position; on a pending signal, `save` and stop.

    Args:
        phase: "pretraining" or "the window", for the line printed.
        total: the phase's steps (N or t).
        offset: the stream step of the phase's first step (a cached prefix of k steps).
        save: ``save(trainer, step)`` → what it saved, in words (None: nothing).
    """

    def __init__(
        self,
        phase: str,
        total: int,
        offset: int = 0,
        save: Callable[[L.Trainer, int], str | None] | None = None,
    ) -> None:
        self.phase, self.total, self.offset, self.save = phase, total, offset, save

    @override
    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        step = self.offset + int(trainer.global_step)
        save = (lambda: self.save(trainer, step)) if self.save else None
        interrupt.stop_if_pending(self.phase, step, self.total, save)
