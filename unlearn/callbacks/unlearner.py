"""Unlearner: forgets a set with the single-gradient update and measures how well it did
against the verification twin trained in lock-step (SPEC.md §"Verification twin").

At every step the twin takes the same batch minus the forgotten samples, with the same
step seed. Steps whose batch held forgotten samples are recorded; the update
η Σ (1/b_s) Σ_{x∈F∩B_s} ∇ℓ(w_ref; x) is added to w_t to give w''. Every
`verify_every` steps (and at the last) it logs v = ‖w' − w''‖ and, as the baseline of
doing nothing, v_none = ‖w' − w‖.

Requires the module to expose ``net``, ``objective``, ``loss_on`` and ``last_step_seed``
(see `unlearn.module.UnlearnModule`).
"""

from __future__ import annotations

import time
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from typing_extensions import override

from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.forget import FirstBatch, ForgetSet
from unlearn.math.params import distance, snapshot, trainable
from unlearn.math.single_gradient import ForgetStep, forget_gradient
from unlearn.twin import LockstepTwin, PartialBatch


class Unlearner(L.Callback):
    """Single-gradient unlearning with its lock-step verification twin.

    Args:
        forget: the forget set (default: the window's first batch).
        verify_every: k_v ≥ 1.
        w_ref: ``initial`` (w_0, default) or ``final`` (w_t, §8.3's formula).
        partial_batch: the twin's normalisation of a batch that lost some samples.
    """

    def __init__(
        self,
        forget: ForgetSet | None = None,
        verify_every: int = 1,
        w_ref: Literal["initial", "final"] = "initial",
        partial_batch: PartialBatch = "nominal",
    ) -> None:
        if verify_every < 1:
            raise ValueError(f"verify_every={verify_every}; allowed: >= 1")
        if w_ref not in ("initial", "final"):
            raise ValueError(f"unlearn.w_ref={w_ref!r}; allowed: initial, final")
        self.forget = forget if forget is not None else FirstBatch()
        self.verify_every = verify_every
        self.w_ref = w_ref
        self.partial_batch = partial_batch
        self.twin: LockstepTwin | None = None
        self.w0: dict[str, Tensor] = {}
        self.forget_indices: Tensor | None = None
        self.records: list[ForgetStep] = []
        self.update: list[Tensor] = []
        self.steps: list[int] = []
        self.values: list[float] = []
        self.values_none: list[float] = []
        self.unlearn_seconds = 0.0
        self.twin_seconds = 0.0

    @property
    def state_key(self) -> str:
        return f"Unlearner[verify_every={self.verify_every},w_ref={self.w_ref}]"

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.twin = LockstepTwin(
            pl_module.net, trainer.optimizers[0], pl_module.loss_on, self.partial_batch
        )
        self.w0 = snapshot(pl_module.net)
        self.update = [torch.zeros_like(p) for p in self.w0.values()]

    def _record(self, pl_module: L.LightningModule, record: ForgetStep) -> None:
        """Keep a forget step; with w_ref=initial its gradient at w_0 is final, so add it now."""
        self.records.append(record)
        if self.w_ref == "initial":
            start = time.perf_counter()
            grads = forget_gradient(pl_module.net, pl_module.objective, record, self.w0)
            torch._foreach_add_(self.update, grads, alpha=pl_module.lr)
            self.unlearn_seconds += time.perf_counter() - start

    def unlearning_update(self, pl_module: L.LightningModule) -> list[Tensor]:
        """The vector added to w_t: η Σ_s (1/b_s) Σ_{x∈F∩B_s} ∇ℓ(w_ref; x)."""
        if self.w_ref == "initial":
            return self.update
        start = time.perf_counter()
        here = snapshot(pl_module.net)
        total = [torch.zeros_like(p) for p in here.values()]
        for record in self.records:
            grads = forget_gradient(pl_module.net, pl_module.objective, record, here)
            torch._foreach_add_(total, grads, alpha=pl_module.lr)
        self.unlearn_seconds += time.perf_counter() - start
        return total

    def unlearned_weights(self, pl_module: L.LightningModule) -> list[Tensor]:
        """w'' = w_t + the single-gradient update."""
        current = [p.detach() for p in trainable(pl_module.net).values()]
        return torch._foreach_add(current, self.unlearning_update(pl_module))

    @override
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert self.twin is not None
        x, y, idx = batch
        step = window_step(trainer)
        if self.forget_indices is None:
            self.forget_indices = self.forget.resolve(
                idx, len(trainer.train_dataloader.dataset)
            ).to(idx.device)
        mask = torch.isin(idx, self.forget_indices)
        n_forget = int(mask.sum())
        start = time.perf_counter()
        self.twin.step(x, y, mask, n_forget, pl_module.last_step_seed)
        self.twin_seconds += time.perf_counter() - start
        if n_forget:
            self._record(pl_module, ForgetStep(step, x, y, mask, pl_module.last_step_seed))
        if is_event(step, self.verify_every, trainer.max_steps):
            self.verify(trainer, pl_module, step)

    def verify(self, trainer: L.Trainer, pl_module: L.LightningModule, step: int) -> None:
        """Log v = ‖w' − w''‖ and v_none = ‖w' − w‖ at this step (one device sync)."""
        assert self.twin is not None
        twin = list(trainable(self.twin.net).values())
        current = [p.detach() for p in trainable(pl_module.net).values()]
        v, v_none = torch.stack(
            [distance(twin, self.unlearned_weights(pl_module)), distance(twin, current)]
        ).tolist()
        self.steps.append(step)
        self.values.append(v)
        self.values_none.append(v_none)
        log_to_loggers(
            trainer,
            {"verification_error": v, "verification_error_no_unlearning": v_none},
            step,
        )
