"""WeightDrift: ‖w_t − w_0‖₂ over the trainable parameters, w_0 taken when training starts.

Example:
    >>> trainer = L.Trainer(callbacks=[WeightDrift(every_n_steps=100)])  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import lightning as L
from torch import Tensor
from typing_extensions import override

from unlearn.callbacks.contract import check_module
from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.math.params import distance, snapshot, trainable


class WeightDrift(L.Callback):
    """Logs ``weight_drift`` every `every_n_steps` steps and at the last step.

    Args:
        every_n_steps: k ≥ 1.

    Attributes:
        w0: the trainable parameters at the start of training.
        steps, values: the logged curve.
    """

    def __init__(self, every_n_steps: int = 1) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps={every_n_steps}; allowed: >= 1")
        self.every_n_steps = every_n_steps
        self.w0: dict[str, Tensor] = {}
        self.steps: list[int] = []
        self.values: list[float] = []

    @property
    def state_key(self) -> str:
        return f"WeightDrift[every_n_steps={self.every_n_steps}]"

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        check_module(pl_module, type(self).__name__)  # what is missing, before any step

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_step == 0:  # a run resumed from a checkpoint keeps its restored w_0
            self.w0 = snapshot(pl_module.net)

    @override
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = window_step(trainer)
        if not is_event(step, self.every_n_steps, trainer.max_steps):
            return
        drift = float(distance(list(trainable(pl_module.net).values()), list(self.w0.values())))
        self.steps.append(step)
        self.values.append(drift)
        log_to_loggers(trainer, {"weight_drift": drift}, step)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {"w0": self.w0, "steps": self.steps, "values": self.values}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.w0, self.steps, self.values = (
            state_dict["w0"],
            state_dict["steps"],
            state_dict["values"],
        )
