"""Pretraining M_0 → M_N: the phase before the window, on its own seeded stream, through the cache.

Step s of pretraining sees the batch `stream.indices(s)` and the step seed (seed, 0, s),
whatever step the phase started at. So pretraining from a cached M_k over steps k … N−1
gives the same M_N, bit for bit on CPU, as pretraining from M_0 (the optimiser's state
is cached too, for optimisers that have one). `pretrain.*` in the config:

    cache: true                 # use and fill the cache in paths.cache_dir
    save_every_epochs: null     # also keep M at every k epochs on the way to N
    save_at_epochs: []          # ... and at these epochs (the N grid of a sweep)
    save_every_minutes: 5       # a resumable entry every 5 minutes of work (null: none)

The periodic entry is replaced by the next one (one on disk at a time), so a killed
pretraining loses minutes, not hours; a SIGTERM or SIGINT saves an entry at the step it
stops at (`unlearn.runtime.interrupt`). An entry that loads but does not fit the model or the
optimiser (another architecture under a forged key) is deleted and rebuilt.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from typing_extensions import override

from unlearn.callbacks.stop_on_signal import StopOnSignal
from unlearn.callbacks.trainer import make_trainer
from unlearn.callbacks.training_curve import TrainingCurve, log_rows
from unlearn.config.checks import ConfigError
from unlearn.config.errors import EnvironmentProblem
from unlearn.data.arrays import ArrayDataModule
from unlearn.data.stream import BatchStream
from unlearn.experiment.cache import PretrainCache
from unlearn.experiment.fingerprint import mismatch, probe_batch
from unlearn.module import UnlearnModule
from unlearn.runtime import interrupt
from unlearn.runtime.rng import PRETRAIN_STREAM
from unlearn.runtime.store import trajectory_material

log = logging.getLogger(__name__)


def curve_settings(cfg: DictConfig) -> tuple[int | None, int | None]:
    """(every, test_every) of `cfg.curves`: None where the config turns them off."""
    node = cfg.get("curves") or {}
    return node.get("every"), node.get("test_every")


def check_accelerator(cfg: DictConfig) -> None:
    """A GPU trainer on a machine without one is a config error, not a Lightning traceback."""
    accelerator = str(cfg.trainer.accelerator)
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise EnvironmentProblem(
            f"trainer.accelerator={accelerator!r}: no CUDA GPU on this machine; "
            "allowed trainer=cpu (or trainer.accelerator=auto)"
        )


def save_steps(settings: Any, steps_per_epoch: int, start: int, stop: int) -> set[int]:
    """Steps in (start, stop] at which pretraining leaves a checkpoint: stop, and the
    `save_every_epochs` / `save_at_epochs` points (rounded as `N_epochs` is)."""
    epochs: list[float] = list(settings.get("save_at_epochs") or [])
    every = settings.get("save_every_epochs")
    if every:
        epochs += [k * every for k in range(1, int(stop / (every * steps_per_epoch)) + 1)]
    steps = {int(round(float(e) * steps_per_epoch)) for e in epochs} | {stop}
    return {s for s in steps if start < s <= stop}


def _check_writable(directory: Path, root: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        writable = os.access(directory, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        raise ConfigError(
            f"paths.cache_dir={root!r}: cannot write there; "
            "allowed a writable folder (or UNLEARN_CACHE=PATH), or pretrain.cache=false"
        )


class SaveToCache(L.Callback):
    """Writes a cache entry after each of `steps` (stream steps, counted from 0), and a
    periodic one after every `every_seconds` of work, which replaces the previous one."""

    def __init__(
        self,
        cache: PretrainCache,
        start: int,
        steps: set[int],
        every_seconds: float | None = None,
        curve: TrainingCurve | None = None,
    ) -> None:
        self.cache = cache
        self.start = start
        self.steps = steps
        self.every_seconds = every_seconds
        self.last_save = time.perf_counter()
        self.saved: int | None = None
        self.curve = curve

    @override
    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any
    ) -> None:
        step = self.start + trainer.global_step
        due = self.every_seconds and time.perf_counter() - self.last_save >= self.every_seconds
        if step in self.steps or due:
            self.save_at(trainer, step)

    def save_at(self, trainer: L.Trainer, step: int) -> str:
        """Save the entry at `step` (unless saved already); drop the older periodic ones."""
        if self.saved != step:
            self.cache.save(step, trainer.lightning_module.net, trainer.optimizers[0])
            if self.curve is not None:  # the curve so far, so that a cache hit still shows it
                self.cache.save_curve(step, self.curve.rows)
            self.saved = step
            self.last_save = time.perf_counter()
            for old in self.cache.steps():  # periodic entries of this run, now superseded
                if self.start < old < step and old not in self.steps:
                    self.cache.discard(old)
        return f"pretrain cache entry at step {step}"


class RestoreOptimizer(L.Callback):
    """Loads a cached optimiser state when the phase starts (momentum buffers and the like)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    @override
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.optimizers[0].load_state_dict(self.state)


def _train(
    cfg: DictConfig,
    module: UnlearnModule,
    data: ArrayDataModule,
    stream: BatchStream,
    start: int,
    stop: int,
    callbacks: list,
    loggers: list | bool = False,
) -> dict[str, Any]:
    """Train steps [start, stop) of `stream`; returns the optimiser's state after them."""
    module.begin_phase(PRETRAIN_STREAM, start)
    saver = next((c for c in callbacks if isinstance(c, SaveToCache)), None)
    stop_cb = StopOnSignal("pretraining", stop, start, saver.save_at if saver else None)
    trainer = make_trainer(cfg, stop - start, [*callbacks, stop_cb], loggers, "pretrain", start)
    with interrupt.deferred():  # a signal stops at the end of a step, after saving it
        trainer.fit(module, data.stream_loader(stream, start, stop - start))
    interrupt.check()
    return trainer.optimizers[0].state_dict()


