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
of the same stream (see `unlearn.experiment.pretrain`). Every entry is written to a temporary file
and renamed, after its payload; a reader checks the payload's hash and the key, and an
entry that fails either (truncated, corrupt, foreign) is deleted and rebuilt. All reads
and writes of a trajectory happen under its file lock, so concurrent sweep jobs queue for
a trajectory instead of training it twice. Payloads load with ``weights_only=True``.
The curve file is optional (entries written before it existed have none: a hit then
shows no pretraining curve), so old caches stay valid.

The verified-file format and the key's recipe (`trajectory_material`) live in
`unlearn.runtime.store`, shared with the shadow models and the text encoders.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from torch import Tensor, nn

from unlearn.runtime.atomic import write_bytes_atomic
from unlearn.runtime.store import digest, locked, read_entry, write_entry

log = logging.getLogger(__name__)

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
