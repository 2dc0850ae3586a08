"""Selective synaptic dampening (SSD; Foster, Schoepf & Brintrup, AAAI 2024): no training.

Each weight's importance to a data set is its diagonal Fisher information, estimated as
their code does (`ssd.py`, `calc_importance`): the squared gradient of the batch-mean
loss, averaged over the batches. With I_D on the training set D (or a seeded sample)
and I_F on the forget set F, every weight where I_F > α·I_D is multiplied by
min(λ·I_D / I_F, 1); the others are left as they are. The importances are taken on a
copy of the final model in eval mode (no dropout draw, BatchNorm's running statistics).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.methods.base import Cost, PostHocMethod


def dampen(
    weights: list[Tensor], imp_d: list[Tensor], imp_f: list[Tensor], alpha: float, lam: float
) -> list[Tensor]:
    """SSD's rule: w · min(λ I_D / I_F, 1) where I_F > α I_D, else w."""
    if not alpha > 0 or not lam > 0:
        raise ValueError(f"unlearn.alpha={alpha}, unlearn.lam={lam}: allowed > 0")
    out = []
    for w, d, f in zip(weights, imp_d, imp_f, strict=True):
        selected = f > alpha * d
        factor = torch.where(selected, (lam * d / f).clamp(max=1.0), torch.ones_like(w))
        out.append(w * factor)
    return out


class SSD(PostHocMethod):
    """Args: alpha (selection α), lam (dampening λ), batch_size, samples (of D; None: all)."""

    name = "ssd"

    def __init__(
        self, alpha: float = 10.0, lam: float = 1.0, batch_size: int = 32,
        samples: int | None = None, seed: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(batch_size=batch_size, seed=seed)
        if not alpha > 0 or not lam > 0:
            raise ValueError(f"unlearn.alpha={alpha}, unlearn.lam={lam}: allowed > 0")
        if samples is not None and samples < 1:
            raise ValueError(f"unlearn.samples={samples}: allowed >= 1 or null")
        self.alpha, self.lam, self.samples = float(alpha), float(lam), samples

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SSD:
        """Its own keys only: SSD spends no SGD budget (steps, lr are not its)."""
        keys = ("alpha", "lam", "batch_size", "samples", "seed")
        return cls(**{k: options[k] for k in keys if k in options})

    def importances(self, net: nn.Module, objective: nn.Module, pool: Tensor) -> list[Tensor]:
        """Mean over batches of the squared batch-mean gradient (their `calc_importance`)."""
        params = list(trainable(net).values())
        total = [torch.zeros_like(p) for p in params]
        device = params[0].device
        chunks = pool.split(self.batch_size)
        for chunk in chunks:
            x, y = self.dataset.x[chunk].to(device), self.dataset.y[chunk].to(device)
            loss = self.loss(net, objective, net(x), y)
            grads = torch.autograd.grad(loss, params)
            torch._foreach_add_(total, torch._foreach_mul(grads, grads))
            self.cost.gradient_evaluations += 1
            self.cost.samples += len(chunk)
        return torch._foreach_div(total, float(len(chunks)))

    def training_pool(self) -> Tensor:
        """D, or a seeded sample of it (sorted)."""
        everything = torch.arange(len(self.dataset.y))
        if self.samples is None or self.samples >= len(everything):
            return everything
        gen = torch.Generator().manual_seed(self.seed_of(3))
        return everything[torch.randperm(len(everything), generator=gen)[: self.samples]].sort()[0]

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        if self.dataset is None:
            raise RuntimeError("ssd: attach(dataset, forget) before unlearned()")
        if len(self.forget) == 0:
            return [p.detach().clone() for p in trainable(net).values()]
        begin, self.cost = time.perf_counter(), Cost()
        model = copy.deepcopy(net).eval()
        with torch.enable_grad():
            imp_d = self.importances(model, objective, self.training_pool())
            imp_f = self.importances(model, objective, self.forget)
        weights = [p.detach() for p in trainable(model).values()]
        out = dampen(weights, imp_d, imp_f, self.alpha, self.lam)
        self.cost.seconds = time.perf_counter() - begin
        return out
