"""Single-gradient unlearning (§5.1): add back the first-order term of every step that used F.

w'' = w_t + Σ_s (η / b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(w_ref; x)   (SPEC.md, "Single-gradient unlearning")
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call

from unlearn.math.params import buffers_copy
from unlearn.rng import seeded_scope


@dataclass
class ForgetStep:
    """A training step whose batch held forgotten samples.

    Attributes:
        step: the window step (1-based).
        x, y: the whole batch, as the step saw it (BatchNorm statistics need all of it).
        mask: which samples of the batch are forgotten.
        seed: the step's RNG seed (dropout masks as the step drew them).
    """

    step: int
    x: Tensor
    y: Tensor
    mask: Tensor
    seed: int

    @property
    def nominal_size(self) -> int:
        """b_s, the batch size the step normalised by."""
        return int(self.x.shape[0])


def forget_gradient(
    net: nn.Module, objective: nn.Module, record: ForgetStep, params: dict[str, Tensor]
) -> list[Tensor]:
    """(1 / b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(params; x), one tensor per parameter."""
    leaves = {n: p.detach().requires_grad_(True) for n, p in params.items()}
    with torch.enable_grad():
        with seeded_scope(record.seed, record.x.device):
            outputs = functional_call(net, (leaves, buffers_copy(net)), (record.x,))
        loss = objective.batch_loss(
            outputs, record.y, leaves.values(), nominal_size=record.nominal_size, mask=record.mask
        )
        return list(torch.autograd.grad(loss, list(leaves.values())))


def single_gradient_update(
    net: nn.Module,
    objective: nn.Module,
    records: list[ForgetStep],
    params: dict[str, Tensor],
    lr: float,
) -> list[Tensor]:
    """η Σ_s (1/b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(params; x): the vector added to w_t."""
    total = [torch.zeros_like(p) for p in params.values()]
    for record in records:
        torch._foreach_add_(total, forget_gradient(net, objective, record, params))
    return torch._foreach_mul(total, lr)
