"""The window callbacks in a user's own LightningModule: the contract they read, the errors
at setup that name what is missing, and examples/own_module.py end to end."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from unlearn.callbacks import (
    HessianSpectrum,
    ModuleContractError,
    Unlearnable,
    Unlearner,
    WeightDrift,
)
from unlearn.forget import NoForget
from unlearn.math.unlearning_error import unlearning_error

ROOT = Path(__file__).resolve().parents[1]


def _example():
    spec = importlib.util.spec_from_file_location("own_module", ROOT / "examples" / "own_module.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trainer(steps: int, callbacks: list) -> L.Trainer:
    return L.Trainer(
        max_steps=steps, callbacks=callbacks, accelerator="cpu", logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip


def _data(n: int = 64) -> DataLoader:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 8, generator=gen), torch.randint(0, 3, (n,), generator=gen)
    return DataLoader(TensorDataset(x, y, torch.arange(n)), batch_size=16)


class Plain(L.LightningModule):
    """What a new user writes: a net, a loss, SGD; no mixin."""

    def __init__(self, net: nn.Module | None = None, loss: nn.Module | None = None) -> None:
        super().__init__()
        self.net = net or nn.Sequential(nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3))
        self.loss = loss or nn.CrossEntropyLoss()
        self.steps = 0

    def training_step(self, batch, batch_idx):
        self.steps += 1
        x, y, _ = batch
        return self.loss(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.net.parameters(), lr=0.1)


class Mixed(Unlearnable, Plain):
    pass


class SeededDropout(Mixed):
    def training_step(self, batch, batch_idx):
        x, y, _ = batch
        return self.step_loss(x, y)


def test_the_example_measures_everything_with_a_noise_floor_of_zero():
    results = _example().main(pretrain_steps=30, t=10)
    floor, forgot = results["nothing"], results["first batch"]
    assert floor["v"] == 0.0 and floor["v_none"] == 0.0  # the twin is the model, bit for bit
    assert forgot["v_none"] > 0 and forgot["drift"] > 0 and forgot["sigma_avg"] > 0
    # e is eq. 9 of the drift and σ_avg the other callbacks measured (η = 0.05, t = 10)
    assert forgot["e"] == unlearning_error(0.05, forgot["drift"], forgot["sigma_avg"], 10)
    assert all(math.isfinite(x) for x in forgot.values())


def test_a_module_without_the_mixin_is_told_at_setup_what_to_add():
    module = Plain()
    with pytest.raises(ModuleContractError) as err:
        _trainer(2, [Unlearner(verify_every=1)]).fit(module, _data())
    assert module.steps == 0  # at setup, before any step
    text = str(err.value)
    assert text.startswith("Unlearner needs Plain to have objective, loss_on, lr, last_step_seed:")
    assert "inherit unlearn.callbacks.Unlearnable" in text and "docs/bring-your-own.md" in text


def test_weight_drift_needs_only_a_net():
    drift = WeightDrift(1)
    _trainer(2, [drift]).fit(Plain(), _data())
    assert len(drift.values) == 2


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        (nn.CrossEntropyLoss(reduction="sum"), "Mixed.loss.reduction='sum'; allowed: 'mean'"),
        (nn.Identity(), "HessianSpectrum needs Mixed.loss, a torch loss module"),
    ],
    ids=["sum", "not_a_loss"],
)
def test_an_unusable_loss_is_named_at_setup(loss, message):
    module = Mixed(loss=loss)
    with pytest.raises(ModuleContractError, match=message.replace("(", r"\(")):
        _trainer(2, [HessianSpectrum(1)]).fit(module, _data())
    assert module.steps == 0


def test_lr_comes_from_the_optimizer_and_may_be_set():
    module = Mixed()
    module.lr = 0.3  # a user's own `self.lr = ...` still works before training
    assert module.lr == 0.3
    unlearner = Unlearner(NoForget(), "single_gradient", verify_every=1)
    _trainer(1, [unlearner]).fit(module, _data())
    assert module.lr == 0.1  # the optimiser's


def test_dropout_without_a_seeded_step_says_how_to_seed_it():
    net = nn.Sequential(nn.Linear(8, 6), nn.Dropout(0.5), nn.Linear(6, 3))
    with pytest.raises(ModuleContractError, match=r"has dropout.*self\.step_loss\(x, y\)"):
        _trainer(2, [Unlearner(NoForget())]).fit(Mixed(net=net), _data())


def test_dropout_with_step_loss_keeps_the_noise_floor_at_zero():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 6), nn.Dropout(0.5), nn.Linear(6, 3))
    unlearner = Unlearner(NoForget(), "single_gradient", verify_every=1)
    _trainer(4, [unlearner]).fit(SeededDropout(net=net), _data())
    assert unlearner.values == unlearner.values_none == [0.0] * 4
