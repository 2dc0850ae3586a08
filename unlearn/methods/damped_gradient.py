"""Damped gradient: single-gradient unlearning with its top-k curvature components damped.

The trajectory multiplies a removed gradient by Π_u (I − η H_u) over the later steps;
single-gradient unlearning drops those products. This method keeps them on the k
eigenvectors v_j of largest |λ| that the Hessian-spectrum callback found at its latest
tracking event: before every later step u the update d becomes

    d ← d + Σ_j ((1 − η λ_j)^m − 1) ⟨v_j, d⟩ v_j

(m = 1, or the number of steps waited for the first event), so each component is shrunk
by Π_u (1 − η λ_{j,u}) since its forgotten step and the rest of d is left as it is.
k vectors are read from the callback, no Hessian-vector product of its own
(docs/curvature.md, "Methods"). The gradients are taken at w_0 (w_ref=initial).

Past the edge of stability (η λ_j > 2, where plain SGD settles on real data) a factor
|1 − η λ_j| exceeds 1: the linearised product amplifies instead of damping, and over a long
window it overflows. The report says so (`largest_rate`, `amplified`).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.hvp import dot
from unlearn.math.params import snapshot, trainable
from unlearn.math.single_gradient import ForgetStep, forget_gradient
from unlearn.methods.base import UnlearningMethod


class DampedGradient(UnlearningMethod):
    """Args: top_k: how many of the spectrum callback's eigenpairs to damp along."""

    name = "damped_gradient"
    every_step = True

    def __init__(self, top_k: int = 1) -> None:
        super().__init__()
        if top_k < 1:
            raise ValueError(f"unlearn.top_k={top_k}; allowed: >= 1")
        self.top_k = top_k
        self.spectrum: Any = None
        self.w0: dict[str, Tensor] = {}
        self.update: list[Tensor] = []
        self.active = False
        self.pending = 0  # steps to damp once the first eigenpairs arrive
        self.lr = 0.0
        self.largest_rate = 0.0  # the largest |1 − η λ_j| applied

    def attach_callbacks(self, callbacks: list[Any]) -> None:
        found = [cb for cb in callbacks if hasattr(cb, "latest_top_k")]
        if not found:
            raise ValueError("unlearn.method=damped_gradient needs the hessian_spectrum callback")
        if getattr(found[0], "top_k", 1) < self.top_k:
            raise ValueError(
                f"unlearn.top_k={self.top_k}: allowed <= spectrum.top_k={found[0].top_k}"
            )
        self.spectrum = found[0]

    def start(self, net: nn.Module) -> None:
        self.w0 = snapshot(net)
        self.update = [torch.zeros_like(p) for p in self.w0.values()]

    def before_step(self, net: nn.Module) -> None:
        if not self.active:
            return
        begin = time.perf_counter()
        pairs = self.spectrum.latest_top_k() if self.spectrum is not None else None
        if pairs is None:
            self.pending += 1
        else:
            values, vectors = pairs
            steps, self.pending = 1 + self.pending, 0
            coefs = [dot(v, self.update) for v in vectors[: self.top_k]]
            for lam, v, c in zip(values, vectors, coefs, strict=False):
                self.largest_rate = max(self.largest_rate, abs(1.0 - self.lr * float(lam)))
                factor = (1.0 - self.lr * lam) ** steps - 1.0
                torch._foreach_add_(self.update, torch._foreach_mul(v, c * factor))
        self.cost.seconds += time.perf_counter() - begin

    def after_step(
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        begin = time.perf_counter()
        torch._foreach_add_(self.update, forget_gradient(net, objective, record, self.w0), alpha=lr)
        self.cost.gradient_evaluations += 1
        self.cost.samples += int(record.mask.sum())
        self.cost.seconds += time.perf_counter() - begin
        self.active = True

    def on_step(self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float) -> None:
        self.lr = lr  # the η of the products applied before the next step

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        return torch._foreach_add([p.detach() for p in trainable(net).values()], self.update)

    def report(self) -> dict[str, Any]:
        """The largest |1 − η λ| applied; `amplified` when above 1 (past the edge of stability)."""
        return {"largest_rate": self.largest_rate, "amplified": self.largest_rate > 1.0}

    @property
    def storage_bytes(self) -> int:
        """The k eigenvectors it reads (held by the spectrum callback)."""
        return self.top_k * sum(p.numel() * p.element_size() for p in self.w0.values())

    def state_dict(self) -> dict[str, Any]:
        state = {"w0": self.w0, "update": self.update, "active": self.active}
        extra = {"pending": self.pending, "lr": self.lr, "largest_rate": self.largest_rate}
        return {**super().state_dict(), **state, **extra}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.w0, self.update, self.active = state["w0"], state["update"], state["active"]
        self.pending, self.lr = state["pending"], state["lr"]
        self.largest_rate = state.get("largest_rate", 0.0)  # checkpoints from before it
