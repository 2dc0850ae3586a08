"""W&B for one job: named after its overrides, tagged and grouped by its sweep, resumed
after a crash, finished whatever happens.

The logger (`unlearn.loggers.wandb_logger.WandbLogger`, conf/logger/wandb.yaml) opens the W&B run
lazily, when the first metric is logged, so a config error never leaves files behind, and
streams the curves (training, σ, drift, e, v) as they are measured. Before the job,
`prepare` fills in what the config leaves null:

- ``name``: the job's own overrides, short (``gamma=5,N_epochs=10``; a sweep's shared
  ones left out), ``notes``: all of them;
- ``group``: ``<sweep>/<time>``, the sweep folder's last two parts;
- ``tags``: ``sweep:<name>``, ``method:<unlearn.method>``, ``data:<option>``, ``model:<option>``
  beside the config's own;
- ``id``: a digest of the output folder and the config, with ``resume: allow``, so a job
  rerun after a crash logs into the same W&B run (offline: `wandb sync` appends it).

What only the end knows is added by `finish`: the resolved config, the summary metrics
and a copy of results.json (a file, not a symlink, so a sweep copied off an offline node
syncs whole); a run that failed or diverged before logging gets a W&B run of its own.
Then `wandb.finish()` always runs, so the jobs of a multirun never pile into one run.

Offline mode (the default) needs no account and no network: the files go to
``<output_dir>/wandb/``; ``python -m unlearn.sync SWEEP_DIR`` uploads them all later.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

# WandbLogger arguments that wandb.init does not take (or takes under another name)
_LOGGER_ONLY = ("_target_", "log_model", "prefix", "checkpoint_name", "experiment", "offline")
_LOGGER_ONLY += ("add_file_policy", "anonymous", "save_dir", "version")
NAME_LENGTH = 120  # W&B shows names up to 128 characters
# a sweep's overrides that say where or how it runs, not what a job is
_NOT_IN_NAMES = ("hydra.", "hydra/", "+sweep", "sweep", "logger", "paths.", "progress.")


def fast_settings() -> Any:
    """`wandb.Settings` without what these runs do not use, which costs seconds per init:
    system-metrics sampling, machine and git metadata, console capture, code saving."""
    import wandb

    return wandb.Settings(
        x_disable_stats=True,
        x_disable_meta=True,
        x_disable_machine_info=True,
        x_save_requirements=False,
        console="off",
        disable_git=True,
        disable_code=True,
        save_code=False,
        disable_job_creation=True,
    )


def warm_up(cfg: DictConfig) -> None:
    """Import what `wandb.init` imports, before torch, when the job will use W&B: W&B
    builds its pydantic models (docstrings read from source) as it imports them, which
    takes seconds once torch and Lightning fill `sys.modules` and about one second before
    (docs/running.md). Called by the preflight, once the config is known to be good."""
    if enabled(cfg) and "torch" not in sys.modules and "wandb" not in sys.modules:
        os.environ.setdefault("WANDB_SILENT", "true")
        import wandb.apis.public  # noqa: F401  (what wandb.init imports: ~300 modules)
        import wandb.sdk.launch.inputs.internal  # noqa: F401
        import wandb.sdk.wandb_init  # noqa: F401

        fast_settings()


def define_metrics(run: Any) -> None:
    """Each phase's curve against its own step (``pretrain/step``, ``window/step``)."""
    for phase in ("pretrain", "window"):
        run.define_metric(f"{phase}/step")
        run.define_metric(f"{phase}/*", step_metric=f"{phase}/step")


def enabled(cfg: DictConfig) -> bool:
    """True when the config logs to W&B (``logger=wandb``)."""
    target = OmegaConf.select(cfg, "logger.wandb._target_", default=None)
    return isinstance(target, str) and target.endswith("WandbLogger")


def group_name(multirun: bool, sweep: str | None, sweep_dir: str | None) -> str | None:
    """A multirun's W&B group: ``<sweep>/<time>``, the last two parts of its sweep folder."""
    if not multirun:
        return None
    if not sweep_dir:
        return sweep or "multirun"
    parts = Path(sweep_dir).parts[-2:]
    text = "/".join(parts)
    return text if sweep is None or sweep in text else f"{sweep}/{parts[-1]}"


def run_name(overrides: tuple[str, ...] | list[str]) -> str | None:
    """A job's name from what makes it this job: ``cifar10_resnet18,gamma=5,N_epochs=10``."""
    parts = []
    for o in overrides:
        key, _, value = o.partition("=")
        key = key.lstrip("+~")
        if not value or key.startswith(_NOT_IN_NAMES) or key in ("sweep", "logger"):
            continue
        parts.append(value if key == "experiment" else f"{key}={value}")
    name = ",".join(parts)
    return name[:NAME_LENGTH] or None


