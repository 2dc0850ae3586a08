"""The Trainer for one phase (pretrain, window, shadow model), with that phase's progress.

Every phase builds its Trainer here so that all of them share `cfg.trainer` (precision,
determinism, device) and show progress the same way (`cfg.progress`).
"""

from __future__ import annotations

import lightning as L
from hydra.utils import instantiate
from omegaconf import DictConfig

from unlearn.callbacks.progress import PhaseBar, progress_callbacks


def make_trainer(
    cfg: DictConfig,
    max_steps: int,
    callbacks: list,
    loggers: list | bool,
    phase: str | None = None,
    start: int = 0,
) -> L.Trainer:
    """A Trainer from `cfg.trainer` for exactly `max_steps` steps of one phase.

    A named `phase` also gets its progress bar or periodic log line (`cfg.progress`);
    ``progress.bar`` decides ``enable_progress_bar``.
    """
    settings = cfg.get("progress") or {}
    shown = (
        progress_callbacks(
            phase, start, settings.get("bar", "auto"), settings.get("log_every_s", 60)
        )
        if phase
        else []
    )
    return instantiate(
        cfg.trainer,
        max_steps=max_steps,
        callbacks=[*callbacks, *shown],
        logger=loggers,
        enable_progress_bar=any(isinstance(c, PhaseBar) for c in shown),
    )
