"""Unlearner: forgets a set with one unlearning method and measures how well it did against
the verification twin trained in lock-step (docs/twin.md).

At every step the twin takes the same batch minus the forgotten samples, with the same
step seed, each kept sample with its own dropout mask (`unlearn.twin`). Around each step
whose batch held forgotten samples the method is told
(`before_step`, `after_step`); every `verify_every` steps (and at the last) the callback
logs v = ‖w' − w''‖ with w'' from the method and, as the baseline of doing nothing,
v_none = ‖w' − w‖. Methods live in `unlearn.methods`, one per file.

Requires the module to expose ``net``, ``objective``, ``loss_on``, ``lr`` and
``last_step_seed`` (`unlearn.callbacks.contract`; a module of your own inherits
`unlearn.callbacks.Unlearnable`), and batches ``(x, y, idx)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import lightning as L
import torch
from torch import Tensor
from typing_extensions import override

from unlearn.callbacks.contract import check_module
from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.forget import FirstBatch, ForgetSet
from unlearn.math.params import distance, trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods import Cost, UnlearningMethod, build
from unlearn.twin import LockstepTwin, PartialBatch

log = logging.getLogger(__name__)


def _train_labels(trainer: L.Trainer, n_fallback: int) -> Tensor:
    dataset = trainer.train_dataloader.dataset
    labels = getattr(dataset, "y", None)
    return labels if isinstance(labels, Tensor) else torch.zeros(n_fallback, dtype=torch.long)


@dataclass
class Lane:
    """One method watching the window: its v curve and its final w''."""

    name: str
    method: UnlearningMethod
    values: list[float] = field(default_factory=list)
    final: list[Tensor] | None = None


class Unlearner(L.Callback):
    """Unlearning by `method` with its lock-step verification twin.

    Args:
        forget: the forget set (default: the window's first batch).
        method: a method name (``single_gradient``, ``amnesiac``, ``none``, ``retrain``) or
            an `UnlearningMethod` instance.
        verify_every: k_v ≥ 1.
        w_ref: single_gradient's reference weights, ``initial`` (w_0), ``first`` (right
            after the step that used the samples) or ``final`` (w_t).
        partial_batch: the twin's normalisation of a batch that lost some samples.
        options: the ``unlearn`` config node: budget and hyperparameters of a post-hoc method
            (fine_tune, …; see `unlearn.methods.base.PostHocMethod`), which is asked for
            w'' at the window's last step only (v is NaN at the earlier events).

    Example::

        trainer = L.Trainer(callbacks=[Unlearner(method="amnesiac", verify_every=5)])
    """

    def __init__(
        self,
        forget: ForgetSet | None = None,
        method: str | UnlearningMethod = "single_gradient",
        verify_every: int = 1,
        w_ref: str = "initial",
        partial_batch: PartialBatch = "nominal",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if verify_every < 1:
            raise ValueError(f"verify_every={verify_every}; allowed: >= 1")
        if w_ref not in ("initial", "first", "final"):
            raise ValueError(f"unlearn.w_ref={w_ref!r}; allowed: initial, first, final")
        self.forget = forget if forget is not None else FirstBatch()
        first = build(method, w_ref, options) if isinstance(method, str) else method
        # one lane per method; several only with `compare_with` (unlearn.compare)
        self.lanes: list[Lane] = [Lane(first.name, first)]
        self.verify_every = verify_every
        self.partial_batch = partial_batch
        self.twin: LockstepTwin | None = None
        self.forget_indices: Tensor | None = None
        self.records: list[ForgetStep] = []
        self.steps: list[int] = []
        self.values_none: list[float] = []
        self.twin_cost = Cost()
        self._mask: Tensor | None = None
        self._n_forget = 0
        self._forget_host: Tensor | None = None  # forget_indices on the host
        self._pending: dict[str, Any] | None = None

    def compare_with(self, methods: Mapping[str, UnlearningMethod]) -> None:
        """Watch the window with several methods side by side (the first is `method`); each
        sees exactly the calls it would see alone, so its w'' is the same bit for bit."""
        if not methods:
            raise ValueError("compare_with needs at least one method")
        self.lanes = [Lane(name, m) for name, m in methods.items()]

    @property
    def method(self) -> UnlearningMethod:
        """The first (or only) method: results.json's top-level keys are its."""
        return self.lanes[0].method

    @property
    def values(self) -> list[float]:
        return self.lanes[0].values

    @property
    def final_unlearned(self) -> list[Tensor] | None:
        return self.lanes[0].final

    @final_unlearned.setter
    def final_unlearned(self, weights: list[Tensor] | None) -> None:
        self.lanes[0].final = weights

    @property
    def state_key(self) -> str:
        names = []
        for lane in self.lanes:
            w_ref = getattr(lane.method, "w_ref", None)
            names.append(lane.name + (f",w_ref={w_ref}" if w_ref else ""))
        return f"Unlearner[method={'+'.join(names)},verify_every={self.verify_every}]"

    def cost_of(self, method: UnlearningMethod) -> Cost:
        """A method's cost of unlearning F (the twin's, for exact retraining)."""
        return self.twin_cost if method.uses_twin else method.total_cost()

    @property
    def unlearn_cost(self) -> Cost:
        """The first method's cost of unlearning F (the twin's, for exact retraining)."""
        return self.cost_of(self.method)

    @property
    def unlearn_seconds(self) -> float:
        return self.unlearn_cost.seconds

    @property
    def twin_seconds(self) -> float:
        return self.twin_cost.seconds

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        check_module(pl_module, type(self).__name__)  # what is missing, before any step

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.twin = LockstepTwin(
            pl_module.net, trainer.optimizers[0], pl_module.loss_on, self.partial_batch
        )
        for method in self.methods:
            method.configure(trainer.optimizers[0])
            bind = getattr(method, "bind", None)  # optional: methods that replay steps
            if bind is not None:
                bind(pl_module.loss_on, self.partial_batch, int(trainer.max_steps))
            method.start(pl_module.net)
            method.attach_callbacks(list(trainer.callbacks))
            method.train_size = len(getattr(trainer.train_dataloader, "dataset", ()))
        if self._pending is not None:  # resuming: the checkpoint replaces the fresh state
            self._restore(self._pending)
            self._pending = None

    @override
    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not (isinstance(batch, tuple | list) and len(batch) == 3):
            raise ValueError(
                "Unlearner needs batches (x, y, idx), idx each sample's index in the training "
                "set (the twin drops the forgotten ones): e.g. TensorDataset(x, y, "
                "torch.arange(len(x))); see docs/bring-your-own.md"
            )
        _, _, idx = batch
        # the mask is computed on the host copy of the indices (UnlearnModule keeps it), so
        # deciding how the twin steps never waits for the device
        host = getattr(pl_module, "host_indices", None)
        if host is None or host.shape != idx.shape:
            host = idx.cpu()
        if self.forget_indices is None:
            labels = _train_labels(trainer, int(host.max()) + 1)
            self.forget_indices = self.forget.resolve(host, labels).to(idx.device)
        if self._forget_host is None:  # first batch, or the first after a resume
            self._forget_host = self.forget_indices.cpu()
            for method in self.methods:
                attach = getattr(method, "attach", None)  # optional: methods without data
                if attach is not None:
                    attach(trainer.train_dataloader.dataset, self._forget_host)
        mask = torch.isin(host, self._forget_host)
        self._n_forget = int(mask.sum())
        self._mask = mask.to(idx.device, non_blocking=True)
        for method in self.methods:
            if self._n_forget or method.every_step:
                method.before_step(pl_module.net)

    @property
    def methods(self) -> list[UnlearningMethod]:
        return [lane.method for lane in self.lanes]

    @override
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert self.twin is not None and self._mask is not None
        x, y, _ = batch
        step, mask, n_forget = window_step(trainer), self._mask, self._n_forget
        begin = time.perf_counter()
        self.twin.step(x, y, mask, n_forget, pl_module.last_step_seed)
        if n_forget < x.shape[0]:
            self.twin_cost.gradient_evaluations += 1
            self.twin_cost.samples += x.shape[0] - n_forget
        self.twin_cost.seconds += time.perf_counter() - begin
        if n_forget or any(m.every_step for m in self.methods):
            record = ForgetStep(step, x, y, mask, pl_module.last_step_seed)
        if n_forget:
            self.records.append(record)
        for method in self.methods:
            if n_forget:
                method.after_step(pl_module.net, pl_module.objective, record, pl_module.lr)
            if method.every_step:
                method.on_step(pl_module.net, pl_module.objective, record, pl_module.lr)
        if is_event(step, self.verify_every, trainer.max_steps):
            self.verify(trainer, pl_module, step)

    def unlearned_weights(
        self, pl_module: L.LightningModule, method: UnlearningMethod | None = None
    ) -> list[Tensor]:
        """w'' from the method (the first one by default), at the current weights."""
        assert self.twin is not None
        method = method or self.method
        net, objective = pl_module.net, pl_module.objective
        method.at_step(int(pl_module.trainer.global_step))
        return method.unlearned(net, objective, pl_module.lr, self.twin.net)

    def verify(self, trainer: L.Trainer, pl_module: L.LightningModule, step: int) -> None:
        """Log v = ‖w' − w''‖ of every method and v_none = ‖w' − w‖ (one device sync)."""
        assert self.twin is not None
        twin = list(trainable(self.twin.net).values())
        current = [p.detach() for p in trainable(pl_module.net).values()]
        final = step == trainer.max_steps
        answers: list[list[Tensor] | None] = []
        began = time.perf_counter()
        for i, lane in enumerate(self.lanes, 1):  # a post-hoc method: from the final model only
            early = getattr(lane.method, "post_hoc", False) and not final
            answers.append(None if early else self.unlearned_weights(pl_module, lane.method))
            if final and len(self.lanes) > 1:  # the post-hoc methods' budgets run here
                log.info(
                    "methods: %d/%d unlearned at step %d (%s), %.0f s",
                    i, len(self.lanes), step, lane.name, time.perf_counter() - began,
                )  # fmt: skip
        distances = [distance(twin, w) for w in answers if w is not None]
        *values, v_none = torch.stack([*distances, distance(twin, current)]).tolist()
        self.steps.append(step)
        self.values_none.append(v_none)
        found = iter(values)
        for lane, unlearned in zip(self.lanes, answers, strict=True):
            lane.values.append(float("nan") if unlearned is None else next(found))
            if final:
                lane.final = [w.detach().clone() for w in (unlearned or current)]
        logged = {"verification_error": self.values[-1], "verification_error_no_unlearning": v_none}
        for lane in self.lanes[1:]:
            logged[f"methods/{lane.name}/verification_error"] = lane.values[-1]
        log_to_loggers(trainer, {k: x for k, x in logged.items() if x == x}, step)  # no NaN

    def summary(self) -> dict[str, Any]:
        """results.json facts: method, forget set, costs and storage.

        `amnesiac_bytes` is what amnesiac unlearning stores for this forget set, one full
        update per forget step (measured when it is the method, and the same number
        otherwise); `amnesiac_bytes_all_steps` is its cost when requests are not known in
        advance and every step's update must be kept.
        """
        assert self.twin is not None
        param_bytes = sum(p.numel() * p.element_size() for p in trainable(self.twin.net).values())
        steps = self.twin.steps_taken + self.twin.steps_skipped
        measured = self.method.storage_bytes if self.method.name == "amnesiac" else None
        return {
            "method": self.method.name,
            "forget": self.forget.name,
            "unlearn_cost": self.unlearn_cost.as_dict(),
            "twin_cost": {**self.twin_cost.as_dict(), "steps_skipped": self.twin.steps_skipped},
            "unlearn_storage_bytes": self.method.storage_bytes,
            "unlearn_report": getattr(self.method, "report", dict)(),  # e.g. influence's CG
            "param_bytes": param_bytes,
            "amnesiac_bytes": measured if measured is not None else len(self.records) * param_bytes,
            "amnesiac_bytes_all_steps": steps * param_bytes,
        }

    @override
    def state_dict(self) -> dict[str, Any]:
        twin = self.twin
        return {
            "forget_indices": self.forget_indices,
            "records": [vars(r).copy() for r in self.records],
            "curves": (self.steps, self.values, self.values_none),
            "twin_cost": self.twin_cost.as_dict(),
            "method": self.method.state_dict(),
            "lanes": {
                lane.name: {"method": lane.method.state_dict(), "values": lane.values}
                for lane in self.lanes[1:]
            },
            "twin": None
            if twin is None
            else {
                "net": twin.net.state_dict(),
                "optimizer": twin.optimizer.state_dict(),
                "counts": (twin.steps_taken, twin.steps_skipped),
            },
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # Lightning restores callbacks before `on_train_start` builds the twin: keep it till then.
        if self.twin is None:
            self._pending = state_dict
        else:
            self._restore(state_dict)

    def _restore(self, state: dict[str, Any]) -> None:
        self.forget_indices = state["forget_indices"]
        self._forget_host = None
        self.records = [ForgetStep(**r) for r in state["records"]]
        self.steps, values, self.values_none = (list(c) for c in state["curves"])
        self.lanes[0].values = values
        self.twin_cost = Cost(**state["twin_cost"])
        self.method.load_state_dict(state["method"])
        for lane in self.lanes[1:]:
            lane.method.load_state_dict(state["lanes"][lane.name]["method"])
            lane.values = list(state["lanes"][lane.name]["values"])
        if state["twin"] is not None and self.twin is not None:
            self.twin.net.load_state_dict(state["twin"]["net"])
            self.twin.optimizer.load_state_dict(state["twin"]["optimizer"])
            self.twin.steps_taken, self.twin.steps_skipped = state["twin"]["counts"]
