"""SalUn (Fan et al., ICLR 2024, "Saliency-based unlearning"): random labelling that
updates only the salient weights. The mask keeps the top `mask_fraction` of all weights
by |∇_w L_F(w_t)| (one global threshold over every tensor, as their `hard` mask), with
the gradient of the training loss on the whole of F taken once at the final weights.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.methods.random_label import RandomLabel


def saliency_mask(gradients: list[Tensor], fraction: float) -> list[Tensor]:
    """1 on the ⌈fraction · n⌉ entries of largest |g| over all tensors together, else 0
    (ties broken by position, so exactly that many are kept)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"unlearn.mask_fraction={fraction}: allowed 0 < fraction <= 1")
    flat = torch.cat([g.detach().abs().flatten() for g in gradients])
    keep = torch.zeros_like(flat, dtype=torch.bool)
    keep[torch.topk(flat, math.ceil(fraction * flat.numel()), sorted=False).indices] = True
    return [
        m.view_as(g).to(g.dtype)
        for m, g in zip(keep.split([g.numel() for g in gradients]), gradients, strict=True)
    ]


class SalUn(RandomLabel):
    """Args: mask_fraction: share of weights RL may change, in (0, 1]; the rest as RL."""

    name = "salun"

    def __init__(self, mask_fraction: float = 0.5, **budget: float) -> None:
        super().__init__(**budget)  # type: ignore[arg-type]
        if not 0.0 < mask_fraction <= 1.0:
            raise ValueError(f"unlearn.mask_fraction={mask_fraction}: allowed 0 < fraction <= 1")
        self.mask_fraction = float(mask_fraction)
        self.mask: list[Tensor] = []

    def forget_gradient(self, net: nn.Module, objective: nn.Module) -> list[Tensor]:
        """∇_w L_F(w): the batch-mean training loss over all of F, in chunks of the batch size."""
        params = list(trainable(net).values())
        total = [torch.zeros_like(p) for p in params]
        device = params[0].device
        for chunk in self.forget.split(self.forget_batch_size):
            x, y = self.dataset.x[chunk].to(device), self.dataset.y[chunk].to(device)
            loss = self.loss(net, objective, self.logits(net, x, -1), y) * (
                len(chunk) / len(self.forget)
            )
            torch._foreach_add_(total, torch.autograd.grad(loss, params))
            self.cost.gradient_evaluations += 1
            self.cost.samples += len(chunk)
        return total

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.mask = saliency_mask(self.forget_gradient(net, objective), self.mask_fraction)
        super().run(net, objective, optimizer)

    def before_update(self, net: nn.Module) -> None:
        for p, m in zip(trainable(net).values(), self.mask, strict=True):
            if p.grad is not None:
                p.grad.mul_(m)
