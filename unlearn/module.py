"""The LightningModule: plain SGD on the training objective, with per-step seeded randomness.

Each step's forward runs in an RNG scope seeded by (seed, stream, step), so the
verification twin can replay the step's dropout masks exactly (`loss_on`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torchmetrics.classification import MulticlassAccuracy

from unlearn.math.params import trainable
from unlearn.runtime.divergence import DivergenceGuard
from unlearn.runtime.rng import derive_seed, seeded_scope

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
PHASES = {0: "pretrain", 1: "window"}  # stream id → phase name in divergence reports


class UnlearnModule(L.LightningModule):
    """Trains `net` on `objective` with the optimiser `optimizer(params)` (plain SGD by default).

    Args:
        net: the model.
        objective: a `TrainingObjective` (per-sample loss and weight term).
        optimizer: a factory, e.g. ``functools.partial(torch.optim.SGD, lr=0.01)``.
        num_classes: for the test accuracy.
        seed: run seed; step seeds derive from it.
        check_every: on GPU, look for a non-finite loss every k steps (CPU: every step).
    """

    def __init__(
        self,
        net: nn.Module,
        objective: nn.Module,
        optimizer: OptimizerFactory,
        num_classes: int,
        seed: int = 0,
        check_every: int = 1,
    ) -> None:
        super().__init__()
        self.net = net
        self.objective = objective
        self.optimizer_factory = optimizer
        self.seed = seed
        self.guard = DivergenceGuard(check_every)
        self.stream_id = 0
        self.stream_start = 0
        self.last_step_seed = 0
        self.host_indices: Tensor | None = None  # the last batch's sample indices, on the host
        self.optimizer_state: dict[str, Any] | None = None  # carried into the next phase
        self.curve_every = 0  # record train loss/CE/accuracy every k stream steps (0: never)
        self.last_train: dict[str, Tensor] = {}  # the last recorded step's (detached) parts
        self.test_acc = MulticlassAccuracy(num_classes=num_classes, average="micro")

    def begin_phase(self, stream_id: int, start: int = 0) -> None:
        """Point the step seeds at a phase's stream, starting at stream step `start`."""
        self.stream_id = stream_id
        self.stream_start = start
        self.guard.start(PHASES.get(stream_id, f"stream {stream_id}"))

    @property
    def lr(self) -> float:
        """η of the current optimiser."""
        return float(self.trainer.optimizers[0].param_groups[0]["lr"])

    def loss_on(
        self,
        net: nn.Module,
        x: Tensor,
        y: Tensor,
        nominal_size: int,
        seed: int,
        mask: Tensor | None = None,
    ) -> Tensor:
        """Batch objective of `net` on the samples of (x, y) where `mask` is True (all when
        None), summed and divided by `nominal_size`; randomness seeded by `seed`."""
        return self._outputs_and_loss(net, x, y, nominal_size, seed, mask)[1]

    def _outputs_and_loss(
        self,
        net: nn.Module,
        x: Tensor,
        y: Tensor,
        nominal_size: int,
        seed: int,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        with seeded_scope(seed, x.device):
            outputs = net(x)
        # the weight term needs the parameters only when λ > 0: skip the walk otherwise
        params = trainable(net).values() if getattr(self.objective, "l2_lambda", 1.0) else ()
        return outputs, self.objective.batch_loss(outputs, y, params, nominal_size, mask)

    def training_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y, _ = batch
        step = self.stream_start + self.trainer.global_step
        self.last_step_seed = derive_seed(self.seed, self.stream_id, step)
        outputs, loss = self._outputs_and_loss(self.net, x, y, x.shape[0], self.last_step_seed)
        stop = self.stream_start + self.trainer.max_steps
        self.guard.observe(loss, step + 1, stop)
        if self.curve_every and ((step + 1) % self.curve_every == 0 or step + 1 == stop):
            self.last_train = self._parts(outputs.detach(), y, loss.detach())
        return loss

    def _parts(self, outputs: Tensor, y: Tensor, loss: Tensor) -> dict[str, Tensor]:
        """The recorded step's loss, its criterion (cross-entropy) and regulariser (γ·SD,
        λ‖w‖) parts, and its accuracy: tensors on the device, read only by the loggers."""
        parts = {"train_loss": loss}
        criterion = getattr(self.objective, "criterion", None)
        if criterion is None:
            return parts
        with torch.no_grad():
            data_term = criterion(outputs, y)
            data_term = data_term.flatten(1).sum(1) if data_term.dim() > 1 else data_term
            parts["train_ce"] = data_term.mean()
            parts["train_reg"] = loss - parts["train_ce"]
            if outputs.ndim == 2 and not y.is_floating_point():
                parts["train_acc"] = (outputs.argmax(dim=1) == y).float().mean()
        return parts

    def test_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> None:
        x, y, _ = batch
        self.test_acc(self.net(x), y)
        self.log("test_acc", self.test_acc, on_epoch=True)

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Keep the batch's sample indices on the host, so forget masks need no device sync."""
        self.host_indices = batch[2] if isinstance(batch, tuple | list) and len(batch) > 2 else None
        return batch

    def configure_optimizers(self) -> torch.optim.Optimizer:
        """A new optimiser, continuing `optimizer_state` (e.g. pretraining's momentum) if set."""
        optimizer = self.optimizer_factory(self.net.parameters())
        if self.optimizer_state is not None:
            groups = optimizer.param_groups
            settings = [{k: v for k, v in g.items() if k != "params"} for g in groups]
            optimizer.load_state_dict(self.optimizer_state)
            for group, own in zip(optimizer.param_groups, settings, strict=True):
                group.update(own)  # the state carries over, this phase's settings stay
        return optimizer
