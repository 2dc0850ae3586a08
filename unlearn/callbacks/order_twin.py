"""The order-noise floor: a second exact twin over another batch order (docs/quantities.md).

v/v_none says whether a method beats doing nothing; it does not say how small v must be
to count as retrained. Two exact retrains of the window without F that differ only in
the batch order (and the dropout draws) already disagree: their distance

    v_order = ‖w'_a − w'_b‖

is the natural scale. A w'' closer to the twin than another exact retrain is, in weight
space, indistinguishable from retraining. `OrderTwin` trains w'_b alongside the window:
from the window's start (weights and optimiser state, as the twin), on the window stream
of another seed (`twin.order_seed`, default seed + 1), each batch without F by the twin's
step rule, with that seed's step seeds; at every verification event it records v_order
against the `Unlearner`'s twin w'_a. With the run's own seed it replays the twin exactly
(v_order = 0, tested).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from typing_extensions import override

from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.callbacks.unlearner import Unlearner
from unlearn.math.params import distance, trainable
from unlearn.methods.base import Cost
from unlearn.runtime.rng import WINDOW_STREAM, derive_seed
from unlearn.twin import LockstepTwin


class OrderTwin(L.Callback):
    """Args: data: the data module; batch_size: the window's b; seed: the other window seed;
    verify_every: v's schedule; partial_batch: the twin's rule for a batch that lost samples."""

    def __init__(
        self, data: Any, batch_size: int, seed: int, verify_every: int, partial_batch: str
    ) -> None:
        self.data, self.seed, self.verify_every = data, int(seed), int(verify_every)
        self.stream = data.stream(batch_size, self.seed, WINDOW_STREAM)
        self.partial_batch = partial_batch
        self.twin: LockstepTwin | None = None
        self.unlearner: Unlearner | None = None
        self.steps: list[int] = []
        self.values: list[float] = []
        self.cost = Cost()
        self._pending: dict[str, Any] | None = None

    @property
    def state_key(self) -> str:
        return f"OrderTwin[seed={self.seed}]"

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.unlearner = next(cb for cb in trainer.callbacks if isinstance(cb, Unlearner))
        self.twin = LockstepTwin(
            pl_module.net, trainer.optimizers[0], pl_module.loss_on, self.partial_batch
        )  # type: ignore[arg-type]
        if self._pending is not None:
            self._restore(self._pending)
            self._pending = None

    @override
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:  # fmt: skip
        assert self.twin is not None and self.unlearner is not None
        step = window_step(trainer)  # 1-based: this is stream step `step - 1`
        idx = self.stream.indices(step - 1)
        x, y, _ = self.data.batch(idx)
        device = batch[0].device
        forget = self.unlearner.forget_indices
        mask = (
            torch.isin(idx, forget.cpu())
            if forget is not None
            else torch.zeros_like(idx, dtype=torch.bool)
        )
        n_forget = int(mask.sum())
        seed = derive_seed(self.seed, WINDOW_STREAM, step - 1)
        self.twin.step(x.to(device), y.to(device), mask.to(device), n_forget, seed)
        if n_forget < len(idx):
            self.cost.gradient_evaluations += 1
            self.cost.samples += len(idx) - n_forget
        if is_event(step, self.verify_every, trainer.max_steps):
            assert self.unlearner.twin is not None
            a = list(trainable(self.unlearner.twin.net).values())
            b = list(trainable(self.twin.net).values())
            self.steps.append(step)
            self.values.append(float(distance(a, b)))
            log_to_loggers(trainer, {"v_order": self.values[-1]}, step)

    def results(self) -> dict[str, Any]:
        """results.json's v_order (final), its curve and the second twin's cost."""
        return {
            "v_order": self.values[-1] if self.values else float("nan"),
            "order_seed": self.seed,
            "order_twin_cost": self.cost.as_dict(),
        }

    @override
    def state_dict(self) -> dict[str, Any]:
        twin = self.twin
        return {
            "curve": (self.steps, self.values),
            "cost": self.cost.as_dict(),
            "twin": None
            if twin is None
            else {"net": twin.net.state_dict(), "optimizer": twin.optimizer.state_dict()},
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self.twin is None:
            self._pending = state_dict
        else:
            self._restore(state_dict)

    def _restore(self, state: dict[str, Any]) -> None:
        assert self.twin is not None
        self.steps, self.values = (list(c) for c in state["curve"])
        self.cost = Cost(**state["cost"])
        if state["twin"] is not None:
            self.twin.net.load_state_dict(state["twin"]["net"])
            self.twin.optimizer.load_state_dict(state["twin"]["optimizer"])
