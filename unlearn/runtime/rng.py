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

PRETRAIN_STREAM, WINDOW_STREAM = 0, 1
"""The batch streams' stream ids: pretraining's and the window's (the twins replay the latter)."""


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
    """Run the body with the CPU (and the given CUDA device's) RNG seeded; restore it after.

    Seeds the generators themselves, not through `torch.manual_seed`, which queues lazy
    seeding of every accelerator backend and records a stack trace each time (≈2 ms a
    step, measured in bench/loop_overhead.py).
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    generators = [torch.default_generator]
    if device.type == "cuda":
        generators.append(torch.cuda.default_generators[device.index or 0])
    states = [g.get_state() for g in generators]
    try:
        for g in generators:
            g.manual_seed(seed)
        yield
    finally:
        for g, state in zip(generators, states, strict=True):
            g.set_state(state)
