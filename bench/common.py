"""Shared benchmark plumbing: the same model, data and batches for every contender, timed
in interleaved rounds (A, B, A, B, …) so that load on the machine hits both alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import lightning as L
import torch
from torch import nn

import unlearn.experiment.run  # noqa: F401  (installs its Lightning log and warning filters)
from unlearn.data.arrays import IndexedArrays
from unlearn.data.stream import BatchStream, StreamSampler
from unlearn.math.losses import TrainingObjective
from unlearn.models import SmallCNN
from unlearn.module import UnlearnModule

torch.set_num_threads(torch.get_num_threads())


@dataclass
class Workload:
    """A model factory and an in-memory data set, identical for every contender."""

    name: str
    make_net: Callable[[], nn.Module]
    data: IndexedArrays
    batch_size: int
    lr: float = 0.01

    def stream(self, seed: int = 0) -> BatchStream:
        return BatchStream(len(self.data), self.batch_size, seed, stream_id=1)

    def loader(self, steps: int) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(
            self.data, batch_sampler=StreamSampler(self.stream(), 0, steps), collate_fn=lambda b: b
        )

    def module(self, seed: int = 0) -> UnlearnModule:
        torch.manual_seed(seed)
        return UnlearnModule(
            self.make_net(),
            TrainingObjective(),
            lambda p: torch.optim.SGD(p, lr=self.lr),
            num_classes=10,
            seed=seed,
        )


def digits_workload(batch_size: int = 32) -> Workload:
    from unlearn.data.digits import DigitsDataModule

    dm = DigitsDataModule()
    dm.setup()
    return Workload("digits small CNN", lambda: SmallCNN(10, 1), dm.train_set, batch_size)


def cifar_shaped_workload(batch_size: int = 32, n: int = 4096) -> Workload:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (n,), generator=g)
    return Workload(
        "CIFAR-shaped small CNN", lambda: SmallCNN(10, 3), IndexedArrays(x, y), batch_size
    )


class StepTimer(L.Callback):
    """Steady-state seconds per step: from the start of step `skip` to the end of the last."""

    def __init__(self, skip: int = 5) -> None:
        self.skip = skip
        self.start = 0.0
        self.end = 0.0
        self.steps = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):  # noqa: ANN001
        if batch_idx == self.skip:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):  # noqa: ANN001
        self.end = time.perf_counter()
        self.steps = batch_idx + 1 - self.skip

    @property
    def per_step(self) -> float:
        return (self.end - self.start) / self.steps


def trainer(steps: int, callbacks: list) -> L.Trainer:
    return L.Trainer(
        max_steps=steps,
        max_epochs=1,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        deterministic=True,
        num_sanity_val_steps=0,
    )


def fit_seconds_per_step(work: Workload, steps: int, callbacks: list, skip: int = 5) -> float:
    """Steady-state seconds per step of the framework's window with these callbacks."""
    timer = StepTimer(skip)
    module = work.module()
    module.begin_phase(1)
    trainer(steps, [*callbacks, timer]).fit(module, work.loader(steps))
    return timer.per_step


def bare_seconds_per_step(work: Workload, steps: int, skip: int = 5) -> float:
    """A bare PyTorch SGD loop over the same batches: the floor the framework is held to."""
    torch.manual_seed(0)
    net = work.make_net()
    opt = torch.optim.SGD(net.parameters(), lr=work.lr)
    loss_fn = nn.CrossEntropyLoss()
    start = 0.0
    for i, (x, y, _) in enumerate(work.loader(steps)):
        if i == skip:
            start = time.perf_counter()
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    return (time.perf_counter() - start) / (steps - skip)


def interleaved(
    contenders: dict[str, Callable[[], float]], reps: int = 5, warmup: int = 1
) -> dict[str, list[float]]:
    """Call each contender `reps` times in rotating order; each call returns its own timing."""
    names = list(contenders)
    for _ in range(warmup):
        for name in names:
            contenders[name]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            out[name].append(contenders[name]())
    return out


def ratio(num: list[float], den: list[float]) -> dict[str, float]:
    """Median ratio of paired repetitions and its spread (min, max)."""
    pairs = [a / b for a, b in zip(num, den, strict=True)]
    return {
        "median": statistics.median(pairs),
        "min": min(pairs),
        "max": max(pairs),
        "reps": len(pairs),
    }
