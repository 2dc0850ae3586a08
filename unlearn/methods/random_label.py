"""Random labelling (RL; Golatkar et al. 2020, Fan et al. 2024's baseline): SGD on F with
wrong labels, mixed with R. Each forgotten sample gets one random label other than its
own, drawn once from the method's stream; every step's batch holds `forget_batch_size`
relabelled forget samples and `batch_size` retain samples.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from unlearn.methods.base import PostHocMethod


def wrong_labels(y: Tensor, num_classes: int, gen: torch.Generator) -> Tensor:
    """A uniformly random label ≠ y for each entry: y + U{1, …, C − 1} mod C."""
    if num_classes < 2:
        raise ValueError("random labels need at least 2 classes")
    shift = torch.randint(1, num_classes, y.shape, generator=gen)
    return (y.cpu() + shift) % num_classes


class RandomLabel(PostHocMethod):
    """Descend L on (F with wrong labels) ∪ R; see `PostHocMethod` for the budget."""

    name = "random_label"
    needs_retain = True

    def relabel(self) -> Tensor:
        """Wrong labels of the whole training set (only F's are used), drawn once."""
        gen = torch.Generator().manual_seed(self.seed_of(2))
        return wrong_labels(self.dataset.y, self.num_classes, gen)

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        device = next(net.parameters()).device
        self.labels = self.relabel()
        for step in range(self.steps):
            xf, _, idx = self.forget_batch(device)
            xr, yr, _ = self.retain_batch(device)
            x, y = torch.cat([xf, xr]), torch.cat([self.labels[idx].to(device), yr])
            loss = self.loss(net, objective, self.logits(net, x, step), y)
            self.step(net, optimizer, loss, len(y))
