"""Single-gradient unlearning (§5.1): add back the first-order term of every step that used F.

w'' = w_t + Σ_s c_s(t) (η / b_s) Σ_{x ∈ F ∩ B_s} ∇ℓ(w_ref; x),   c_s(t) = Σ_{k=0}^{t−s} β^k

With ``w_ref=initial`` (w_0, the theory's choice) or ``w_ref=first`` (the weights right
after the step that used the samples: w_1 for the default forget set, as the reference
code's Correlation_unlearning.py) each gradient is final once its step is taken, so it is
computed then and only two running sums are kept, which give the momentum factor c_s(t)
at any later t. ``w_ref=final`` evaluates the terms at the current weights, §8.3's
formula, recomputed each time w'' is asked for.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import torch
from torch import Tensor, nn

from unlearn.math.params import snapshot, trainable
from unlearn.math.single_gradient import ForgetStep, forget_gradient, momentum_factor
from unlearn.methods.base import Cost, UnlearningMethod

WRef = Literal["initial", "first", "final"]
W_REFS = ("initial", "first", "final")


class SingleGradient(UnlearningMethod):
    """Args: w_ref: ``initial`` (w_0, default), ``first`` (after the step) or ``final`` (w_t)."""

    name = "single_gradient"

    def __init__(self, w_ref: WRef = "initial") -> None:
        super().__init__()
        if w_ref not in W_REFS:
            raise ValueError(f"unlearn.w_ref={w_ref!r}; allowed: {', '.join(W_REFS)}")
        self.w_ref = w_ref
        self.momentum = 0.0  # β of the window's optimiser (`configure`)
        self.step = 0  # the window step w'' is asked at (`at_step`)
        self.w0: dict[str, Tensor] = {}
        # Σ_s η g_s, and Σ_s η g_s β^(last − s + 1) as of step `last` (momentum only)
        self.update: list[Tensor] = []
        self.decaying: list[Tensor] = []
        self.last = 0
        self.records: list[tuple[ForgetStep, float]] = []
        self.final_cost = Cost()  # w_ref=final: the latest evaluation only

    def configure(self, optimizer: torch.optim.Optimizer) -> None:
        self.momentum = float(optimizer.param_groups[0].get("momentum", 0.0) or 0.0)

    def at_step(self, step: int) -> None:
        self.step = step

    def start(self, net: nn.Module) -> None:
        self.w0 = snapshot(net)
        self.update = [torch.zeros_like(p) for p in self.w0.values()]
        self.decaying = [torch.zeros_like(p) for p in self.w0.values()] if self.momentum else []

    def after_step(
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        self.step = record.step
        if self.w_ref == "final":
            self.records.append((record, lr))
            return
        begin = time.perf_counter()
        at = self.w0 if self.w_ref == "initial" else trainable(net)
        grads = forget_gradient(net, objective, record, at)
        torch._foreach_add_(self.update, grads, alpha=lr)
        if self.momentum:
            beta = self.momentum
            torch._foreach_mul_(self.decaying, beta ** (record.step - self.last))
            torch._foreach_add_(self.decaying, grads, alpha=lr * beta)
            self.last = record.step
        self.cost.gradient_evaluations += 1
        self.cost.samples += int(record.mask.sum())
        self.cost.seconds += time.perf_counter() - begin

    def _accumulated(self) -> list[Tensor]:
        """Σ_s c_s(t) η g_s at t = `step`, from the two running sums."""
        if not self.momentum:
            return self.update
        beta = self.momentum
        reached = torch._foreach_mul(self.decaying, beta ** (self.step - self.last))
        return torch._foreach_div(torch._foreach_sub(self.update, reached), 1.0 - beta)

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        current = [p.detach() for p in trainable(net).values()]
        if self.w_ref != "final":
            return torch._foreach_add(current, self._accumulated())
        begin, here = time.perf_counter(), snapshot(net)
        total = [torch.zeros_like(p) for p in current]
        for record, step_lr in self.records:
            c = momentum_factor(self.momentum, self.step - record.step)
            grads = forget_gradient(net, objective, record, here)
            torch._foreach_add_(total, grads, alpha=step_lr * c)
        samples = sum(int(r.mask.sum()) for r, _ in self.records)
        self.final_cost = Cost(len(self.records), samples, time.perf_counter() - begin)
        return torch._foreach_add(current, total)

    def total_cost(self) -> Cost:
        """Accumulated (w_ref=initial|first) or latest (w_ref=final) cost of one unlearning."""
        return self.cost.add(self.final_cost)

    def state_dict(self) -> dict[str, Any]:
        records = [(vars(r).copy(), step_lr) for r, step_lr in self.records]
        return {
            **super().state_dict(),
            "w0": self.w0,
            "update": self.update,
            "decaying": self.decaying,
            "last": self.last,
            "step": self.step,
            "records": records,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.w0, self.update = state["w0"], state["update"]
        self.decaying, self.last = state.get("decaying", []), state.get("last", 0)
        self.step = state.get("step", 0)
        self.records = [(ForgetStep(**r), step_lr) for r, step_lr in state["records"]]
