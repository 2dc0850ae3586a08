"""Rewind-to-delete: go back to a kept state of the window and replay the rest without F.

The main model's weights (and optimiser state) are kept every `rewind_every` window
steps. To unlearn, take the last kept state at or before step t − k and replay the
remaining steps in lock-step with the window without F: the twin's own step rule
(`unlearn.twin.LockstepTwin`), the same batches, the same step seeds. When that state
precedes F's first use the replay *is* the twin, so v = 0 exactly (the default forget
set is the window's first batch: `unlearn.k=<t>`); otherwise F's influence on the steps
before the rewind point stays, and v > 0. It is the practitioner's baseline: exact
retraining of the last k steps, at the cost of k steps plus the kept states.

The run holds one state only (the rewind point is known once t is); `storage_bytes`
reports what a deployment that does not know its requests in advance keeps: one
state every `rewind_every` steps. The batches replayed are the training set's own.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods.base import Cost, UnlearningMethod
from unlearn.twin import LockstepTwin


def rewind_point(t: int, k: int, every: int) -> int:
    """The last kept step (a multiple of `every`) at or before t − k."""
    if not 1 <= k <= t:
        raise ValueError(f"unlearn.k={k}: allowed 1 <= k <= t = {t}")
    return (t - k) // every * every


class Rewind(UnlearningMethod):
    """Args: k: steps to go back (at least); rewind_every: how often a state is kept."""

    name = "rewind"
    every_step = True  # it keeps the batches after the rewind point
    post_hoc = True  # w'' from the final model only (t − k is where it rewinds to)

    def __init__(self, k: int = 10, rewind_every: int = 5) -> None:
        super().__init__()
        if k < 1 or rewind_every < 1:
            raise ValueError(f"unlearn.k={k}, unlearn.rewind_every={rewind_every}; allowed >= 1")
        self.k, self.every = int(k), int(rewind_every)
        self.total = 0  # t, from `bind`
        self.point = 0
        self.loss_on: Callable[..., Tensor] | None = None
        self.partial_batch = "nominal"
        self.optimizer: torch.optim.Optimizer | None = None
        self.kept: dict[str, Any] | None = None  # {"net": module copy, "optimizer": state}
        self.records: list[ForgetStep] = []
        self.param_bytes = 0

    def bind(self, loss_on: Callable[..., Tensor], partial_batch: str, total_steps: int) -> None:
        """The twin's step rule and the window's length t (the Unlearner, at the start)."""
        self.loss_on, self.partial_batch, self.total = loss_on, partial_batch, int(total_steps)
        self.point = rewind_point(self.total, self.k, self.every)

    def configure(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer

    def _keep(self, net: nn.Module) -> None:
        assert self.optimizer is not None
        state = copy.deepcopy(self.optimizer.state_dict())
        self.kept = {"net": copy.deepcopy(net), "optimizer": state}

    def start(self, net: nn.Module) -> None:
        self.param_bytes = sum(p.numel() * p.element_size() for p in trainable(net).values())
        self._keep(net)  # w_0; replaced at the rewind point when that is later

    def on_step(self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float) -> None:
        begin = time.perf_counter()
        if record.step == self.point:
            self._keep(net)
        elif record.step > self.point:
            self.records.append(record)
        self.cost.seconds += time.perf_counter() - begin

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        if self.kept is None or self.loss_on is None or self.optimizer is None:
            raise RuntimeError("rewind: no kept state (bind and start before unlearned)")
        begin, cost = time.perf_counter(), Cost()
        start = self.kept["net"]
        optimizer = type(self.optimizer)(start.parameters(), **self.optimizer.defaults)
        optimizer.load_state_dict(self.kept["optimizer"])
        replay = LockstepTwin(start, optimizer, self.loss_on, self.partial_batch)  # type: ignore[arg-type]
        with torch.enable_grad():
            for r in self.records:
                n_forget = int(r.mask.sum())
                replay.step(r.x, r.y, r.mask, n_forget, r.seed)
                if n_forget < r.x.shape[0]:
                    cost.gradient_evaluations += 1
                    cost.samples += r.x.shape[0] - n_forget
        cost.seconds = self.cost.seconds + time.perf_counter() - begin
        self.final_cost = cost
        return [p.detach().clone() for p in trainable(replay.net).values()]

    def total_cost(self) -> Cost:
        return getattr(self, "final_cost", self.cost)

    @property
    def storage_bytes(self) -> int:
        """One state every `rewind_every` steps of the window (w_0 included)."""
        return (self.total // self.every + 1) * self.param_bytes

    def report(self) -> dict[str, Any]:
        return {"rewind_step": self.point, "replayed_steps": self.total - self.point}

    def state_dict(self) -> dict[str, Any]:
        kept = None
        if self.kept is not None:
            kept = {"net": self.kept["net"].state_dict(), "optimizer": self.kept["optimizer"]}
        records = [vars(r).copy() for r in self.records]
        return {**super().state_dict(), "kept": kept, "records": records}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.records = [ForgetStep(**r) for r in state["records"]]
        if state["kept"] is not None:
            assert self.kept is not None  # `start` keeps w_0 before a resume restores
            self.kept["net"].load_state_dict(state["kept"]["net"])
            self.kept["optimizer"] = state["kept"]["optimizer"]
