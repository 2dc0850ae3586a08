"""The verification twin M' (§8.3): a copy of the model that replays the main model's
batches with the forgotten samples removed in place, in lock-step with it.

A batch that loses every sample is skipped. A batch that loses some keeps its nominal
normalisation by default (`partial_batch="nominal"`: the sum over kept samples divided
by b_s), so that twin and single-gradient update differ by second-order terms only;
`partial_batch="mean"` averages over the kept samples instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

PartialBatch = Literal["nominal", "mean"]
LossOn = Callable[[nn.Module, Tensor, Tensor, int, int], Tensor]


class LockstepTwin:
    """Holds M' and its optimiser, a fresh instance of the main optimiser's class and settings.

    Args:
        net: the main model at the start of the window (copied, not shared).
        optimizer: the main model's optimiser (its class and `defaults` are reused).
        loss_on: ``loss_on(net, x, y, nominal_size, seed) -> loss``, the main step's loss.
        partial_batch: ``nominal`` or ``mean``.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_on: LossOn,
        partial_batch: PartialBatch = "nominal",
    ) -> None:
        if partial_batch not in ("nominal", "mean"):
            raise ValueError(f"twin.partial_batch={partial_batch!r}; allowed: nominal, mean")
        self.net = copy.deepcopy(net)
        self.optimizer = type(optimizer)(self.net.parameters(), **optimizer.defaults)
        self.loss_on = loss_on
        self.partial_batch = partial_batch
        self.steps_taken = 0
        self.steps_skipped = 0

    def step(self, x: Tensor, y: Tensor, forget_mask: Tensor, n_forget: int, seed: int) -> None:
        """One step on the batch without its forgotten samples (`n_forget` of them)."""
        b = x.shape[0]
        if n_forget == b:
            self.steps_skipped += 1
            return
        if n_forget:
            keep = ~forget_mask
            x, y = x[keep], y[keep]
        nominal = b if self.partial_batch == "nominal" else x.shape[0]
        self.optimizer.zero_grad()
        loss = self.loss_on(self.net, x, y, nominal, seed)
        loss.backward()
        self.optimizer.step()
        self.steps_taken += 1
