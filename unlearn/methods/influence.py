"""Influence unlearning (Koh & Liang 2017; Guo et al. 2020): one damped Newton step.

    w'' = w_t + (1/|R|) (H_R + λI)⁻¹ Σ_{x∈F} ∇ℓ(w_t; x)

H_R, the Hessian of the mean retain objective at w_t, is estimated on the kept samples
of the last `retain_batches` window batches; the system is solved by conjugate gradients
on Hessian-vector products (`iterations` at most, each one product per retain batch),
and the solver's relative residual is reported. A sample of F used at several steps
counts once per use (with the default one-epoch window, once). |R| = |D| − those uses.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.cg import conjugate_gradient
from unlearn.math.hvp import BatchHessian, Vector, kept_loss
from unlearn.math.params import snapshot, trainable
from unlearn.math.single_gradient import ForgetStep, forget_gradient
from unlearn.methods.base import Cost, UnlearningMethod


class Influence(UnlearningMethod):
    """Args: damping λ ≥ 0, CG `iterations` and `tol`, `retain_batches` (the latest ones)."""

    name = "influence"
    every_step = True

    def __init__(
        self,
        damping: float = 0.01,
        iterations: int = 20,
        retain_batches: int = 4,
        tol: float = 1e-6,
    ) -> None:
        super().__init__()
        if damping < 0 or iterations < 1 or retain_batches < 1 or tol <= 0:
            raise ValueError(
                f"damping={damping}, iterations={iterations}, retain_batches={retain_batches}, "
                f"tol={tol}; allowed: damping >= 0, iterations >= 1, retain_batches >= 1, tol > 0"
            )
        self.damping, self.iterations, self.tol = damping, iterations, tol
        self.forget_records: list[ForgetStep] = []
        self.retain: collections.deque[ForgetStep] = collections.deque(maxlen=retain_batches)
        self.final_cost = Cost()
        self.residual = float("nan")
        self.cg_iterations = 0

    def after_step(
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        self.forget_records.append(record)

    def on_step(self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float) -> None:
        if not bool(record.mask.all()):
            self.retain.append(record)

    def _forget_gradient(self, net: nn.Module, objective: nn.Module, here: dict) -> Vector:
        """(1/|R|) Σ_{x∈F} ∇ℓ(w_t; x)."""
        uses = sum(int(r.mask.sum()) for r in self.forget_records)
        retain_size = (self.train_size or 0) - uses
        if retain_size <= 0:
            raise ValueError(f"influence: |R| = {retain_size}; the training set size is unknown")
        total = [torch.zeros_like(p) for p in here.values()]
        for record in self.forget_records:  # forget_gradient is (1/b_s) Σ_{F∩B_s} ∇ℓ
            grads = forget_gradient(net, objective, record, here)
            torch._foreach_add_(total, grads, alpha=record.nominal_size / retain_size)
        return total

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        current = [p.detach() for p in trainable(net).values()]
        if not self.forget_records:
            return [p.clone() for p in current]
        begin, here = time.perf_counter(), snapshot(net)
        g = self._forget_gradient(net, objective, here)
        hessians = [
            BatchHessian(net, kept_loss(objective, r, mean=True), here, r.seed) for r in self.retain
        ]

        def mean_hvp(v: Vector) -> Vector:
            out = hessians[0](v)
            for h in hessians[1:]:
                torch._foreach_add_(out, h(v))
            return torch._foreach_div(out, float(len(hessians)))

        solve = conjugate_gradient(mean_hvp, g, self.damping, self.iterations, self.tol)
        self.residual, self.cg_iterations = solve.relative_residual, solve.iterations
        self.final_cost = Cost(
            gradient_evaluations=len(self.forget_records) + len(hessians),
            samples=sum(r.nominal_size for r in self.forget_records)
            + sum(int((~r.mask).sum()) for r in self.retain),
            seconds=time.perf_counter() - begin,
            hessian_vector_products=sum(h.products for h in hessians),
        )
        return torch._foreach_add(current, solve.x)

    def total_cost(self) -> Cost:
        """The latest unlearning's cost (each verification event solves afresh)."""
        return self.cost.add(self.final_cost)

    def report(self) -> dict[str, Any]:
        """The CG solve behind the latest w''."""
        return {"cg_relative_residual": self.residual, "cg_iterations": self.cg_iterations}

    @property
    def storage_bytes(self) -> int:
        kept = [*self.forget_records, *self.retain]
        return sum(
            r.x.numel() * r.x.element_size() + r.y.numel() * r.y.element_size() for r in kept
        )

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "forget_records": [vars(r).copy() for r in self.forget_records],
            "retain": [vars(r).copy() for r in self.retain],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.forget_records = [ForgetStep(**r) for r in state["forget_records"]]
        self.retain.clear()
        self.retain.extend(ForgetStep(**r) for r in state["retain"])
