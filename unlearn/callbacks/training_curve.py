"""A phase's training curve: train loss (with its criterion and regulariser parts), train
accuracy and a periodic test accuracy, sent to every logger as ``<phase>/<name>``.

The module computes the parts at the recorded steps only (`UnlearnModule.curve_every`),
on the device; this callback reads them after the step, adds the test accuracy every
`test_every` steps, and logs the row against ``<phase>/step`` (the phase's stream step,
so a pretraining continued from a cached step k goes on where the cached curve ends).
Its `rows` are kept with the pretrain cache entry (`unlearn.experiment.pretrain`) and in
results.json.

Example::

    curve = TrainingCurve("pretrain", every=10, test_loader=data.test_dataloader())
    L.Trainer(max_steps=450, callbacks=[curve], logger=CSVLogger("out")).fit(module, loader)
    curve.rows  # [{"step": 10, "train_loss": ..., "train_ce": ..., "train_acc": ...}, ...]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import lightning as L
import torch
from torch import nn
from typing_extensions import override

from unlearn.callbacks.schedule import is_event, log_to_loggers


def accuracy_on(net: nn.Module, loader: Iterable, device: torch.device) -> float:
    """Accuracy of `net` on `loader`'s (x, y, idx) batches, in eval mode, leaving no trace:
    the mode is restored and the global RNG (which a DataLoader draws from) forked."""
    was_training = net.training
    net.eval()
    correct = total = 0
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            for x, y, *_ in loader:
                pred = net(x.to(device)).argmax(dim=1).cpu()
                correct += int((pred == y).sum())
                total += len(y)
    finally:
        net.train(was_training)
    return correct / max(total, 1)


def log_rows(loggers: Iterable[Any], phase: str, rows: Iterable[dict[str, float]]) -> None:
    """Send recorded rows (e.g. a cached pretraining curve) to `loggers` as if live."""
    loggers = list(loggers)
    for row in rows:
        metrics = {f"{phase}/{k}": v for k, v in row.items() if k != "step"}
        metrics[f"{phase}/step"] = row["step"]
        for logger in loggers:
            logger.log_metrics(metrics, step=int(row["step"]))
    for logger in loggers:
        logger.save()


class TrainingCurve(L.Callback):
    """Records and logs one phase's curve (see the module docstring).

    Args:
        phase: the metrics' prefix, ``"pretrain"`` or ``"window"``.
        every: a row every k stream steps (and at the phase's last step).
        start: the phase's first stream step.
        test_loader: the test set's loader; None: no test accuracy.
        test_every: test accuracy every k stream steps (None: never during the phase).
        test_at_end: also at the phase's last step.
        rows: rows recorded before `start` (a cached prefix's curve), kept in front.
    """

    def __init__(
        self,
        phase: str,
        every: int,
        start: int = 0,
        test_loader: Iterable | None = None,
        test_every: int | None = None,
        test_at_end: bool = False,
        rows: list[dict[str, float]] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"every={every}: allowed an integer >= 1")
        self.phase = phase
        self.every = every
        self.start = start
        self.test_loader = test_loader
        self.test_every = test_every
        self.test_at_end = test_at_end
        self.rows: list[dict[str, float]] = [r for r in rows or [] if r["step"] <= start]

    @override
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not hasattr(pl_module, "curve_every"):
            raise TypeError("TrainingCurve needs a module with `curve_every` and `last_train`")
        pl_module.curve_every = self.every

    @override
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: Any, *args: Any) -> None:
        step = self.start + int(trainer.global_step)
        stop = self.start + int(trainer.max_steps)
        row: dict[str, float] = {}
        if is_event(step, self.every, stop) and pl_module.last_train:
            row = {k: float(v) for k, v in pl_module.last_train.items()}
            pl_module.last_train = {}
        at_end = self.test_at_end and step == stop
        if self.test_loader is not None and (
            at_end or (self.test_every and step % self.test_every == 0)
        ):
            row["test_acc"] = accuracy_on(pl_module.net, self.test_loader, pl_module.device)
        if not row:
            return
        metrics = {f"{self.phase}/{k}": v for k, v in row.items()}
        metrics[f"{self.phase}/step"] = step
        log_to_loggers(trainer, metrics, step)
        self.rows.append({"step": step, **row})

    @property
    @override
    def state_key(self) -> str:
        return self._generate_state_key(phase=self.phase)

    @override
    def state_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows)}  # a resumed window keeps the curve it had

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = list(state_dict["rows"])

    @override
    def teardown(self, trainer: L.Trainer, pl_module: Any, stage: str) -> None:
        pl_module.curve_every = 0
