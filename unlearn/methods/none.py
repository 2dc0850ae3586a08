"""No unlearning: w'' = w_t. The baseline every method must beat (v then equals v_none)."""

from __future__ import annotations

from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.methods.base import UnlearningMethod


class NoUnlearning(UnlearningMethod):
    """Leaves the weights as they are; costs nothing and stores nothing."""

    name = "none"

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        return [p.detach().clone() for p in trainable(net).values()]
