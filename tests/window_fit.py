"""Helpers for the exact tests: one float64 window through the real Trainer, and the
closed-form least-squares pieces the tests compare it with. Not collected by pytest."""

from __future__ import annotations

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from unlearn.data.arrays import IndexedArrays
from unlearn.data.stream import BatchStream, StreamSampler


def fit_window(
    module: L.LightningModule,
    x: Tensor,
    y: Tensor,
    t: int,
    callbacks: list,
    batch_size: int,
    reshuffle: bool = True,
    precision: str = "64-true",
) -> BatchStream:
    """Train `module` for t window steps (stream 1, seed 0) in float64; return the stream."""
    module.begin_phase(1)
    stream = BatchStream(len(x), batch_size, seed=0, stream_id=1, reshuffle=reshuffle)
    loader = DataLoader(
        IndexedArrays(x, y), batch_sampler=StreamSampler(stream, 0, t), collate_fn=lambda b: b
    )
    L.Trainer(
        max_steps=t,
        max_epochs=1,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        precision=precision,
    ).fit(module, loader)
    return stream


def as_matrix(linear: nn.Linear) -> Tensor:
    """[W | c]: a linear layer's weight and bias as one matrix."""
    return torch.cat([linear.weight.detach(), linear.bias.detach()[:, None]], 1)


def ls_grad(W: Tensor, X: Tensor, Y: Tensor) -> Tensor:
    """Σ_i ∇_W ‖W x̃_i − y_i‖² with x̃ = [x, 1] (weight and bias as one matrix)."""
    Xa = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    return 2.0 * (Xa @ W.T - Y).T @ Xa
