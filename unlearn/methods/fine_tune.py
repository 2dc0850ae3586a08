"""Fine-tuning (FT): plain SGD on the retain set R for the budget's steps, at its own η.

The oldest baseline of the field (e.g. Golatkar et al. 2020; Jia et al. 2023's "FT"):
forgetting by catastrophic forgetting, F's influence washed out by more training on R.
"""

from __future__ import annotations

import torch
from torch import nn

from unlearn.methods.base import PostHocMethod


class FineTune(PostHocMethod):
    """Descend L_R; see `PostHocMethod` for the budget arguments."""

    name = "fine_tune"
    needs_retain = True

    def penalty(self, net: nn.Module, step: int) -> torch.Tensor | None:
        """An extra term of step `step`'s loss (ℓ1-sparse adds its ℓ1 norm here)."""
        return None

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        device = next(net.parameters()).device
        for step in range(self.steps):
            x, y, _ = self.retain_batch(device)
            loss = self.loss(net, objective, self.logits(net, x, step), y)
            extra = self.penalty(net, step)
            self.step(net, optimizer, loss if extra is None else loss + extra, len(y))
