"""UnlearningError: e(t) = η² ‖w_t − w_0‖ σ_avg (t − 1)/2 (eq. 9), from the drift and σ callbacks.

It needs a `WeightDrift` and a `HessianSpectrum` with the same `every_n_steps`, placed
before it in the callback list (Lightning calls callbacks in list order).
"""

from __future__ import annotations

from typing import Any

import lightning as L
from typing_extensions import override

from unlearn.callbacks.contract import check_module
from unlearn.callbacks.hessian_spectrum import HessianSpectrum
from unlearn.callbacks.schedule import is_event, log_to_loggers, window_step
from unlearn.callbacks.weight_drift import WeightDrift
from unlearn.math.unlearning_error import unlearning_error


def _find(trainer: L.Trainer, kind: type) -> Any:
    for cb in trainer.callbacks:
        if isinstance(cb, kind):
            return cb
    raise RuntimeError(f"UnlearningError needs a {kind.__name__} callback before it")


class UnlearningError(L.Callback):
    """Logs ``unlearning_error`` at every drift/σ event.

    Args:
        every_n_steps: k ≥ 1, the same as the drift and σ callbacks'.
    """

    def __init__(self, every_n_steps: int = 1) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps={every_n_steps}; allowed: >= 1")
        self.every_n_steps = every_n_steps
        self.steps: list[int] = []
        self.values: list[float] = []

    @property
    def state_key(self) -> str:
        return f"UnlearningError[every_n_steps={self.every_n_steps}]"

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        check_module(pl_module, type(self).__name__)  # what is missing, before any step

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
        drift, spectrum = _find(trainer, WeightDrift), _find(trainer, HessianSpectrum)
        if not (drift.steps and spectrum.steps and drift.steps[-1] == spectrum.steps[-1] == step):
            raise RuntimeError(
                "UnlearningError must follow WeightDrift and HessianSpectrum "
                "with the same every_n_steps"
            )
        e = unlearning_error(pl_module.lr, drift.values[-1], spectrum.sigma_avg, step)
        self.steps.append(step)
        self.values.append(e)
        log_to_loggers(trainer, {"unlearning_error": e}, step)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "values": self.values}

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.steps, self.values = state_dict["steps"], state_dict["values"]
