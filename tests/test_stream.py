"""The data order is a pure function of (seed, stream, epoch)."""

import torch

from unlearn.data.stream import BatchStream


def test_each_epoch_is_a_permutation_and_replayable():
    s = BatchStream(10, 3, seed=7, stream_id=1)
    assert s.steps_per_epoch == 4
    epoch0 = torch.cat([s.indices(i) for i in range(4)])
    assert sorted(epoch0.tolist()) == list(range(10))
    assert len(s.indices(3)) == 1  # the short last batch
    later = s.indices(9).clone()
    fresh = BatchStream(10, 3, seed=7, stream_id=1)
    assert torch.equal(fresh.indices(9), later)  # no history needed
    assert not torch.equal(s.permutation(0), s.permutation(1))
    assert not torch.equal(BatchStream(10, 3, 8, 1).permutation(0), s.permutation(0))
    assert not torch.equal(BatchStream(10, 3, 7, 0).permutation(0), s.permutation(0))
