"""What the window callbacks read from a LightningModule, as typed protocols, and the check
each callback runs at ``setup`` so that a module that lacks a member fails at once, with a
line that names what is missing and how to add it, instead of an AttributeError mid-run.

Two routes satisfy it: `unlearn.module.UnlearnModule` (the framework's), or a module of
your own that inherits `unlearn.callbacks.Unlearnable` and has a ``net`` and a ``loss``
(docs/bring-your-own.md, "Your own LightningModule").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from torch import Tensor, nn


@runtime_checkable
class Objective(Protocol):
    """The training objective kept per sample (`unlearn.math.losses.TrainingObjective`)."""

    def batch_loss(
        self,
        outputs: Tensor,
        targets: Tensor,
        params: Iterable[Tensor],
        nominal_size: int | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """(Σ_{kept} ℓ_i) / nominal_size: the batch mean when nothing is dropped."""
        ...


@runtime_checkable
class UnlearnableModule(Protocol):
    """Every member a window callback may read (each callback needs a part: `NEEDS`)."""

    net: nn.Module
    objective: Objective

    @property
    def lr(self) -> float:
        """η of the optimiser now."""
        ...

    @property
    def last_step_seed(self) -> int:
        """The seed of the randomness (dropout) of the step just taken."""
        ...

    def loss_on(
        self,
        net: nn.Module,
        x: Tensor,
        y: Tensor,
        nominal_size: int,
        seed: int,
        mask: Tensor | None = None,
    ) -> Tensor:
        """The step's loss of `net` on the samples where `mask` is True, seeded by `seed`."""
        ...


NEEDS = {  # callback → the members it reads
    "WeightDrift": ("net",),
    "HessianSpectrum": ("net", "objective"),
    "HessianCurvature": ("net", "objective"),
    "UnlearningError": ("lr",),
    "Unlearner": ("net", "objective", "loss_on", "lr", "last_step_seed"),
}
HOW = {  # how to add each member without the mixin
    "net": "self.net = <your nn.Module>",
    "objective": "a per-sample objective: unlearn.math.losses.TrainingObjective(criterion)",
    "loss_on": "loss_on(net, x, y, nominal_size, seed, mask=None) -> the step's loss",
    "lr": "a property returning η (self.trainer.optimizers[0].param_groups[0]['lr'])",
    "last_step_seed": "the seed your training_step ran its dropout under",
}
MIXIN = "unlearn.callbacks.Unlearnable"
DOC = "docs/bring-your-own.md, 'Your own LightningModule'"


class ModuleContractError(TypeError):
    """A LightningModule lacks what a window callback reads (raised at ``setup``). Not an
    AttributeError: raised inside a property, that would fall through to `__getattr__`."""


def _has(module: Any, name: str) -> bool:
    """Whether `module` defines `name`, without running a property (no trainer yet)."""
    return name in dir(module)


def check_module(module: Any, callback: str) -> None:
    """Raise `ModuleContractError` naming what `module` lacks for `callback`, and how to add it.

    A module inheriting `Unlearnable` derives everything but ``net`` and ``loss``; its own
    check (`Unlearnable.check_unlearnable`) says what of those is missing or unusable.
    """
    check = getattr(module, "check_unlearnable", None)
    if check is not None:
        check(callback)
        return
    missing = [name for name in NEEDS.get(callback, ()) if not _has(module, name)]
    if not missing:
        return
    how = "; ".join(f"{name}: {HOW[name]}" for name in missing)
    raise ModuleContractError(
        f"{callback} needs {type(module).__name__} to have {', '.join(missing)}: inherit "
        f"{MIXIN} (it derives objective, lr, last_step_seed and loss_on from a `net` and a "
        f"`loss`) or add them ({how}); see {DOC}"
    )
