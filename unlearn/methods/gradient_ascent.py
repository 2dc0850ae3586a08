"""Gradient ascent (GA, "NegGrad"; Golatkar et al. 2020, Thudi et al. 2022): ascend the
training loss on the forget set F for the budget's steps. Needs no retain data.
"""

from __future__ import annotations

import torch
from torch import nn

from unlearn.methods.base import PostHocMethod


class GradientAscent(PostHocMethod):
    """Descend −L_F; see `PostHocMethod` for the budget arguments."""

    name = "gradient_ascent"

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        device = next(net.parameters()).device
        for step in range(self.steps):
            x, y, _ = self.forget_batch(device)
            loss = self.loss(net, objective, self.logits(net, x, step), y)
            self.step(net, optimizer, -loss, len(y))
