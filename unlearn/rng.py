"""Seeds derived from (seed, stream, step), and a scope that leaves the global RNG untouched.

Every random draw in training (dropout masks) happens inside `seeded_scope` with a
seed that depends only on the run seed and the step, so the verification twin draws
the same masks as the main model and a probe can never shift the training stream.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

_MASK = (1 << 63) - 1


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers (splitmix64 on each part); stable across runs."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (int(part) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 31)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 29
    return x & _MASK


@contextlib.contextmanager
def seeded_scope(seed: int, device: torch.device | str | None = None) -> Iterator[None]:
    """Run the body with the CPU (and the given CUDA device's) RNG seeded; restore it after."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