def run_tags(cfg: DictConfig, sweep: str | None, choices: Mapping[str, str]) -> list[str]:
    """``sweep:``, ``method:``, ``data:`` and ``model:`` tags (group options where known)."""
    method = OmegaConf.select(cfg, "unlearn.method", default=None)
    data = choices.get("data") or OmegaConf.select(cfg, "data.dataset", default=None)
    data = data or _target_name(cfg, "data")
    model = choices.get("model") or _target_name(cfg, "model")
    tags = [f"sweep:{sweep}" if sweep else None, f"method:{method}" if method else None]
    tags += [f"data:{data}" if data else None, f"model:{model}" if model else None]
    return [t[:64] for t in tags if t]  # W&B caps a tag at 64 characters


def _target_name(cfg: DictConfig, key: str) -> str | None:
    target = OmegaConf.select(cfg, f"{key}._target_", default=None)
    name = str(target).rsplit(".", 1)[-1].lower() if target else ""
    return name.removesuffix("datamodule") or None


def run_id(cfg: DictConfig, identity: str) -> str:
    """A W&B run id that a rerun of the same job (same folder, same config) finds again;
    `identity` is the config's digest ("" when it does not resolve: the folder alone)."""
    where = str(Path(str(cfg.paths.output_dir)).resolve())
    return hashlib.sha256(f"{where}|{identity}".encode()).hexdigest()[:16]


def prepare(
    cfg: DictConfig,
    *,
    identity: str,
    multirun: bool = False,
    sweep: str | None = None,
    sweep_dir: str | None = None,
    job_num: int | None = None,
    overrides: Sequence[str] = (),
    choices: Mapping[str, str] | None = None,
) -> None:
    """Name, group, tag and id the job's W&B run, where the config leaves them null.

    Takes the job's facts as plain values (the experiment layer passes them), so the
    loggers never import the experiment's classes.
    """
    if not enabled(cfg):
        return
    os.environ.setdefault("WANDB_SILENT", "true")
    with open_dict(cfg):
        node = cfg.logger.wandb
        if node.get("group") is None:
            node.group = group_name(multirun, sweep, sweep_dir)
        if node.get("name") is None and multirun:
            node.name = run_name(overrides) or f"{sweep or 'job'}-{job_num}"
        if node.get("notes") is None and overrides:
            node.notes = " ".join(overrides)
        tags = run_tags(cfg, sweep, choices or {})
        node.tags = [*node.get("tags", []), *(t for t in tags if t not in node.tags)]
        if node.get("id") is None:
            node.id = run_id(cfg, identity)


def init_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """`wandb.init` arguments equivalent to the WandbLogger's config."""
    node = OmegaConf.to_container(cfg.logger.wandb, resolve=True)
    assert isinstance(node, dict)
    kwargs = {k: v for k, v in node.items() if k not in _LOGGER_ONLY}
    kwargs["dir"] = node.get("save_dir") or node.get("dir") or cfg.paths.output_dir
    if node.get("version"):
        kwargs["id"] = node["version"]
    kwargs["settings"] = fast_settings()
    Path(kwargs["dir"]).mkdir(parents=True, exist_ok=True)
    return kwargs


def copy_into(run: Any, path: Path, name: str | None = None) -> None:
    """Put a copy of `path` among the run's files (W&B's own `save` makes a symlink, which
    breaks when a sweep is copied off an offline node to sync elsewhere)."""
    target = Path(run.dir) / (name or path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)


def summary_metrics(results: dict[str, Any]) -> dict[str, Any]:
    """The scalar entries of results.json, plus v/v_none, η·σ_avg and the model and data
    names, for the W&B summary (what the dashboard's scatter and parallel plots read)."""
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
    config = results.get("config") if isinstance(results.get("config"), dict) else {}
    for group in ("model", "data"):  # short names, for the dashboard's parallel coordinates
        node = config.get(group)
        if isinstance(node, dict) and node.get("_target_") and group not in out:
            name = str(node.get("dataset") or node["_target_"]).rsplit(".", 1)[-1].lower()
            out[group] = name.removesuffix("datamodule")
    for name, row in (results.get("methods") or {}).items():  # unlearn.compare: per method
        scalars = {k: x for k, x in row.items() if isinstance(x, int | float | str)}
        out |= {f"methods/{name}/{k}": x for k, x in scalars.items()}
    if results.get("status") == "ok":
        from unlearn.metrics.verdict import verdict_metrics  # here: metrics imports torch

        out |= verdict_metrics(results)  # what the printed verdict says (verdict/*)
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
                copy_into(run, out_dir / "results.json")
    except Exception:  # noqa: BLE001
        log.exception("W&B: could not record the job's summary")
    finally:
        if wandb.run is not None:
            wandb.finish(exit_code=0 if status == "ok" else 1)
