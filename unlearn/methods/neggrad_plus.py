"""NegGrad+ (Kurmanji et al., NeurIPS 2023, their stronger NegGrad baseline): descend
α·L_R − (1 − α)·L_F, one retain batch and one forget batch per step.
"""

from __future__ import annotations

import torch
from torch import nn

from unlearn.methods.base import PostHocMethod


class NegGradPlus(PostHocMethod):
    """Args: alpha: α ∈ [0, 1], the retain term's weight; the rest as `PostHocMethod`."""

    name = "neggrad_plus"
    needs_retain = True

    def __init__(self, alpha: float = 0.999, **budget: float) -> None:
        super().__init__(**budget)  # type: ignore[arg-type]
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"unlearn.alpha={alpha}: allowed 0 <= alpha <= 1")
        self.alpha = float(alpha)

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        device = next(net.parameters()).device
        for step in range(self.steps):
            xr, yr, _ = self.retain_batch(device)
            xf, yf, _ = self.forget_batch(device)
            retain = self.loss(net, objective, self.logits(net, xr, 2 * step), yr)
            forget = self.loss(net, objective, self.logits(net, xf, 2 * step + 1), yf)
            loss = self.alpha * retain - (1.0 - self.alpha) * forget
            self.step(net, optimizer, loss, len(yr) + len(yf))
