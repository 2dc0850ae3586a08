"""Amnesiac unlearning (Graves et al. 2021; the paper's §4.3 and §9).

During training, store the parameter update w_s − w_{s−1} of every step whose batch held a
forgotten sample; to unlearn, subtract them all from w_t. The stored updates are the
method's cost: `storage_bytes` reports them. Unlike single-gradient unlearning the
updates depend on the intermediate weights, not only on w_0 and the data order (§9).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods.base import UnlearningMethod


def _weights(net: nn.Module) -> list[Tensor]:
    return [p.detach() for p in trainable(net).values()]


class Amnesiac(UnlearningMethod):
    """Keeps one update per forget step (`updates`, keyed by window step)."""

    name = "amnesiac"

    def __init__(self) -> None:
        super().__init__()
        self.updates: dict[int, list[Tensor]] = {}
        self._before: list[Tensor] | None = None

    def before_step(self, net: nn.Module) -> None:
        begin = time.perf_counter()
        self._before = [p.clone() for p in _weights(net)]
        self.cost.seconds += time.perf_counter() - begin

    def after_step(
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        if self._before is None:
            raise RuntimeError("Amnesiac.after_step without before_step: the update is unknown")
        begin = time.perf_counter()
        self.updates[record.step] = torch._foreach_sub(_weights(net), self._before)
        self._before = None
        self.cost.seconds += time.perf_counter() - begin

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        out = [p.clone() for p in _weights(net)]
        for update in self.updates.values():
            torch._foreach_sub_(out, update)
        return out

    @property
    def storage_bytes(self) -> int:
        return sum(u.numel() * u.element_size() for us in self.updates.values() for u in us)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.updates = dict(state["updates"])
