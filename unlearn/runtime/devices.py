"""One GPU per parallel job: the `local_gpus` launcher's device pinning.

joblib runs the jobs of a sweep in `n_jobs` long-lived worker processes. Each worker
claims a GPU slot the first time it runs a job, by holding an exclusive lock on
``<sweep dir>/.gpu_slots/gpu<i>.lock`` for the rest of its life (the operating system
drops the lock when the process dies), and every job it runs trains on that device
(``trainer.devices=[i]``). With n_jobs ≤ the number of GPUs, no two running jobs share one.

Also registers the OmegaConf resolver ``${gpu_count:}`` (at least 1) for the launcher's
default ``n_jobs``.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO

from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)

_slot: tuple[int, IO[str]] | None = None  # this process's GPU and the lock that holds it


def gpu_count() -> int:
    """Visible CUDA devices, at least 1 (so that a CPU-only machine runs one job at a time)."""
    import torch

    return max(1, torch.cuda.device_count()) if torch.cuda.is_available() else 1


OmegaConf.register_new_resolver("gpu_count", gpu_count, replace=True)


def claim_slot(lock_dir: Path, n: int) -> int:
    """This process's GPU index: the first of `n` slots whose lock is free, kept for life."""
    global _slot
    if _slot is not None:
        return _slot[0]
    lock_dir.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        handle = open(lock_dir / f"gpu{i}.lock", "w")  # noqa: SIM115 (held for the process's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _slot = (i, handle)
        return i
    raise RuntimeError(f"all {n} GPU slots in {lock_dir} are taken: n_jobs > GPUs")


def pin_to_own_gpu(cfg: DictConfig, sweep_dir: str | Path) -> int | None:
    """Point `cfg.trainer` at this worker's own GPU; None (and no change) without CUDA."""
    import torch

    if not torch.cuda.is_available() or cfg.trainer.get("accelerator") == "cpu":
        return None
    slot = claim_slot(Path(sweep_dir) / ".gpu_slots", torch.cuda.device_count())
    with open_dict(cfg):
        cfg.trainer.accelerator = "gpu"
        cfg.trainer.devices = [slot]
    torch.cuda.set_device(slot)
    log.info("pinned to GPU %d", slot)
    return slot
