"""The interface every unlearning method implements, the cost it reports, and the shared
machinery of the methods that start from the final model (`PostHocMethod`).

A method watches the window through the calls made by the `Unlearner` callback:
`configure` (the optimiser), `start` (at w_0), `before_step` and `after_step` (around each
step whose batch held a forgotten sample), `at_step` and `unlearned` (w'' from the
current weights at that step). It never sees the twin's
weights except through `unlearned(..., twin_net)`, which only `retrain` reads, so every
method is measured against the same twin with the same v = ‖w' − w''‖. A method that
needs the data (F and the retain set R = D \\ F) gets it once through `attach`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from unlearn.math.params import trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.runtime.rng import derive_seed, seeded_scope

METHOD_STREAM = 4  # the methods' own samples, labels and dropout: apart from pretrain (0),
# window (1), forget=random (3) and the shadow model (100), so no training stream moves


@dataclass
class Cost:
    """What unlearning (or the twin) spent.

    Attributes:
        gradient_evaluations: backward passes, one per batch gradient (a training step is one).
        samples: samples whose loss entered those gradients.
        seconds: wall time, including what is stored during training.
        hessian_vector_products: Hessian-vector products (curvature-aware methods).
    """

    gradient_evaluations: int = 0
    samples: int = 0
    seconds: float = 0.0
    hessian_vector_products: int = 0

    def add(self, other: Cost) -> Cost:
        return Cost(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnlearningMethod:
    """Base class: turns the main model's weights w_t into the unlearned w''.

    Subclasses set `name` and override what they need; `uses_twin` marks a method whose
    answer and cost are the twin's own (exact retraining); `post_hoc` one that works from
    the final model only, so that w'' is asked for once, at the window's last step;
    `needs_retain` one that cannot run when R is empty.
    """

    name: ClassVar[str] = ""
    uses_twin: ClassVar[bool] = False
    post_hoc: ClassVar[bool] = False
    needs_retain: ClassVar[bool] = False
    every_step: ClassVar[bool] = False  # True: before_step and on_step around EVERY step

    def __init__(self) -> None:
        self.cost = Cost()
        self.train_size: int | None = None  # |D|, set by the Unlearner before the first step

    def configure(self, optimizer: torch.optim.Optimizer) -> None:  # noqa: B027 (optional hook)
        """The window's optimiser, before `start` (its momentum, for methods that need it)."""

    def attach(self, dataset: Any, forget: Tensor) -> None:  # noqa: B027 (optional hook)
        """The training set (``dataset.x``, ``dataset.y``) and F's indices, once resolved."""

    def start(self, net: nn.Module) -> None:  # noqa: B027 (optional hook)
        """The window begins: `net` holds w_0."""

    def at_step(self, step: int) -> None:  # noqa: B027 (optional hook)
        """Before `unlearned`: the window has taken `step` steps."""

    def before_step(self, net: nn.Module) -> None:  # noqa: B027 (optional hook)
        """A step whose batch holds forgotten samples is about to be taken."""

    def after_step(  # noqa: B027 (optional hook)
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        """That step was taken with learning rate `lr`; `record` holds its batch."""

    def on_step(  # noqa: B027 (optional hook)
        self, net: nn.Module, objective: nn.Module, record: ForgetStep, lr: float
    ) -> None:
        """Only for `every_step` methods, after every window step (and after `after_step`):
        `record` holds the batch, its forget mask (possibly all False) and its seed."""

    def attach_callbacks(self, callbacks: list[Any]) -> None:  # noqa: B027 (optional hook)
        """The trainer's callbacks, once as the window starts (damped_gradient reads the
        Hessian spectrum's eigenvectors there instead of computing its own)."""

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        """w'', one tensor per trainable parameter of `net`."""
        raise NotImplementedError

    def total_cost(self) -> Cost:
        """What one unlearning of the forget set cost, storage during training included."""
        return self.cost

    @property
    def storage_bytes(self) -> int:
        """Bytes the method keeps beyond the model and the forget set's data."""
        return 0

    def state_dict(self) -> dict[str, Any]:
        return {"cost": self.cost.as_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.cost = Cost(**state["cost"])


class SampleStream:
    """Batches drawn from one pool of indices without replacement, epoch after epoch, on
    a generator of its own (a batch never holds more than the whole pool)."""

    def __init__(self, pool: Tensor, seed: int) -> None:
        self.pool = pool
        self.gen = torch.Generator().manual_seed(seed)
        self._order = pool[:0]
        self._pos = 0

    def take(self, n: int) -> Tensor:
        if len(self.pool) == 0:
            raise ValueError("an empty pool has no batches")
        n, parts = min(n, len(self.pool)), []
        while n:
            if self._pos == len(self._order):
                self._order = self.pool[torch.randperm(len(self.pool), generator=self.gen)]
                self._pos = 0
            k = min(n, len(self._order) - self._pos)
            parts.append(self._order[self._pos : self._pos + k])
            self._pos, n = self._pos + k, n - k
        return torch.cat(parts)


class PostHocMethod(UnlearningMethod):
    """A method that starts from the final model and spends a budget of SGD steps on F and R.

    `unlearned` runs `run` on a copy of the model (the main model's weights are never
    touched: other metrics read them), inside an RNG scope of its own, with its own seeded
    streams over F and R, and counts every backward pass. Subclasses implement `run` from
    `forget_batch`, `retain_batch`, `loss`, `logits` and `step`.

    Args:
        steps: optimiser steps (the budget; each is one gradient evaluation).
        batch_size: retain samples per step.
        forget_batch_size: forget samples per step (at most |F|).
        lr: the method's own η (plain SGD).
        seed: seeds the method's streams (the run seed by default).
    """

    post_hoc = True

    def __init__(
        self, steps: int = 10, batch_size: int = 32, forget_batch_size: int = 32,
        lr: float = 0.01, seed: int = 0,
    ) -> None:  # fmt: skip
        super().__init__()
        if steps < 1 or batch_size < 1 or forget_batch_size < 1 or not lr > 0:
            raise ValueError(f"{self.name}: steps, batch sizes >= 1 and lr > 0 required")
        self.steps, self.lr, self.seed = int(steps), float(lr), int(seed)
        self.batch_size, self.forget_batch_size = int(batch_size), int(forget_batch_size)
        self.dataset: Any = None
        self.forget = self.retain = torch.empty(0, dtype=torch.long)
        self.num_classes = 0
        self._forget_stream = self._retain_stream = SampleStream(self.forget, 0)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PostHocMethod:
        """Build from a config node (``unlearn.*``), taking the keys `__init__` names."""
        import inspect

        names = {
            name
            for klass in cls.__mro__
            if "__init__" in vars(klass) and issubclass(klass, PostHocMethod)
            for name, p in inspect.signature(klass.__init__).parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD
        }
        return cls(**{k: options[k] for k in names if k in options})

    def attach(self, dataset: Any, forget: Tensor) -> None:
        self.dataset = dataset
        n = len(dataset.y)
        keep = torch.ones(n, dtype=torch.bool)
        self.forget = forget.cpu().long().unique()
        keep[self.forget] = False
        self.retain = keep.nonzero().flatten()
        self.num_classes = int(dataset.y.max()) + 1

    # ------------------------------------------------------------------ helpers for run()

    def seed_of(self, *parts: int) -> int:
        return derive_seed(self.seed, METHOD_STREAM, *parts)

    def _batch(self, stream: SampleStream, n: int, device: torch.device) -> tuple[Tensor, ...]:
        idx = stream.take(n)
        return self.dataset.x[idx].to(device), self.dataset.y[idx].to(device), idx

    def forget_batch(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """(x, y, idx) of the next forget batch."""
        return self._batch(self._forget_stream, self.forget_batch_size, device)  # type: ignore[return-value]

    def retain_batch(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
        """(x, y, idx) of the next retain batch."""
        return self._batch(self._retain_stream, self.batch_size, device)  # type: ignore[return-value]

    def logits(self, net: nn.Module, x: Tensor, step: int) -> Tensor:
        """net(x) with the step's own dropout masks (seeded; the global RNG is untouched)."""
        with seeded_scope(self.seed_of(1, step), x.device):
            return net(x)

    def loss(self, net: nn.Module, objective: nn.Module, outputs: Tensor, y: Tensor) -> Tensor:
        """The training objective's batch mean on (outputs, y) (regulariser included)."""
        params = trainable(net).values() if getattr(objective, "l2_lambda", 1.0) else ()
        return objective.batch_loss(outputs, y, params)

    def step(self, net: nn.Module, optimizer: torch.optim.Optimizer, loss: Tensor, n: int) -> None:
        """One SGD step on `loss` (over `n` samples), counted in the cost."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.before_update(net)
        optimizer.step()
        self.cost.gradient_evaluations += 1
        self.cost.samples += int(n)

    def before_update(self, net: nn.Module) -> None:  # noqa: B027 (optional hook)
        """Gradients are in `.grad`, the step not yet taken (SalUn masks them here)."""

    # ------------------------------------------------------------------ the method

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        """Spend the budget on `net` (a copy of the final model, in train mode)."""
        raise NotImplementedError

    def unlearned(
        self, net: nn.Module, objective: nn.Module, lr: float, twin_net: nn.Module
    ) -> list[Tensor]:
        if self.dataset is None:
            raise RuntimeError(f"{self.name}: attach(dataset, forget) before unlearned()")
        if len(self.forget) == 0:  # nothing to forget: w'' = w_t
            return [p.detach().clone() for p in trainable(net).values()]
        begin, self.cost = time.perf_counter(), Cost()
        self._forget_stream = SampleStream(self.forget, self.seed_of(0, 0))
        self._retain_stream = SampleStream(self.retain, self.seed_of(0, 1))
        model = copy.deepcopy(net).train()
        for p in model.parameters():
            p.grad = None
        optimizer = torch.optim.SGD(trainable(model).values(), lr=self.lr)
        with torch.enable_grad():
            self.run(model, objective, optimizer)
        self.cost.seconds = time.perf_counter() - begin
        return [p.detach().clone() for p in trainable(model).values()]
