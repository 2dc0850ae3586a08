"""The pretrain checkpoint cache: M_N stored once per trajectory, reused by every run that needs it.

Pretraining M_0 → M_N dominates the cost of a grid, and M_N is a pure function of what
went into it: model, data, seed, η, pretraining batch size, the loss (γ or λ), the
optimiser, the device kind and this code's version. Those form the **trajectory key**;
a trajectory's directory holds checkpoints at several steps:

    <cache_dir>/pretrain/<key>/key.json              what the key was made from
    <cache_dir>/pretrain/<key>/step_000003910.pt     net + optimiser state after 3910 steps
    <cache_dir>/pretrain/<key>/step_000003910.json   {key, step, sha256 of the .pt}
    <cache_dir>/pretrain/<key>/step_000003910.curve.json   the training curve up to there

A run asking for N steps loads the longest cached prefix k ≤ N and trains steps k … N−1
of the same stream (see `unlearn.pretrain`). Every entry is written to a temporary file
and renamed, after its payload; a reader checks the payload's hash and the key, and an
entry that fails either (truncated, corrupt, foreign) is deleted and rebuilt. All reads
and writes of a trajectory happen under its file lock, so concurrent sweep jobs queue for
a trajectory instead of training it twice. Payloads load with ``weights_only=True``.
The curve file is optional (entries written before it existed have none: a hit then
shows no pretraining curve), so old caches stay valid.

The same verified-file format stores other derived tensors (tokenised text, frozen-encoder
features): `read_entry` / `write_entry`.
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
from torch import Tensor, nn

from unlearn.atomic import write_bytes_atomic

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


# ---------------------------------------------------------------------------- the cache


class PretrainCache:
    """Checkpoints of one pretraining trajectory, by step.

    Args:
        root: the cache directory shared by all runs (``paths.cache_dir``).
        material: `trajectory_material(...)`; its digest names the trajectory.
        probe: training inputs (`fingerprint.probe_batch`); with them each entry stores
            the logits its weights give, and a reader recomputes them (forgeries, NaNs).
    """

    def __init__(
        self, root: str | Path, material: dict[str, Any], probe: Tensor | None = None
    ) -> None:
        self.key = digest(material)
        self.material = material
        self.dir = Path(root).expanduser() / "pretrain" / self.key
        self.probe = probe  # inputs whose logits each entry records (experiment/fingerprint.py)

    def lock(self) -> FileLock:
        """Hold it around every lookup, pretraining and save of this trajectory."""
        return locked(self.dir)

    def path(self, step: int) -> Path:
        return self.dir / f"step_{step:09d}.pt"

    def steps(self) -> list[int]:
        """Steps with an entry on disk (unverified), ascending."""
        return sorted(int(p.stem[5:]) for p in self.dir.glob("step_*.pt"))

    def load(self, step: int) -> dict[str, Any] | None:
        """The verified entry at `step` (None if missing or defective)."""
        return read_entry(self.path(step), f"{self.key}:{step}")

    def discard(self, step: int) -> None:
        """Delete the entry at `step` (it will be rebuilt)."""
        self.path(step).unlink(missing_ok=True)
        self.path(step).with_suffix(".json").unlink(missing_ok=True)
        self.curve_path(step).unlink(missing_ok=True)

    def longest_prefix(self, n: int) -> tuple[int, dict[str, Any] | None]:
        """(k, entry) for the largest valid cached k ≤ n; (0, None) when there is none."""
        for step in reversed([s for s in self.steps() if 0 < s <= n]):
            entry = self.load(step)
            if entry is not None:
                return step, entry
        return 0, None

    def save(self, step: int, net: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Store the weights, buffers and optimiser state after `step` steps."""
        self.dir.mkdir(parents=True, exist_ok=True)
        key_file = self.dir / "key.json"
        if not key_file.exists():
            write_bytes_atomic(key_file, json.dumps(self.material, indent=2, default=str).encode())
        payload = {
            "net": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
            "optimizer": _to_cpu(optimizer.state_dict()),
            "step": step,
        }
        if self.probe is not None:  # what these weights compute, checked when loaded
            from unlearn.experiment.fingerprint import fingerprint

            payload["fingerprint"] = fingerprint(net, self.probe)
        write_entry(self.path(step), payload, f"{self.key}:{step}")

    def curve_path(self, step: int) -> Path:
        return self.dir / f"step_{step:09d}.curve.json"

    def save_curve(self, step: int, rows: list[dict[str, float]]) -> None:
        """Keep the training curve up to `step` beside its entry (`TrainingCurve.rows`)."""
        kept = [r for r in rows if r["step"] <= step]
        write_bytes_atomic(self.curve_path(step), json.dumps(kept).encode())

    def load_curve(self, step: int) -> list[dict[str, float]]:
        """The curve kept with the entry at `step`; [] when there is none (an older entry)."""
        try:
            rows = json.loads(self.curve_path(step).read_text())
        except (OSError, ValueError):
            return []
        return rows if isinstance(rows, list) else []


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
