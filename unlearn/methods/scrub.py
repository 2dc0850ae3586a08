"""SCRUB (Kurmanji et al., NeurIPS 2023, "Towards Unbounded Machine Unlearning"): the
student (a copy of M) moves away from the frozen teacher M on F and stays with it on R.

- max-step, on a forget batch: descend −KL_T(teacher ‖ student);
- min-step, on a retain batch: descend ce_weight · L + kl_weight · KL_T(teacher ‖ student),

with KL_T their `DistillKL`: Σ softmax(t/T) (log softmax(t/T) − log softmax(s/T)) · T² / b.
The first 2·max_steps steps alternate max, min (their `msteps` max epochs, each followed
by a min epoch); the remaining steps are min-steps. Each step is one gradient evaluation.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from unlearn.methods.base import PostHocMethod


def distill_kl(student: Tensor, teacher: Tensor, temperature: float) -> Tensor:
    """KL(softmax(teacher/T) ‖ softmax(student/T)) · T², summed over classes, batch mean."""
    log_s = F.log_softmax(student / temperature, dim=1)
    p_t = F.softmax(teacher / temperature, dim=1)
    return F.kl_div(log_s, p_t, reduction="sum") * temperature**2 / student.shape[0]


class Scrub(PostHocMethod):
    """Args: max_steps, temperature (T), ce_weight (their γ), kl_weight (their α); the
    budget as `PostHocMethod`."""

    name = "scrub"
    needs_retain = True

    def __init__(
        self, max_steps: int = 2, temperature: float = 4.0, ce_weight: float = 0.99,
        kl_weight: float = 0.001, **budget: float,
    ) -> None:  # fmt: skip
        super().__init__(**budget)  # type: ignore[arg-type]
        if max_steps < 0 or not temperature > 0 or ce_weight < 0 or kl_weight < 0:
            raise ValueError("scrub: max_steps, ce_weight, kl_weight >= 0 and temperature > 0")
        self.max_steps, self.temperature = int(max_steps), float(temperature)
        self.ce_weight, self.kl_weight = float(ce_weight), float(kl_weight)

    def is_max_step(self, step: int) -> bool:
        return step < 2 * self.max_steps and step % 2 == 0

    def max_loss(self, student: Tensor, teacher: Tensor) -> Tensor:
        return -distill_kl(student, teacher, self.temperature)

    def min_loss(self, student: Tensor, teacher: Tensor, task_loss: Tensor) -> Tensor:
        kl = distill_kl(student, teacher, self.temperature)
        return self.ce_weight * task_loss + self.kl_weight * kl

    def run(self, net: nn.Module, objective: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        device = next(net.parameters()).device
        teacher = copy.deepcopy(net).eval()
        for step in range(self.steps):
            forget = self.is_max_step(step)
            x, y, _ = self.forget_batch(device) if forget else self.retain_batch(device)
            with torch.no_grad():
                t_logits = teacher(x)
            s_logits = self.logits(net, x, step)
            if forget:
                loss = self.max_loss(s_logits, t_logits)
            else:
                loss = self.min_loss(s_logits, t_logits, self.loss(net, objective, s_logits, y))
            self.step(net, optimizer, loss, len(y))
