"""The interface every unlearning method implements, and the cost it reports.

A method watches the window through four calls made by the `Unlearner` callback: `start`
(at w_0), `before_step` and `after_step` (around each step whose batch held a forgotten
sample), and `unlearned` (w'' from the current weights). It never sees the twin's
weights except through `unlearned(..., twin_net)`, which only `retrain` reads, so every
method is measured against the same twin with the same v = ‖w' − w''‖.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from torch import Tensor, nn

from unlearn.math.single_gradient import ForgetStep


@dataclass
class Cost:
    """What unlearning (or the twin) spent.

    Attributes:
        gradient_evaluations: backward passes, one per batch gradient (a training step is one).
        samples: samples whose loss entered those gradients.
        seconds: wall time, including what is stored during training.
        hessian_vector_products: products with a Hessian (the curvature methods' currency).
    """

    gradient_evaluations: int = 0
    samples: int = 0
    seconds: float = 0.0
    hessian_vector_products: int = 0

    def add(self, other: Cost) -> Cost:
        return Cost(
            self.gradient_evaluations + other.gradient_evaluations,
            self.samples + other.samples,
            self.seconds + other.seconds,
            self.hessian_vector_products + other.hessian_vector_products,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnlearningMethod:
    """Base class: turns the main model's weights w_t into the unlearned w''.

    Subclasses set `name` and override what they need; `uses_twin` marks a method whose
    answer and cost are the twin's own (exact retraining).
    """

    name: ClassVar[str] = ""
    uses_twin: ClassVar[bool] = False
    every_step: ClassVar[bool] = False  # True: before_step and on_step around EVERY step

    def __init__(self) -> None:
        self.cost = Cost()
        self.train_size: int | None = None  # |D|, set by the Unlearner before the first step

    def start(self, net: nn.Module) -> None:  # noqa: B027 (optional hook)
        """The window begins: `net` holds w_0."""

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

    def attach(self, callbacks: list[Any]) -> None:  # noqa: B027 (optional hook)
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
