"""Unrolled: the removed gradients carried exactly to first order through every later step.

The twin's distance from the main model obeys, to first order in δ = w' − w,

    δ_u = (I − η H_u) δ_{u−1} + η r_u,

with H_u the Hessian of step u's kept batch (as the twin takes it) and r_u the gradient
the twin does not take at step u (whole batch minus kept batch), both at the main model's
weights w_{u−1} before the step. One Hessian-vector product per step once δ ≠ 0, and
w'' = w_t + δ_t. Single-gradient unlearning is this with every (I − η H_u) dropped, so
single-gradient's excess over `unrolled` is what ignoring curvature costs, and
`unrolled`'s own v is the part of the gap that is not first order (docs/curvature.md,
"Methods"). It costs more than retraining the window: an instrument, not a method.

Plain SGD only (no momentum or weight decay terms are propagated).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.hvp import BatchHessian, full_loss, gradient_at, kept_loss
from unlearn.math.params import snapshot, trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods.base import UnlearningMethod


class Unrolled(UnlearningMethod):
    """δ carried through every window step; `delta` is w'' − w_t so far."""

    name = "unrolled"
    every_step = True

    def __init__(self) -> None:
        super().__init__()
        self.delta: list[Tensor] = []
        self.active = False  # δ ≠ 0: a forgotten sample has been removed
        self._before: dict[str, Tensor] = {}

    def start(self, net: nn.Module) -> None:
        self.delta = [torch.zeros_like(p) for p in trainable(net).values()]

    def before_step(self, net: nn.Module) -> None:
        self._before = snapshot(net)  # w_{u−1}: where step u's Hessian and gradients are taken

    def on_step(self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float) -> None:
        begin = time.perf_counter()
        n_forget, b = int(record.mask.sum()), record.nominal_size
        kept: BatchHessian | None = None
        if self.active and n_forget < b:  # δ ← (I − η H_u) δ
            kept = BatchHessian(net, kept_loss(objective, record), self._before, record.seed)
            torch._foreach_sub_(self.delta, kept(self.delta), alpha=lr)
            self.cost.hessian_vector_products += 1
            self.cost.gradient_evaluations += 1  # the graph of ∇ that the product needs
            self.cost.samples += b - n_forget
        if n_forget:  # δ ← δ + η r_u, r_u = ∇L_u(w_{u−1}) − ∇L_u^kept(w_{u−1})
            full = gradient_at(net, full_loss(objective, record), self._before, record.seed)
            if n_forget < b:
                if kept is None:
                    kept_grad = gradient_at(
                        net, kept_loss(objective, record), self._before, record.seed
                    )
                    self.cost.gradient_evaluations += 1
                else:
                    kept_grad = kept.gradient
                torch._foreach_sub_(full, kept_grad)
            torch._foreach_add_(self.delta, full, alpha=lr)
            self.cost.gradient_evaluations += 1
            self.cost.samples += b
            self.active = True
        self._before = {}
        self.cost.seconds += time.perf_counter() - begin

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        return torch._foreach_add([p.detach() for p in trainable(net).values()], self.delta)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "delta": self.delta, "active": self.active}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.delta, self.active = state["delta"], state["active"]
