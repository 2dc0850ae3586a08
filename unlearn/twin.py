"""The verification twin M' (§8.3): a copy of the model that replays the main model's
batches with the forgotten samples removed in place, in lock-step with it.

Every kept sample sees exactly what it saw in the main model's step: the twin runs the
whole batch with the step's seed (the same dropout masks, padding and attention masks)
and gives the forgotten samples zero weight; BatchNorm layers take their statistics
over the kept samples only (`unlearn.math.kept_batch`). A batch that loses some samples
keeps its nominal normalisation by default (`partial_batch="nominal"`: the sum over kept
samples divided by b_s), so that twin and single-gradient update differ by second-order
terms only; `partial_batch="mean"` averages over the kept samples instead.

A batch that loses every sample removes only the data term: the optimiser still steps
on a zero gradient, so that weight decay and momentum act as in the main model's step
(for plain SGD that step leaves the weights as they are).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor, nn

from unlearn.math.kept_batch import kept_batch_statistics

PartialBatch = Literal["nominal", "mean"]
LossOn = Callable[..., Tensor]  # loss_on(net, x, y, nominal_size, seed, mask=None)


class LockstepTwin:
    """Holds M' and its optimiser: the main optimiser's class, settings and state.

    Args:
        net: the main model at the start of the window (copied, not shared).
        optimizer: the main model's optimiser; its class, `param_groups` and state (a
            momentum buffer carried over from pretraining) are copied.
        loss_on: ``loss_on(net, x, y, nominal_size, seed, mask) -> loss``, the main
            step's loss over the samples where `mask` is True (all when None).
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
        # a deep copy: loading a state dict keeps tensors of the right dtype and device as
        # they are, which would share the main model's momentum buffer
        self.optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        self.loss_on = loss_on
        self.partial_batch = partial_batch
        self.steps_taken = 0
        self.steps_skipped = 0

    def step(self, x: Tensor, y: Tensor, forget_mask: Tensor, n_forget: int, seed: int) -> None:
        """One step on the batch without its forgotten samples (`n_forget` of them)."""
        b = x.shape[0]
        if n_forget == b:
            self._data_free_step()
            self.steps_skipped += 1
            return
        keep = ~forget_mask if n_forget else None
        nominal = b if self.partial_batch == "nominal" else b - n_forget
        self.optimizer.zero_grad()
        with kept_batch_statistics(self.net, keep):
            loss = self.loss_on(self.net, x, y, nominal, seed, keep)
        loss.backward()
        self.optimizer.step()
        self.steps_taken += 1

    def _data_free_step(self) -> None:
        """The step without any data: weight decay and momentum only."""
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = torch.zeros_like(p)
        self.optimizer.step()
