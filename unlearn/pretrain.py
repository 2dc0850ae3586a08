"""Pretraining M_0 → M_N: the phase before the window, on its own seeded stream."""

from __future__ import annotations

from typing import Any

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig

from unlearn.data.arrays import ArrayDataModule
from unlearn.data.stream import BatchStream
from unlearn.module import UnlearnModule

PRETRAIN_STREAM, WINDOW_STREAM = 0, 1


def make_trainer(
    cfg: DictConfig, max_steps: int, callbacks: list, loggers: list | bool
) -> L.Trainer:
    """A Trainer from `cfg.trainer` for exactly `max_steps` steps of one phase."""
    return instantiate(cfg.trainer, max_steps=max_steps, callbacks=callbacks, logger=loggers)


def pretrain(
    cfg: DictConfig, module: UnlearnModule, data: ArrayDataModule, stream: BatchStream, N: int
) -> dict[str, Any]:
    """Train `module` for steps [0, N) of `stream`; returns facts for results.json."""
    if N > 0:
        module.begin_phase(PRETRAIN_STREAM)
        make_trainer(cfg, N, [], False).fit(module, data.stream_loader(stream, 0, N))
    return {}