def _usable_prefix(
    cfg: DictConfig, module: UnlearnModule, cache: PretrainCache, N: int
) -> tuple[int, dict[str, Any] | None]:
    """The longest cached prefix whose weights and optimiser state fit this model, loaded
    into `module.net`; an entry that does not fit is deleted (it will be rebuilt)."""
    initial = copy.deepcopy(module.net.state_dict())
    while True:
        start, entry = cache.longest_prefix(N)
        if entry is None:
            return 0, None
        try:
            module.net.load_state_dict(entry["net"])
            probe = instantiate(cfg.optimizer)(module.net.parameters())
            probe.load_state_dict(entry["optimizer"])
            for param in module.net.parameters():
                for value in probe.state.get(param, {}).values():
                    if (
                        isinstance(value, torch.Tensor)
                        and value.ndim
                        and value.shape != param.shape
                    ):
                        raise ValueError(f"optimiser state of shape {tuple(value.shape)}")
        except Exception as err:  # noqa: BLE001 (any misfit: rebuild, never fail the run)
            log.warning(
                "cache entry at step %d does not fit this model (%s); rebuilding", start, err
            )
            module.net.load_state_dict(initial)
            cache.discard(start)
            continue
        reason = mismatch(entry, module.net, cache.probe) if cache.probe is not None else None
        if reason is None:
            return start, entry
        log.warning(  # edited or corrupt behind a valid sidecar: a miss, never used
            "cache entry at step %d fails its check (%s); treated as a miss and rebuilt",
            start,
            reason,
        )
        module.net.load_state_dict(initial)
        cache.discard(start)


def _curve(
    cfg: DictConfig, data: ArrayDataModule, stream: BatchStream, start: int, rows: list
) -> list[TrainingCurve]:
    """The pretraining curve's callback (none when `curves.every` is null)."""
    every, test_every = curve_settings(cfg)
    if not every:
        return []
    test_every = test_every or stream.steps_per_epoch  # default: once per epoch
    return [TrainingCurve("pretrain", every, start, data.test_dataloader(), test_every, True, rows)]


def pretrain(
    cfg: DictConfig,
    module: UnlearnModule,
    data: ArrayDataModule,
    stream: BatchStream,
    N: int,
    loggers: list | None = None,
) -> dict[str, Any]:
    """Bring `module` to M_N: from the cache, from its longest cached prefix, or from M_0.

    Returns facts for results.json: ``pretrain_cache`` is ``"hit"``, ``"prefix:<k>"`` (k
    steps reused), ``"miss"``, or ``"off"`` (cache disabled, or N = 0: nothing to train);
    ``pretrain_curve``, the training curve's rows (a cache hit's come from the cache and
    are sent to `loggers` as well). The optimiser's state at M_N (a momentum buffer, say)
    is left in ``module.optimizer_state``, for the window to continue (docs/fidelity.md).
    """
    check_accelerator(cfg)
    settings = cfg.get("pretrain") or {}
    loggers = loggers or []
    if N == 0:
        log.info("pretraining: N = 0 steps, nothing to train")
        return {"pretrain_cache": "off", "pretrain_curve": []}
    if not settings.get("cache", True):
        log.info("pretraining %d steps (cache off)", N)
        curve = _curve(cfg, data, stream, 0, [])
        module.optimizer_state = _train(cfg, module, data, stream, 0, N, curve, loggers)
        return {"pretrain_cache": "off", "pretrain_curve": curve[0].rows if curve else []}
    assert data.train_set is not None
    material = trajectory_material(cfg, data.train_set.x, data.train_set.y)
    cache = PretrainCache(cfg.paths.cache_dir, material, probe_batch(data.train_set.x))
    _check_writable(cache.dir, str(cfg.paths.cache_dir))
    with cache.lock():
        start, entry = _usable_prefix(cfg, module, cache, N)
        callbacks: list[L.Callback] = []
        rows = cache.load_curve(start) if entry is not None else []
        if entry is not None:
            callbacks.append(RestoreOptimizer(entry["optimizer"]))
            module.optimizer_state = entry["optimizer"]
        if start == N:
            log.info("pretraining: cache hit, M_%d loaded (cache key %s)", N, cache.key[:12])
            if curve_settings(cfg)[0]:
                log_rows(loggers, "pretrain", rows)
        else:
            if start:
                log.info("pretraining %d steps: cached M_%d loaded, from step %d", N, start, start)
                log_rows(loggers, "pretrain", rows)
            else:
                log.info("pretraining %d steps (cache miss, key %s)", N, cache.key[:12])
            curve = _curve(cfg, data, stream, start, rows)
            saves = save_steps(settings, stream.steps_per_epoch, start, N)
            minutes = settings.get("save_every_minutes")
            saver = SaveToCache(
                cache,
                start,
                saves,
                every_seconds=minutes * 60 if minutes else None,
                curve=curve[0] if curve else None,
            )
            module.optimizer_state = _train(
                cfg, module, data, stream, start, N, [*callbacks, *curve, saver], loggers
            )
            rows = curve[0].rows if curve else rows
    status = "hit" if start == N else "miss" if start == 0 else f"prefix:{start}"
    return {"pretrain_cache": status, "pretrain_cache_key": cache.key, "pretrain_curve": rows}
