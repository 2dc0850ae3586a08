"""Forget sets: which training samples are unlearned (and removed from the twin's stream)."""

from __future__ import annotations

import torch
from torch import Tensor


class ForgetSet:
    """Resolves to the sample indices to forget, once the window's first batch is known."""

    def resolve(self, first_batch: Tensor, num_train: int) -> Tensor:  # noqa: ARG002
        """Indices (1-d long tensor) of the forgotten samples."""
        raise NotImplementedError


class FirstBatch(ForgetSet):
    """The first batch of the window, x̂_1, as in the paper (§8.3)."""

    def resolve(self, first_batch: Tensor, num_train: int) -> Tensor:  # noqa: ARG002
        return first_batch.clone()


class NoForget(ForgetSet):
    """Nothing: the twin must then equal the main model bit for bit (the noise floor)."""

    def resolve(self, first_batch: Tensor, num_train: int) -> Tensor:  # noqa: ARG002
        return torch.empty(0, dtype=torch.long, device=first_batch.device)
