"""Lightning's W&B logger, as this project configures it (conf/logger/wandb.yaml's target).

Its own module so that `unlearn.loggers.wandb_run`, which every job imports, needs no Lightning:
`--help`, config errors and dry runs start in a second. On top of Lightning's logger:

- no ``anonymous=None`` argument, about which W&B prints a deprecation warning per run;
- `wandb.Settings` that skip what a run of this framework does not use (system stats,
  console capture, git and code saving): `unlearn.loggers.wandb_run.fast_settings`;
- each phase's metrics on their own step axis (``pretrain/*`` against ``pretrain/step``,
  ``window/*`` and the window's σ, drift, e and v against ``window/step``), so the W&B
  dashboard plots training beside the window's quantities.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger

from unlearn.loggers.wandb_run import define_metrics, fast_settings


class WandbLogger(LightningWandbLogger):
    """Lightning's `WandbLogger` with fast settings and per-phase step axes (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)
        self._wandb_init.setdefault("settings", fast_settings())

    @property
    def experiment(self) -> Any:
        fresh = self._experiment is None
        run = super().experiment
        if fresh and run is not None and hasattr(run, "define_metric"):
            define_metrics(run)
        return run
