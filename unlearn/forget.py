"""Forget sets: which training samples are unlearned, and removed from the twin's stream.

`forget=` in the config picks one (`first_batch`, `none`, `indices`, `random`, `class`).
Each resolves to sample indices once the window's first batch and the training labels
are known; `check` rejects a set that cannot exist before any step is taken. Every
unlearning method and the twin then work from the same resolved indices.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torch import Tensor

from unlearn.config.checks import ConfigError
from unlearn.runtime.rng import derive_seed

FORGET_STREAM = 3  # seeds `forget=random`, apart from the pretrain (0) and window (1) streams


class ForgetSet:
    """Resolves to the sample indices to forget (sorted, unique, 1-d long)."""

    name = "custom"

    def check(self, labels: Tensor) -> None:  # noqa: B027 (optional hook)
        """Raise `ConfigError` if the set cannot be drawn from a training set with `labels`."""

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:
        """Indices of the forgotten samples, given the window's first batch and train labels."""
        raise NotImplementedError


class FirstBatch(ForgetSet):
    """The first batch of the window, x̂_1, as in the paper (§8.3)."""

    name = "first_batch"

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:  # noqa: ARG002
        return first_batch.unique()


class NoForget(ForgetSet):
    """Nothing: the twin must then equal the main model bit for bit (the noise floor)."""

    name = "none"

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:  # noqa: ARG002
        return torch.empty(0, dtype=torch.long, device=first_batch.device)


class Indices(ForgetSet):
    """Exactly these training-set indices: ``forget=indices forget.indices=[3,17,42]``."""

    name = "indices"

    def __init__(self, indices: Sequence[int] = ()) -> None:
        self.indices = [int(i) for i in indices]

    def check(self, labels: Tensor) -> None:
        n = len(labels)
        bad = [i for i in self.indices if not 0 <= i < n]
        if not self.indices or bad:
            shown = bad[:5] if bad else self.indices
            raise ConfigError(
                f"forget.indices={shown}: allowed a non-empty list of indices in [0, {n - 1}] "
                "(forget=none forgets nothing)"
            )

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:  # noqa: ARG002
        return torch.tensor(self.indices, dtype=torch.long, device=first_batch.device).unique()


class RandomK(ForgetSet):
    """k samples drawn uniformly without replacement, seeded by (seed, FORGET_STREAM)."""

    name = "random"

    def __init__(self, k: int = 8, seed: int = 0) -> None:
        self.k = int(k)
        self.seed = int(seed)

    def check(self, labels: Tensor) -> None:
        if not 1 <= self.k <= len(labels):
            raise ConfigError(
                f"forget.k={self.k}: allowed 1 <= k <= {len(labels)} (the training set size)"
            )

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:
        gen = torch.Generator().manual_seed(derive_seed(self.seed, FORGET_STREAM))
        chosen = torch.randperm(len(labels), generator=gen)[: self.k]
        return chosen.sort().values.to(first_batch.device)


class ClassLabel(ForgetSet):
    """Every training sample of one label: ``forget=class forget.label=3``."""

    name = "class"

    def __init__(self, label: int = 0) -> None:
        self.label = int(label)

    def check(self, labels: Tensor) -> None:
        if not bool((labels == self.label).any()):
            present = sorted(set(labels.tolist()))
            raise ConfigError(
                f"forget.label={self.label}: allowed a label with training samples "
                f"({present[0]}..{present[-1]})"
            )

    def resolve(self, first_batch: Tensor, labels: Tensor) -> Tensor:
        return (labels == self.label).nonzero().flatten().to(first_batch.device)


def check_forget(node: DictConfig, labels: Tensor) -> None:
    """Build the configured forget set and check it against the training labels."""
    forget = instantiate(node)
    if not isinstance(forget, ForgetSet):
        raise ConfigError(f"forget._target_={node.get('_target_')!r}: allowed a ForgetSet")
    forget.check(labels)
