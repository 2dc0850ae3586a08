"""Nothing lost: window checkpoints a killed run resumes from, and safe files on disk.

`WindowCheckpoint` saves a Lightning checkpoint every `checkpoint_every` window steps to
``<output_dir>/checkpoints/last.ckpt`` (temporary file, then rename). Lightning puts the
model, the optimiser, the loop counters (the data-stream position: the window sampler
restarts at `global_step`) and every callback's `state_dict` in it — w_0, the σ history,
the twin and the unlearning method's store; this callback adds the global RNG states,
the run's config identity and what pretraining reported. Running the same command with
the same ``hydra.run.dir`` then finds it (`find_resume`) and continues from it, so the
results are identical to an uninterrupted run's.

A checkpoint is read back with ``torch.load(weights_only=True)``: tensors and plain
containers, never code. (Cache entries, with their key and content hash, are
`unlearn.experiment.cache`'s.) `check_output_dir` keeps a finished run's folder as it is.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from typing_extensions import override

from unlearn.config.checks import ConfigError
from unlearn.config.errors import clip
from unlearn.experiment.results import FINISHED, read_results
from unlearn.runtime.atomic import atomic_write
from unlearn.runtime.storage import WriteFailed, is_storage

CHECKPOINT_DIR = "checkpoints"
LAST = "last.ckpt"
STATE_KEY = "WindowCheckpoint"
# keys that say where a run writes or what it caches, not what it computes
NOT_IDENTITY = ("paths", "logger", "checkpoint_every", "pretrain")
# how a run is watched and scored, not what it measures (debug's effects are in N, t, ...)
NOT_IDENTITY += ("progress", "curves", "objective", "debug")


# ---------------------------------------------------------------------------- identity


def identity(cfg: DictConfig) -> str:
    """SHA-256 of the resolved config without `NOT_IDENTITY`: equal for "the same command"."""
    parts: dict[str, Any] = {}
    for key in sorted(str(k) for k in cfg):
        if key in NOT_IDENTITY or key == "hydra":
            continue
        try:
            value = cfg[key]
            if OmegaConf.is_config(value):
                value = OmegaConf.to_container(value, resolve=True)
        except Exception:  # noqa: BLE001 (an unresolvable value is compared as written)
            node = cfg._get_node(key)
            value = OmegaConf.to_container(node) if OmegaConf.is_config(node) else str(node)
        parts[key] = value
    text = json.dumps(parts, sort_keys=True, default=str)
    out_dir = OmegaConf.select(
        cfg, "paths.output_dir", default=None, throw_on_resolution_failure=False
    )
    if out_dir:  # e.g. trainer.default_root_dir: where, not what
        text = text.replace(json.dumps(str(out_dir))[1:-1], "<output_dir>")
    return hashlib.sha256(text.encode()).hexdigest()


def safe_load(path: str | Path) -> Any:
    """`torch.load` with ``weights_only=True`` on the CPU: tensors and containers, no code.

    torch's advice on a foreign pickle protocol (two lines on stderr) is silenced: such a
    file is refused in one line by `load_failure` anyway."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Detected pickle protocol.*")
        return torch.load(path, map_location="cpu", weights_only=True)


# ---------------------------------------------------------------------------- RNG states


def rng_states() -> dict[str, Any]:
    """The global torch, CUDA, NumPy and Python RNG states, as tensors and plain values."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": list(random.getstate()[1]),
        "python_gauss": random.getstate()[2],
    }


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what `rng_states` captured."""
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate((3, tuple(states["python"]), states["python_gauss"]))


# ---------------------------------------------------------------------------- window checkpoints


