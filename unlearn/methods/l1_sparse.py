"""ℓ1-sparse unlearning (Jia et al., NeurIPS 2023, "Model Sparsity Can Simplify Machine
Unlearning"): fine-tuning on R with an ℓ1 penalty α_s‖w‖₁ whose strength decays linearly,
α_s = α (1 − s / steps), as their code's `current_alpha = alpha * (1 - epoch / epochs)`,
here per step rather than per epoch.
"""

from __future__ import annotations

import torch
from torch import nn

from unlearn.math.params import trainable
from unlearn.methods.fine_tune import FineTune


class L1Sparse(FineTune):
    """Args: l1: α, the penalty's strength at the first step; the rest as `FineTune`."""

    name = "l1_sparse"

    def __init__(self, l1: float = 5e-5, **budget: float) -> None:
        super().__init__(**budget)  # type: ignore[arg-type]
        if l1 < 0:
            raise ValueError(f"unlearn.l1={l1}: allowed >= 0")
        self.l1 = float(l1)

    def strength(self, step: int) -> float:
        """α_s for step s = 0, …, steps − 1: α at the first step, α / steps at the last."""
        return self.l1 * (1.0 - step / self.steps)

    def penalty(self, net: nn.Module, step: int) -> torch.Tensor:
        weights = trainable(net).values()
        return self.strength(step) * torch.stack([p.abs().sum() for p in weights]).sum()
