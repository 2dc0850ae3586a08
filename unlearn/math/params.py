"""Parameter snapshots and distances: what "the weights" means (docs/quantities.md: trainable
parameters, BatchNorm affine included, running buffers excluded)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def trainable(net: nn.Module) -> dict[str, Tensor]:
    """Named trainable parameters, in registration order."""
    return {n: p for n, p in net.named_parameters() if p.requires_grad}


def snapshot(net: nn.Module) -> dict[str, Tensor]:
    """Detached copies of the trainable parameters."""
    return {n: p.detach().clone() for n, p in trainable(net).items()}


def buffers_copy(net: nn.Module) -> dict[str, Tensor]:
    """Copies of the buffers, so that a probe forward cannot move BatchNorm statistics."""
    return {n: b.clone() for n, b in net.named_buffers()}


def distance(a: list[Tensor], b: list[Tensor]) -> Tensor:
    """‖a − b‖₂ over the flattened tensors, as a 0-d tensor (no device sync)."""
    with torch.no_grad():
        diffs = torch._foreach_sub(list(a), list(b))
        return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(diffs)))


def norm(a: list[Tensor]) -> Tensor:
    """‖a‖₂ over the flattened tensors, as a 0-d tensor."""
    with torch.no_grad():
        return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(list(a))))