class WindowCheckpoint(L.Callback):
    """Saves ``last.ckpt`` every `every_n_steps` window steps and after the last one.

    The last save holds the finished window, so a run whose results.json could not be
    written (a full disk) only evaluates and writes it when run again; it is removed
    once results.json is on disk. The checkpoint also carries the wall time spent so far
    (`elapsed_before` after a resume), so a resumed run reports the total.

    Keep it last in the callback list, so that every other callback's state already holds
    the step it is saved at.

    Args:
        dirpath: the folder (``<output_dir>/checkpoints``).
        every_n_steps: k ≥ 1.
        run_identity: `identity(cfg)`; a checkpoint of another config is never resumed.
        extra: plain values to carry (what pretraining reported), returned by `find_resume`.
        started: ``time.perf_counter()`` when this attempt of the run began.
    """

    def __init__(
        self,
        dirpath: str | Path,
        every_n_steps: int,
        run_identity: str,
        extra: dict | None = None,
        started: float | None = None,
    ) -> None:
        if every_n_steps < 1:
            raise ValueError(f"checkpoint_every={every_n_steps}; allowed: >= 1")
        self.dirpath = Path(dirpath)
        self.every_n_steps = every_n_steps
        self.run_identity = run_identity
        self.extra = dict(extra or {})
        self.saved_steps: list[int] = []
        self.save_seconds = 0.0
        self.started = time.perf_counter() if started is None else started
        self.elapsed_before = 0.0  # wall time of the attempts before a resume

    @property
    def state_key(self) -> str:
        return STATE_KEY

    @override
    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        step = int(trainer.global_step)
        if step % self.every_n_steps == 0 or step >= trainer.max_steps:
            self.save(trainer)

    def save(self, trainer: L.Trainer) -> Path:
        """Write the checkpoint now (atomically) and return its path."""
        start = time.perf_counter()
        target = self.dirpath / LAST
        try:
            for logger in trainer.loggers:  # curves on disk up to this step
                logger.save()
            atomic_write(target, lambda tmp: trainer.save_checkpoint(tmp))
        except OSError as err:
            if not is_storage(err):
                raise
            raise WriteFailed(
                f"{CHECKPOINT_DIR}/{LAST} at window step {trainer.global_step}", err, self._kept()
            ) from None
        self.saved_steps.append(int(trainer.global_step))
        self.save_seconds += time.perf_counter() - start
        return target

    def _kept(self) -> str:
        """What a rerun finds after a failed save (the previous file is left intact)."""
        there = "(a rerun resumes there)"
        if self.saved_steps:
            return f"{CHECKPOINT_DIR}/{LAST} of window step {self.saved_steps[-1]} {there}"
        if (self.dirpath / LAST).exists():
            return f"{CHECKPOINT_DIR}/{LAST} of an earlier attempt {there}"
        return "no window checkpoint yet (a rerun starts the window again)"

    def save_at(self, trainer: L.Trainer, step: int) -> str:
        """Save now unless this step is saved already (an interrupt); says what it did."""
        if not self.saved_steps or self.saved_steps[-1] != int(trainer.global_step):
            self.save(trainer)
        return f"window checkpoint at step {step}"

    @property
    def elapsed(self) -> float:
        """Wall time of this run so far, earlier attempts included."""
        return self.elapsed_before + time.perf_counter() - self.started

    @override
    def state_dict(self) -> dict[str, Any]:
        return {
            "identity": self.run_identity,
            "rng": rng_states(),
            "extra": self.extra,
            "elapsed": self.elapsed,
        }

    @override
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.extra = dict(state_dict["extra"])
        self.elapsed_before = float(state_dict.get("elapsed", 0.0))
        set_rng_states(state_dict["rng"])


@dataclass
class Resume:
    """Where a run continues: the checkpoint, its window step and what it carried."""

    path: Path
    step: int
    extra: dict[str, Any]


def checkpoint_dir(out_dir: str | Path) -> Path:
    """Where a run's window checkpoints live: ``<output_dir>/checkpoints``."""
    return Path(out_dir) / CHECKPOINT_DIR


def checkpoint_path(out_dir: str | Path) -> Path:
    return checkpoint_dir(out_dir) / LAST


def find_resume(out_dir: str | Path, run_identity: str) -> Resume | None:
    """The checkpoint to resume from in `out_dir`, or None; ConfigError if it is not ours."""
    path = checkpoint_path(out_dir)
    if not path.exists():
        return None
    try:
        ckpt = safe_load(path)
        state = ckpt["callbacks"][STATE_KEY]
        step, theirs = int(ckpt["global_step"]), state["identity"]
    except Exception as err:  # noqa: BLE001 (any unreadable file is the same user error)
        reason = load_failure(err)
        raise ConfigError(
            f"{CHECKPOINT_DIR}/{LAST}={str(path)!r}: unreadable, {reason}; "
            "allowed a checkpoint this program wrote (delete it to start over)"
        ) from err
    if theirs != run_identity:
        raise ConfigError(
            f"hydra.run.dir={str(Path(out_dir))!r}: its {CHECKPOINT_DIR}/{LAST} belongs to another "
            "config; allowed the same command as the interrupted run, or a new hydra.run.dir"
        )
    return Resume(path=path, step=step, extra=dict(state["extra"]))


def load_failure(err: BaseException) -> str:
    """Why `safe_load` refused a file, in a few words (torch's own message is a page)."""
    text = " ".join(str(err).split())
    if "Unsupported global" in text:
        what = text.split("Unsupported global:", 1)[1].split(" was not")[0].strip()
        return f"it holds Python objects ({what}), which weights_only loading refuses"
    if "WeightsUnpickler error" in text:
        detail = text.split("WeightsUnpickler error:")[1].split(" Check the")[0].strip()
        return f"not a torch checkpoint ({clip(detail, 60)})"
    if "zip archive" in text:
        return "a truncated or corrupt file (" + text.split(".")[0] + ")"
    return f"{type(err).__name__}: {clip(text, 120)}"


def remove_checkpoints(out_dir: str | Path) -> None:
    """Delete the window checkpoints of a run whose results.json is written."""
    shutil.rmtree(Path(out_dir) / CHECKPOINT_DIR, ignore_errors=True)


# ---------------------------------------------------------------------------- the output folder


def check_output_dir(out_dir: str | Path, run_identity: str) -> dict[str, Any] | None:
    """The stored results if `out_dir` holds this very run, finished; None if it holds no
    finished run; ConfigError if it holds another config's (never overwritten)."""
    try:
        existing = read_results(Path(out_dir) / "results.json")
    except ValueError as err:
        raise ConfigError(
            f"hydra.run.dir={str(out_dir)!r}: its results.json is unreadable; "
            "allowed a new hydra.run.dir (the file is left as it is)"
        ) from err
    if existing is None or existing.get("status") not in FINISHED:
        return None
    if existing.get("config_hash") == run_identity:
        return existing
    raise ConfigError(
        f"hydra.run.dir={str(out_dir)!r}: holds a finished run of another config "
        "(its results.json is never overwritten); allowed the same command or a new hydra.run.dir"
    )
