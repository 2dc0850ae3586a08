"""Single-gradient unlearning (§5.1): add back the first-order term of every step that used F.

w'' = w_t + Σ_s c_s(t) (η / b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(w_ref; x)
(docs/unlearning.md, "Single-gradient unlearning").

c_s(t) = Σ_{k=0}^{t−s} β^k is how much of a gradient removed at step s has reached w_t
through heavy-ball momentum β (PyTorch's m_u = β m_{u−1} + g_u, w_u = w_{u−1} − η m_u);
it is 1 for plain SGD.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call

from unlearn.math.params import buffers_copy
from unlearn.runtime.rng import seeded_scope


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


def momentum_factor(beta: float, steps_since: int) -> float:
    """c = Σ_{k=0}^{n} β^k for n = t − s steps since the removed gradient's step (n ≥ 0)."""
    if beta == 0.0:
        return 1.0
    return (1.0 - beta ** (steps_since + 1)) / (1.0 - beta)


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
    momentum: float = 0.0,
    step: int | None = None,
) -> list[Tensor]:
    """η Σ_s c_s(t) (1/b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(params; x): the vector added to w_t.

    `step` is t (default: the last record's step); `momentum` is β (0: plain SGD).
    """
    t = step if step is not None else max((r.step for r in records), default=0)
    total = [torch.zeros_like(p) for p in params.values()]
    for record in records:
        c = momentum_factor(momentum, t - record.step)
        torch._foreach_add_(total, forget_gradient(net, objective, record, params), alpha=c)
    return torch._foreach_mul(total, lr)
