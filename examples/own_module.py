"""The window callbacks in a LightningModule of your own: drift, σ, e, v and v_none.

Your module needs a ``net``, a mean-reduced ``loss`` and one optimiser; inheriting
`unlearn.callbacks.Unlearnable` derives what the callbacks read (the per-sample objective,
η from the optimiser, the step seed). Batches carry each sample's index, ``(x, y, idx)``,
so the verification twin can drop the forgotten samples.

    python examples/own_module.py

It pretrains on scikit-learn's digits, then runs a tracked window twice: forgetting the
window's first batch, and forgetting nothing (the noise floor: v = v_none = 0 exactly).
"""

from __future__ import annotations

import lightning as L
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from unlearn.callbacks import (
    HessianSpectrum,
    Unlearnable,
    Unlearner,
    UnlearningError,
    WeightDrift,
)
from unlearn.forget import FirstBatch, ForgetSet, NoForget


class MyModule(Unlearnable, L.LightningModule):  # Unlearnable first: it supplies the rest
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
        self.loss = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, y, _ = batch  # idx: the sample indices, for the twin
        return self.loss(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.net.parameters(), lr=0.05)


def loader(seed: int = 0) -> DataLoader:
    """Standardised digits as (x, y, idx) batches of 32, shuffled by a seeded generator."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-6)
    data = TensorDataset(x, torch.tensor(y), torch.arange(len(y)))
    order = torch.Generator().manual_seed(seed)
    return DataLoader(data, batch_size=32, shuffle=True, generator=order)


def trainer(steps: int, callbacks: list) -> L.Trainer:
    return L.Trainer(
        max_steps=steps, callbacks=callbacks, accelerator="cpu", devices=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip


def window(module: MyModule, forget: ForgetSet, t: int = 20, every: int = 5) -> dict[str, float]:
    """Train `module` t more steps with every callback on; return what they measured."""
    drift, sigma = WeightDrift(every), HessianSpectrum(every)
    error, unlearner = UnlearningError(every), Unlearner(forget, "single_gradient", every)
    trainer(t, [drift, sigma, error, unlearner]).fit(module, loader(seed=1))
    return {
        "drift": drift.values[-1],
        "sigma_avg": sigma.sigma_avg,
        "e": error.values[-1],
        "v": unlearner.values[-1],
        "v_none": unlearner.values_none[-1],
    }


def main(pretrain_steps: int = 100, t: int = 20) -> dict[str, dict[str, float]]:
    torch.manual_seed(0)
    module = MyModule()
    trainer(pretrain_steps, []).fit(module, loader(seed=0))  # pretraining: no callbacks
    start = {k: v.clone() for k, v in module.net.state_dict().items()}
    results = {}
    for name, forget in (("first batch", FirstBatch()), ("nothing", NoForget())):
        module.net.load_state_dict(start)  # both windows from the same pretrained model
        results[name] = window(module, forget, t)
        print(f"forget {name}: " + ", ".join(f"{k} {v:.4g}" for k, v in results[name].items()))
    return results


if __name__ == "__main__":
    import logging

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no banner per fit
    main()
