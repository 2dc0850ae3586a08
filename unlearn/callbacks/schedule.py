"""When a tracking event happens: every k steps of the window, and always at its last step."""

from __future__ import annotations

import lightning as L


def window_step(trainer: L.Trainer) -> int:
    """The 1-based window step just completed (call from `on_train_batch_end`)."""
    return int(trainer.global_step)


def is_event(step: int, every: int, total: int) -> bool:
    """True at steps k, 2k, … and at the final step `total`."""
    return step % every == 0 or step == total


def log_to_loggers(trainer: L.Trainer, metrics: dict[str, float], step: int) -> None:
    """Send metrics straight to the loggers, at exactly this step (not log_every_n_steps)."""
    for logger in trainer.loggers:
        logger.log_metrics(metrics, step=step)
