"""`Unlearnable`: the mixin that makes a plain LightningModule one the window callbacks read.

Inherit it before ``L.LightningModule`` in a module that has a ``net`` and a mean-reduced
``loss`` (``nn.CrossEntropyLoss()``) and trains with one optimiser; it derives the rest of
`unlearn.callbacks.contract.UnlearnableModule`:

- ``objective``: the same loss kept per sample (``reduction="none"``), so the twin can drop
  the forgotten samples and still divide by the nominal batch size;
- ``lr``: read from the optimiser's first parameter group;
- ``last_step_seed``: 0 when ``net`` has no dropout (nothing random to replay); with
  dropout, compute the step's loss with ``self.step_loss(x, y)``, which runs the forward
  under a seeded scope the twin replays;
- ``loss_on``: ``net``'s forward under that seed, then ``objective.batch_loss``.

Example (examples/own_module.py runs it)::

    class MyModule(Unlearnable, L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
            self.loss = nn.CrossEntropyLoss()

        def training_step(self, batch, batch_idx):
            x, y, _ = batch
            return self.loss(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.net.parameters(), lr=0.05)
"""

from __future__ import annotations

import copy
from typing import Any

from torch import Tensor, nn

from unlearn.callbacks.contract import DOC, ModuleContractError
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.runtime.rng import derive_seed, seeded_scope

STEP_STREAM = 7  # the step seeds of a user's module: apart from the framework's streams


def has_dropout(net: nn.Module) -> bool:
    """Whether `net` draws random numbers in training (a dropout layer with p > 0)."""
    return any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in net.modules())


class Unlearnable:
    """Mix into a LightningModule with ``net`` and ``loss`` (see the module docstring).

    Attributes:
        unlearn_seed: the base of the step seeds ``step_loss`` uses (set it for another
            dropout stream; it does not seed anything else).
    """

    unlearn_seed: int = 0

    def check_unlearnable(self, callback: str) -> None:
        """Raise `ModuleContractError` (at a callback's ``setup``) for what is missing."""
        name = type(self).__name__
        net = getattr(self, "net", None)
        if not isinstance(net, nn.Module):
            raise ModuleContractError(
                f"{callback} needs {name}.net, the nn.Module it trains: set self.net = ... in "
                f"__init__; see {DOC}"
            )
        if self._own_objective() is not None:
            return  # the module brings its own per-sample objective
        self._per_sample_loss(callback)

    def _own_objective(self) -> Any:
        """An ``objective`` the module set itself (nn.Module keeps a submodule apart)."""
        return self.__dict__.get("_modules", {}).get("objective")

    def _per_sample_loss(self, callback: str = "the window callbacks") -> nn.Module:
        loss = getattr(self, "loss", None)
        name = type(self).__name__
        if not isinstance(loss, nn.Module) or not hasattr(loss, "reduction"):
            raise ModuleContractError(
                f"{callback} needs {name}.loss, a torch loss module such as "
                f"nn.CrossEntropyLoss() (got {type(loss).__name__}), or {name}.objective, a "
                f"per-sample unlearn.math.losses.TrainingObjective; see {DOC}"
            )
        if loss.reduction != "mean":
            raise ModuleContractError(
                f"{name}.loss.reduction={loss.reduction!r}; allowed: 'mean' (the twin divides "
                f"the kept samples' sum by the batch size, as a mean-reduced loss does)"
            )
        per_sample = copy.copy(loss)
        per_sample.reduction = "none"
        return per_sample

    @property
    def objective(self) -> TrainingObjective:
        """The module's own ``objective`` if it set one, else ``loss`` kept per sample."""
        own = self._own_objective()
        if own is not None:
            return own
        cached = self.__dict__.get("_unlearn_objective")
        if cached is None:
            cached = TrainingObjective(self._per_sample_loss())
            self.__dict__["_unlearn_objective"] = cached  # not a submodule: no state_dict key
        return cached

    @property
    def lr(self) -> float:
        """η of the optimiser's first parameter group (plain SGD: the step size); before
        there is one, the value the module set (``self.lr = 0.05`` stays allowed)."""
        try:
            optimizers = self.trainer.optimizers  # type: ignore[attr-defined]
        except (AttributeError, RuntimeError):  # not attached to a Trainer yet
            optimizers = []
        if optimizers:
            return float(optimizers[0].param_groups[0]["lr"])
        return float(self.__dict__["_unlearn_lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        self.__dict__["_unlearn_lr"] = value

    @property
    def last_step_seed(self) -> int:
        """The seed `step_loss` ran the last step under; 0 when `net` has no dropout."""
        seed = self.__dict__.get("_unlearn_step_seed")
        if seed is not None:
            return seed
        net: nn.Module = self.net  # type: ignore[attr-defined]
        if has_dropout(net):
            raise ModuleContractError(
                f"{type(self).__name__}.net has dropout: the twin must replay each step's "
                f"masks; compute the step's loss with self.step_loss(x, y); see {DOC}"
            )
        return 0

    def step_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """This training step's loss of ``net`` on (x, y), its randomness seeded so that
        the twin replays it (needed only when ``net`` has dropout)."""
        try:
            step = int(self.trainer.global_step)  # type: ignore[attr-defined]
        except (AttributeError, RuntimeError):  # called outside a Trainer
            step = 0
        seed = derive_seed(self.unlearn_seed, STEP_STREAM, step)
        self.__dict__["_unlearn_step_seed"] = seed
        return self.loss_on(self.net, x, y, x.shape[0], seed)  # type: ignore[attr-defined]

    def loss_on(
        self,
        net: nn.Module,
        x: Tensor,
        y: Tensor,
        nominal_size: int,
        seed: int,
        mask: Tensor | None = None,
    ) -> Tensor:
        """`net`'s objective on the samples of (x, y) where `mask` is True (all when None),
        summed and divided by `nominal_size`; its randomness seeded by `seed`."""
        with seeded_scope(seed, x.device):
            outputs = net(x)
        objective = self.objective
        params = trainable(net).values() if objective.l2_lambda else ()
        return objective.batch_loss(outputs, y, params, nominal_size, mask)
