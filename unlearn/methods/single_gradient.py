"""Single-gradient unlearning (§5.1): add back the first-order term of every step that used F.

w'' = w_t + Σ_s (η / b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(w_ref; x)

With ``w_ref=initial`` (w_0, the theory's choice) each term is final once its step is
taken, so it is added then and nothing is kept; ``w_ref=final`` evaluates the terms at
the current weights, §8.3's formula, recomputed each time w'' is asked for.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import torch
from torch import Tensor, nn

from unlearn.math.params import snapshot, trainable
from unlearn.math.single_gradient import ForgetStep, forget_gradient
from unlearn.methods.base import Cost, UnlearningMethod

WRef = Literal["initial", "final"]


class SingleGradient(UnlearningMethod):
    """Args: w_ref: ``initial`` (w_0, default) or ``final`` (w_t)."""

    name = "single_gradient"

    def __init__(self, w_ref: WRef = "initial") -> None:
        super().__init__()
        if w_ref not in ("initial", "final"):
            raise ValueError(f"unlearn.w_ref={w_ref!r}; allowed: initial, final")
        self.w_ref = w_ref
        self.w0: dict[str, Tensor] = {}
        self.update: list[Tensor] = []
        self.records: list[tuple[ForgetStep, float]] = []
        self.final_cost = Cost()  # w_ref=final: the latest evaluation only

    def start(self, net: nn.Module) -> None:
        self.w0 = snapshot(net)
        self.update = [torch.zeros_like(p) for p in self.w0.values()]

    def after_step(
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        if self.w_ref == "final":
            self.records.append((record, lr))
            return
        begin = time.perf_counter()
        torch._foreach_add_(self.update, forget_gradient(net, objective, record, self.w0), alpha=lr)
        self.cost.gradient_evaluations += 1
        self.cost.samples += int(record.mask.sum())
        self.cost.seconds += time.perf_counter() - begin

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        current = [p.detach() for p in trainable(net).values()]
        if self.w_ref == "initial":
            return torch._foreach_add(current, self.update)
        begin, here = time.perf_counter(), snapshot(net)
        total = [torch.zeros_like(p) for p in current]
        for record, step_lr in self.records:
            grads = forget_gradient(net, objective, record, here)
            torch._foreach_add_(total, grads, alpha=step_lr)
        samples = sum(int(r.mask.sum()) for r, _ in self.records)
        self.final_cost = Cost(len(self.records), samples, time.perf_counter() - begin)
        return torch._foreach_add(current, total)

    def total_cost(self) -> Cost:
        """Accumulated (w_ref=initial) or latest (w_ref=final) cost of one unlearning."""
        return self.cost.add(self.final_cost)

    def state_dict(self) -> dict[str, Any]:
        records = [(vars(r).copy(), step_lr) for r, step_lr in self.records]
        return {**super().state_dict(), "w0": self.w0, "update": self.update, "records": records}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.w0, self.update = state["w0"], state["update"]
        self.records = [(ForgetStep(**r), step_lr) for r, step_lr in state["records"]]
