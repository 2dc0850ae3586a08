"""W&B for one job: named after the job, grouped by its sweep, finished whatever happens.

Lightning's `WandbLogger` (conf/logger/wandb.yaml) opens the W&B run lazily, when the
window starts logging, so a config error never leaves files behind, and streams the
curves (σ, drift, e, v) as they are measured. What only the end knows is added here:
the resolved config, the summary metrics and results.json; a run that failed or
diverged before the window gets a W&B run of its own that records its status. Then
`wandb.finish()` always runs, so the jobs of a multirun never pile into one W&B run.

Offline mode (the default) needs no account and no network: the files go to
``<output_dir>/wandb/``, and ``wandb sync <output_dir>/wandb/offline-run-*`` uploads later.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from omegaconf import DictConfig, OmegaConf, open_dict

if TYPE_CHECKING:
    from unlearn.job import JobContext

log = logging.getLogger(__name__)

# WandbLogger arguments that wandb.init does not take (or takes under another name)
_LOGGER_ONLY = ("_target_", "log_model", "prefix", "checkpoint_name", "experiment", "offline")
_LOGGER_ONLY += ("add_file_policy", "anonymous", "save_dir", "version")


class WandbLogger(LightningWandbLogger):
    """Lightning's W&B logger without its ``anonymous=None`` argument, about which W&B
    prints a deprecation warning at the top of every run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)


def enabled(cfg: DictConfig) -> bool:
    """True when the config logs to W&B (``logger=wandb``)."""
    target = OmegaConf.select(cfg, "logger.wandb._target_", default=None)
    return isinstance(target, str) and target.endswith("WandbLogger")


def group_name(ctx: JobContext) -> str | None:
    """A multirun's W&B group: its sweep folder, which names the sweep and when it ran."""
    if not ctx.multirun:
        return None
    text = str(ctx.sweep_dir or ctx.sweep or "multirun")
    return text if ctx.sweep is None or ctx.sweep in text else f"{ctx.sweep}:{text}"


def prepare(cfg: DictConfig, ctx: JobContext) -> None:
    """Name the W&B run after its job and group it by its sweep, unless the config does."""
    if not enabled(cfg):
        return
    os.environ.setdefault("WANDB_SILENT", "true")
    with open_dict(cfg):
        node = cfg.logger.wandb
        if node.get("group") is None:
            node.group = group_name(ctx)
        if node.get("name") is None and ctx.multirun:
            node.name = f"{ctx.sweep or 'job'}-{ctx.job_num}"
        if node.get("notes") is None and ctx.overrides:
            node.notes = " ".join(ctx.overrides)


def init_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """`wandb.init` arguments equivalent to the WandbLogger's config."""
    node = OmegaConf.to_container(cfg.logger.wandb, resolve=True)
    assert isinstance(node, dict)
    kwargs = {k: v for k, v in node.items() if k not in _LOGGER_ONLY}
    kwargs["dir"] = node.get("save_dir") or node.get("dir") or cfg.paths.output_dir
    if node.get("version"):
        kwargs["id"] = node["version"]
    Path(kwargs["dir"]).mkdir(parents=True, exist_ok=True)
    return kwargs


def summary_metrics(results: dict[str, Any]) -> dict[str, Any]:
    """The scalar entries of results.json, plus v/v_none and η·σ_avg, for the W&B summary."""
    out = {
        k: v
        for k, v in results.items()
        if isinstance(v, int | float | str | bool) and k not in ("traceback", "config_hash")
    }
    v, v_none = results.get("verification_error"), results.get("verification_error_no_unlearning")
    if isinstance(v, float) and isinstance(v_none, float) and v_none:
        out["v_ratio"] = v / v_none
    lr, sigma = results.get("lr"), results.get("sigma_avg")
    if isinstance(lr, float) and isinstance(sigma, float):
        out["lr_sigma"] = lr * sigma
    return {k: v for k, v in out.items() if not (isinstance(v, float) and math.isinf(v))}


def finish(cfg: DictConfig, results: dict[str, Any] | None) -> None:
    """Add the config, summary and results.json to this job's W&B run, then finish it.

    `results` is None when the job was interrupted. Never raises: W&B trouble must not
    turn a finished measurement into a failed job.
    """
    if "wandb" not in sys.modules and not enabled(cfg):
        return
    import wandb

    status = (results or {}).get("status", "interrupted")
    try:
        run = wandb.run
        if run is None and enabled(cfg) and status in ("failed", "diverged"):
            run = wandb.init(**init_kwargs(cfg))
        if run is not None and results is not None:
            run.config.update(results.get("config") or {}, allow_val_change=True)
            run.summary.update(summary_metrics(results))
            out_dir = Path(cfg.paths.output_dir)
            if (out_dir / "results.json").exists():
                run.save(str(out_dir / "results.json"), base_path=str(out_dir), policy="now")
    except Exception:  # noqa: BLE001
        log.exception("W&B: could not record the job's summary")
    finally:
        if wandb.run is not None:
            wandb.finish(exit_code=0 if status == "ok" else 1)
