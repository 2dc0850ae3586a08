"""The batch order as a pure function of (seed, epoch): any step can be replayed on its own.

Step s of a stream uses the slice [p·b, (p+1)·b) of the permutation of epoch s // spe,
where p = s % spe and spe is the number of batches per epoch; with ``reshuffle=False``
every epoch uses the permutation of epoch 0 (the reference code's fixed order: the same
batches, at the same positions, every epoch). The last batch of an
epoch is short unless `drop_last`. Pretraining and the window are separate streams
(their own `stream_id`), so that the window may use another batch size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.utils.data import Sampler

from unlearn.runtime.rng import derive_seed


class BatchStream:
    """Sample indices for any step of a seeded, per-epoch reshuffled stream.

    Args:
        num_samples: size of the training set.
        batch_size: nominal batch size b.
        seed: run seed.
        stream_id: separates independent streams of one run (0 pretrain, 1 window).
        drop_last: drop the short last batch of each epoch.
        reshuffle: a new permutation every epoch (False: epoch 0's order every epoch).
    """

    def __init__(
        self,
        num_samples: int,
        batch_size: int,
        seed: int,
        stream_id: int = 0,
        drop_last: bool = False,
        reshuffle: bool = True,
    ) -> None:
        if batch_size < 1 or batch_size > num_samples:
            raise ValueError(
                f"batch_size={batch_size}; allowed: 1 <= batch_size <= {num_samples} "
                "(the training set size)"
            )
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.seed = seed
        self.stream_id = stream_id
        self.drop_last = drop_last
        self.reshuffle = reshuffle
        self._epoch = -1
        self._perm: Tensor | None = None

    @property
    def steps_per_epoch(self) -> int:
        """Batches in one pass over the data."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def permutation(self, epoch: int) -> Tensor:
        """The order of epoch `epoch`: a pure function of (seed, stream_id, epoch)."""
        if not self.reshuffle:
            epoch = 0
        if epoch != self._epoch:
            gen = torch.Generator().manual_seed(derive_seed(self.seed, self.stream_id, epoch))
            self._perm = torch.randperm(self.num_samples, generator=gen)
            self._epoch = epoch
        assert self._perm is not None
        return self._perm

    def indices(self, step: int) -> Tensor:
        """Sample indices of step `step` (0-based)."""
        epoch, pos = divmod(step, self.steps_per_epoch)
        b = self.batch_size
        return self.permutation(epoch)[pos * b : (pos + 1) * b]

    def steps_to_epochs(self, steps: int) -> float:
        """How many epochs `steps` steps are."""
        return steps / self.steps_per_epoch


class StreamSampler(Sampler[list[int]]):
    """A batch sampler yielding steps [start, start + num_steps) of a `BatchStream`.

    A run resumed from a checkpoint taken after `resume_at` of those steps yields only the
    rest; its length stays `num_steps`, because Lightning counts the restored steps in.
    """

    def __init__(self, stream: BatchStream, start: int, num_steps: int, resume_at: int = 0) -> None:
        if not 0 <= resume_at <= num_steps:
            raise ValueError(f"resume_at={resume_at}; allowed: 0 <= resume_at <= {num_steps}")
        self.stream = stream
        self.start = start
        self.num_steps = num_steps
        self.resume_at = resume_at

    def __len__(self) -> int:
        return self.num_steps

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start + self.resume_at, self.start + self.num_steps):
            yield self.stream.indices(step).tolist()
