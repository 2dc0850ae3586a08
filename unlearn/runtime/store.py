"""Verified files on disk, and the recipe a trained model's bits are a function of.

Every derived artefact that is cached (pretrained checkpoints, shadow models, token ids,
frozen-encoder features) is written in one format: a ``.pt`` payload written atomically,
with a ``.json`` sidecar holding its key and sha256; a reader that finds a mismatch
deletes the entry so it is rebuilt. The key is a digest of everything that changes the
bits (`trajectory_material`). The pretrain cache (`unlearn.experiment.cache`) is the main
user; data and privacy use the same format without depending on the experiment layer.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from unlearn.runtime.atomic import write_bytes_atomic

log = logging.getLogger(__name__)

# Bump when a change to the training code changes M_N for an unchanged config.
CODE_VERSION = 1
# Data keys that say where the data lives, not what it is (its content is hashed instead).
LOCATION_KEYS = frozenset(
    {"data_dir", "npz", "jsonl", "cache_dir", "download", "test_batch_size", "feature_batch_size"}
)


# ---------------------------------------------------------------------------- verified files


def digest(obj: Any) -> str:
    """sha256 of a JSON-able object, canonically serialised."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def tensor_digest(*tensors: Tensor) -> str:
    """sha256 over the dtypes, shapes and bytes of CPU tensors."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))
    return h.hexdigest()


def write_entry(path: Path, payload: dict[str, Any], key: str) -> None:
    """Save `payload` (tensors, numbers, strings) at `path` (.pt) with its sidecar (.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    write_bytes_atomic(path, data)
    meta = {"key": key, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    write_bytes_atomic(path.with_suffix(".json"), json.dumps(meta).encode())


def read_entry(path: Path, key: str) -> dict[str, Any] | None:
    """The payload at `path` if it is complete and belongs to `key`; else None.

    An entry that exists but fails its check is deleted (it will be rebuilt).
    """
    meta_path = path.with_suffix(".json")
    if not path.exists() and not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        data = path.read_bytes()
        if meta["key"] != key or hashlib.sha256(data).hexdigest() != meta["sha256"]:
            raise ValueError("hash or key mismatch")
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any defect means: rebuild
        log.warning("cache entry %s is unusable (%s); rebuilding it", path, err)
        path.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        return None


def locked(directory: Path, name: str = "") -> FileLock:
    """The lock that serialises every read and write under `directory`; with a `name`, only
    those of the entries called `name` (so unrelated entries are built in parallel)."""
    directory.mkdir(parents=True, exist_ok=True)
    return FileLock(str(directory / f"{name}.lock"))


# ---------------------------------------------------------------------------- the key


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else node


def device_kind(accelerator: str) -> str:
    """The device pretraining runs on (its kernels decide the bits of M_N)."""
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "mps" if accelerator == "mps" else "cpu"


def compute_material(accelerator: str) -> dict[str, Any]:
    """What of the machine changes the bits of a trajectory: the device kind; on the CPU
    the intra-op thread count (a 1- and a 2-thread conv round differently) and the SIMD
    level torch dispatches to; on CUDA the card and the CUDA and cuDNN versions."""
    kind = device_kind(accelerator)
    facts: dict[str, Any] = {"device": kind}
    if kind == "cpu":
        facts["intra_op_threads"] = torch.get_num_threads()
        facts["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    elif kind == "cuda":
        facts["cuda_device"] = torch.cuda.get_device_name()
        facts["cuda"] = torch.version.cuda
        facts["cudnn"] = torch.backends.cudnn.version()
    return facts


def trajectory_material(cfg: DictConfig, train_x: Tensor, train_y: Tensor) -> dict[str, Any]:
    """Everything that determines the pretraining trajectory M_0, M_1, … (not N)."""
    data = {k: v for k, v in _plain(cfg.data).items() if k not in LOCATION_KEYS}
    return {
        "code_version": CODE_VERSION,
        "torch": torch.__version__,
        "model": _plain(cfg.model),
        "data": data,
        "train_data_sha256": tensor_digest(train_x, train_y),
        "loss": _plain(cfg.loss),
        "optimizer": _plain(cfg.optimizer),
        "lr": float(cfg.lr),
        "seed": int(cfg.seed),
        "pretrain_batch_size": int(cfg.pretrain_batch_size),
        "precision": str(cfg.trainer.precision),
        "deterministic": _plain(cfg.trainer.get("deterministic")),
        **compute_material(str(cfg.trainer.accelerator)),
    }
