"""Exact unlearning by retraining: w'' = w', the twin's own weights (v = 0 by definition).

It is the answer every approximate method is measured against, and its cost (the twin's
replay of the window without F) is the price they are meant to avoid.
"""

from __future__ import annotations

from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.methods.base import UnlearningMethod


class Retrain(UnlearningMethod):
    """Returns the twin's weights; its cost is reported as the twin's."""

    name = "retrain"
    uses_twin = True

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        return [p.detach().clone() for p in trainable(twin_net).values()]
