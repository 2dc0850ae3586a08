"""Hessian-vector products of a batch objective at chosen weights, leaving no trace on training.

The forward runs through `torch.func.functional_call` on detached leaves and cloned
buffers (no `.grad`, no BatchNorm statistics moved), inside the step's seeded RNG scope
(dropout as the step drew it). The gradient graph is built once; each product then costs
one extra backward pass. The products are counted, because they are what the curvature
methods spend.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from unlearn.math.kept_batch import kept_batch_statistics
from unlearn.math.params import buffers_copy
from unlearn.math.single_gradient import ForgetStep
from unlearn.runtime.rng import seeded_scope

Vector = list[Tensor]
LossAt = Callable[[nn.Module, dict[str, Tensor], dict[str, Tensor]], Tensor]


def dot(a: Vector, b: Vector) -> Tensor:
    """⟨a, b⟩ over the flattened tensors, as a 0-d tensor."""
    return torch.stack([(x * y).sum() for x, y in zip(a, b, strict=True)]).sum()


class BatchHessian:
    """The Hessian of one batch objective at `params`, as a product `H @ v`.

    Args:
        net: the module (its train/eval mode applies, as in training).
        loss_at: ``loss_at(net, params, buffers) -> scalar``.
        params: the point (name → tensor); it is not modified.
        seed: the RNG seed of the forward (the training step's, for the same dropout).
    """

    def __init__(
        self, net: nn.Module, loss_at: LossAt, params: dict[str, Tensor], seed: int = 0
    ) -> None:
        self.leaves = [p.detach().requires_grad_(True) for p in params.values()]
        named = dict(zip(params, self.leaves, strict=True))
        with seeded_scope(seed, self.leaves[0].device), torch.enable_grad():
            self.loss = loss_at(net, named, buffers_copy(net))
            self.grad = list(torch.autograd.grad(self.loss, self.leaves, create_graph=True))
        self.products = 0

    def __call__(self, v: Vector) -> Vector:
        self.products += 1
        return list(torch.autograd.grad(self.grad, self.leaves, grad_outputs=v, retain_graph=True))

    @property
    def gradient(self) -> Vector:
        """∇ of the objective at `params` (detached)."""
        return [g.detach() for g in self.grad]


def kept_loss(objective: nn.Module, record: ForgetStep, mean: bool = False) -> LossAt:
    """The step's objective on its kept samples, as the twin takes it: the whole batch runs
    (each kept sample keeps its own dropout mask), the forgotten rows get zero weight and stay
    out of BatchNorm's statistics; the sum over the kept samples over b_s (`mean=True`: over
    their number instead)."""
    keep = ~record.mask
    size = int(keep.sum()) if mean else record.nominal_size
    coupled = None if bool(keep.all()) else keep

    def loss_at(net: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor]) -> Tensor:
        with kept_batch_statistics(net, coupled):
            outputs = functional_call(net, (params, buffers), (record.x,))
        return objective.batch_loss(
            outputs, record.y, params.values(), nominal_size=size, mask=keep
        )

    return loss_at


def full_loss(objective: nn.Module, record: ForgetStep) -> LossAt:
    """The step's objective on its whole batch, as the main model took it."""

    def loss_at(net: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor]) -> Tensor:
        outputs = functional_call(net, (params, buffers), (record.x,))
        return objective.batch_loss(outputs, record.y, params.values())

    return loss_at


def gradient_at(
    net: nn.Module, loss_at: LossAt, params: dict[str, Tensor], seed: int = 0
) -> Vector:
    """∇ of `loss_at` at `params` (one backward pass, no graph kept)."""
    leaves = [p.detach().requires_grad_(True) for p in params.values()]
    named = dict(zip(params, leaves, strict=True))
    with seeded_scope(seed, leaves[0].device), torch.enable_grad():
        loss = loss_at(net, named, buffers_copy(net))
        return list(torch.autograd.grad(loss, leaves))
