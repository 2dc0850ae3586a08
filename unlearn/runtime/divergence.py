"""Stop a run whose loss turns NaN or infinite, and say where.

A diverged run is a result (γ or η too large for the model), not a crash: the job writes
``status: "diverged"`` with the step and the reason into results.json (`unlearn.experiment.job`).

Reading a GPU tensor's value forces a device sync, so on GPU the guard only accumulates
"the first non-finite step and its loss" on the device and reads it at the tracking events
(every `check_every` steps and at the last step), where the window's callbacks sync
anyway. On CPU reading is free, so it checks every step.

Example:
    >>> guard = DivergenceGuard(check_every=10)
    >>> guard.start("window")
    >>> guard.observe(torch.tensor(float("nan")), step=3, last_step=100)
    Traceback (most recent call last):
    ...
    unlearn.runtime.divergence.Diverged: non-finite loss (nan) at window step 3
"""

from __future__ import annotations

import torch
from torch import Tensor


class Diverged(RuntimeError):
    """The training loss became NaN or infinite at `step` (1-based) of `phase`."""

    def __init__(self, step: int, phase: str, value: float) -> None:
        self.step = step
        self.phase = phase
        self.value = value
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"non-finite loss ({self.value}) at {self.phase} step {self.step}"


class DivergenceGuard:
    """Watches the loss of every step; raises `Diverged` no later than the next check.

    Args:
        check_every: on GPU, read the device-side flag every k steps (and at the last).
        defer: accumulate on the device and check every k steps; None (default): defer
            everywhere but on the CPU, where a check costs nothing.
    """

    def __init__(self, check_every: int = 1, defer: bool | None = None) -> None:
        if check_every < 1:
            raise ValueError(f"check_every={check_every}; allowed: >= 1")
        self.check_every = check_every
        self.defer = defer
        self.phase = "train"
        self._step: Tensor | None = None  # first bad step (0: none yet), on the loss's device
        self._value: Tensor | None = None  # the loss at that step

    def start(self, phase: str) -> None:
        """Begin a phase: forget what an earlier phase saw."""
        self.phase = phase
        self._step = self._value = None

    def observe(self, loss: Tensor, step: int, last_step: int) -> None:
        """Record step `step`'s loss; check now on CPU, at events on other devices."""
        loss = loss.detach()
        if not (self.defer if self.defer is not None else loss.device.type != "cpu"):
            if not bool(torch.isfinite(loss)):
                raise Diverged(step, self.phase, float(loss))
            return
        if self._step is None or self._value is None:
            self._step = torch.zeros((), dtype=torch.long, device=loss.device)
            self._value = torch.zeros((), dtype=loss.dtype, device=loss.device)
        first = ~torch.isfinite(loss) & (self._step == 0)
        self._step = torch.where(first, step, self._step)
        self._value = torch.where(first, loss, self._value)
        if step % self.check_every == 0 or step >= last_step:
            self.check()

    def check(self) -> None:
        """Raise `Diverged` if any observed loss was not finite (one device sync)."""
        if self._step is None or self._value is None:
            return
        step, value = int(self._step), float(self._value)
        if step > 0:
            raise Diverged(step, self.phase, value)
