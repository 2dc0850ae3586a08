"""Batch statistics over the kept samples only: the twin's batch without its forgotten rows.

The twin runs the whole batch, so that every kept sample sees exactly the dropout mask
(and, for text, the padding and attention mask) it saw in the main model's step; the
forgotten rows get zero weight in the loss. Only layers that couple the rows of a batch
could still let them in: BatchNorm in training mode. Inside `kept_batch_statistics`
every such layer normalises, and updates its running statistics, over the kept rows
alone (its own forward on ``x[keep]``, bit for bit what a batch of only those rows
would do), and hands zeros on for the forgotten rows, which nothing downstream may read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm


def _batch_coupled(net: nn.Module) -> list[nn.Module]:
    """The layers whose output for one row depends on the other rows of the batch."""
    return [
        m
        for m in net.modules()
        if isinstance(m, _BatchNorm) and (m.training or not m.track_running_stats)
    ]


def _on_kept_rows(forward: Callable[[Tensor], Tensor], rows: Tensor) -> Callable[[Tensor], Tensor]:
    def masked(x: Tensor) -> Tensor:
        kept = forward(x[rows])
        out = kept.new_zeros((x.shape[0], *kept.shape[1:]))  # the layer's dtype (autocast)
        out[rows] = kept
        return out

    return masked


@contextlib.contextmanager
def kept_batch_statistics(net: nn.Module, keep: Tensor | None) -> Iterator[None]:
    """Within the scope, `net`'s batch-coupled layers see only the rows where `keep` is True.

    Args:
        net: the model (its train/eval mode is left as it is).
        keep: boolean mask over the batch's rows; None leaves the model untouched.
    """
    layers = _batch_coupled(net) if keep is not None else []
    if not layers:
        yield
        return
    assert keep is not None
    rows = keep.nonzero().squeeze(1)
    for m in layers:
        m.forward = _on_kept_rows(type(m).forward.__get__(m), rows)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for m in layers:
            del m.forward
