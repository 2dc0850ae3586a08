"""In-memory data sets whose batches carry their sample indices, and the data module over them.

Every batch is ``(x, y, idx)``: the indices let the forget set be removed from the
twin's stream in place. Batches are gathered with one indexing op (`__getitems__`),
not sample by sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from unlearn.data.stream import BatchStream, StreamSampler


class IndexedArrays(Dataset):
    """Tensors x, y in memory; an item is (x[i], y[i], i)."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        self.x = x
        self.y = y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor, int]:
        return self.x[i], self.y[i], i

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor, Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return self.x[idx], self.y[idx], idx


def _keep_batch(batch: tuple[Tensor, Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
    return batch


class ArrayDataModule(L.LightningDataModule):
    """Base for data sets that fit in memory; subclasses fill `train_set` and `test_set`.

    The training loaders come from `stream_loader`, one per phase, so that pretraining
    and the window replay their own seeded streams (see `BatchStream`).
    """

    num_classes: int = 0

    def __init__(self, test_batch_size: int = 512, reshuffle: bool = True) -> None:
        super().__init__()
        self.test_batch_size = test_batch_size
        self.reshuffle = reshuffle
        self.train_set: IndexedArrays | None = None
        self.test_set: IndexedArrays | None = None

    @property
    def num_train(self) -> int:
        """Training set size (after `setup`)."""
        if self.train_set is None:
            self.setup("fit")
        assert self.train_set is not None
        return len(self.train_set)

    def stream(self, batch_size: int, seed: int, stream_id: int) -> BatchStream:
        """The seeded batch stream of one phase over the training set (`reshuffle`d or not)."""
        return BatchStream(self.num_train, batch_size, seed, stream_id, reshuffle=self.reshuffle)

    def stream_loader(
        self, stream: BatchStream, start: int, num_steps: int, resume_at: int = 0
    ) -> DataLoader:
        """A loader over steps [start, start + num_steps) of `stream`; a run resumed after
        `resume_at` steps gets the rest of them (see `StreamSampler`)."""
        assert self.train_set is not None
        return DataLoader(
            self.train_set,
            batch_sampler=StreamSampler(stream, start, num_steps, resume_at),
            collate_fn=_keep_batch,
        )

    def batch(self, indices: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The training batch with these sample indices, as a loader would give it."""
        assert self.train_set is not None
        return self.train_set.__getitems__(indices.tolist())

    def test_dataloader(self) -> DataLoader:
        assert self.test_set is not None
        return DataLoader(self.test_set, batch_size=self.test_batch_size, collate_fn=_keep_batch)
