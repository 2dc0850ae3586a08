"""A pretrain cache entry's functional fingerprint: what its weights compute, checked on load.

The sidecar's sha256 is self-attested: whoever rewrites an entry can rewrite the hash,
so it only catches accidents (a truncated or corrupt file). An entry whose weights were
edited (scaled ×1.5, a NaN put in) with its sidecar re-hashed loaded as a hit. So each
entry also stores, at save time, the logits its network gives on a fixed, seeded probe
batch of the training set (whose content is part of the cache key), and the reader
recomputes them from the weights it loaded: a mismatch, or any non-finite tensor, is a
miss (one warning line, the entry is rebuilt), never a crash and never silently used.

Bit-exactness: both forwards run on the CPU, in eval mode, with one intra-op thread, on
a copy of the network, so the same weights give the same bits in any process of one
machine kind, whatever device trained the entry; the comparison is then exact. Only
when the CPU's SIMD level differs from the writer's (a cache shared across machine
kinds) is a tolerance used: rtol 1e-4 of the largest logit, because a wider vector unit
changes float32 summation order (relative errors ~1e-6 per reduction, a few e-6 over a
few dozen layers), while any edit worth making to the weights moves the logits by O(1).

What this cannot catch (docs/reliability.md): an entry forged by someone who recomputes
the fingerprint with this code; the cache directory is trusted like the code.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

PROBE_SIZE = 8  # examples in the probe batch
PROBE_SEED = 20240601  # which examples: fixed, so writer and reader pick the same ones
RTOL_OTHER_CPU = 1e-4  # only across SIMD levels (see the module docstring)


def probe_batch(x: Tensor, size: int = PROBE_SIZE) -> Tensor:
    """`size` training inputs picked by a fixed seed (the same in every process)."""
    generator = torch.Generator().manual_seed(PROBE_SEED)
    idx = torch.randperm(len(x), generator=generator)[: min(size, len(x))]
    return x[idx].detach().cpu()


def _logits(net: nn.Module, probe: Tensor) -> Tensor:
    """The network's outputs on `probe`: on the CPU, eval mode, one thread, a copy (the
    live network's mode, device and BatchNorm statistics are not touched)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        twin = copy.deepcopy(net).cpu().eval()
        with torch.no_grad():
            out = twin(probe)
        return (out.logits if hasattr(out, "logits") else out).detach().float().clone()
    finally:
        torch.set_num_threads(threads)


def fingerprint(net: nn.Module, probe: Tensor) -> dict[str, Any]:
    """What `net` computes on `probe`, stored in the entry beside its weights."""
    return {
        "logits": _logits(net, probe),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def _tensors(obj: Any, where: str = "") -> Iterator[tuple[str, Tensor]]:
    if isinstance(obj, Tensor):
        yield where, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{where}.{i}")


def non_finite(entry: dict[str, Any]) -> str | None:
    """Where `entry` holds a NaN or an infinity (weights or optimiser state), or None."""
    for where, t in _tensors({"net": entry.get("net"), "optimizer": entry.get("optimizer")}):
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            return f"non-finite values in {where}"
    return None


def mismatch(entry: dict[str, Any], net: nn.Module, probe: Tensor) -> str | None:
    """Why the loaded `entry` (its weights already in `net`) must not be used, or None."""
    bad = non_finite(entry)
    if bad:
        return bad
    stored = entry.get("fingerprint")
    if not isinstance(stored, dict) or not isinstance(stored.get("logits"), Tensor):
        return "no fingerprint (written by an older version)"
    now = _logits(net, probe)
    then = stored["logits"]
    if now.shape != then.shape:
        return f"logits of shape {tuple(now.shape)}, recorded {tuple(then.shape)}"
    if stored.get("cpu_capability") == torch.backends.cpu.get_cpu_capability():
        same = torch.equal(now, then)
    else:
        scale = float(then.abs().max()) if then.numel() else 0.0
        same = math.isfinite(scale) and torch.allclose(
            now, then, rtol=RTOL_OTHER_CPU, atol=RTOL_OTHER_CPU * scale
        )
    if not same:
        diff = float((now - then).abs().max())
        return f"its weights do not give the logits recorded at save (max difference {diff:.3g})"
    return None
