"""Fixed random subsets of a data set, for quick runs (`data.train_subset`, `data.test_subset`).

The subset depends on its own seed, not the run seed, so that runs with different seeds
train on the same data and the pretrain cache sees the same content.
"""

from __future__ import annotations

import numpy as np
import torch


def subset_indices(n: int, size: int | None, seed: int) -> np.ndarray | None:
    """A fixed random subset of `size` of range(n), ascending (None: keep all)."""
    if size is None or size >= n:
        return None
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return np.sort(perm[:size].numpy())
