"""The training objective: cross-entropy plus the SD penalty (eq. 10) or the ℓ2 strawman.

The objective is kept per sample so that the verification twin and the
single-gradient update can drop or select samples and still normalise by the
nominal batch size (docs/twin.md, "Partial batches").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
from torch import Tensor, nn

SDNormalization = Literal["reference", "paper"]


def sd_penalty(logits: Tensor, normalization: SDNormalization = "reference") -> Tensor:
    """Per-sample SD penalty S(z) on raw logits of shape (batch, classes).

    `reference`: unbiased (c-1) standard deviation of each row, divided by c, as the
    reference code computed it (the scale of the paper's γ values).
    `paper`: sqrt(Σ_i (z_i - μ)² / c), eq. 10 as printed.
    """
    c = logits.shape[-1]
    if normalization == "reference":
        return torch.std(logits, dim=-1, correction=1) / c
    if normalization == "paper":
        return torch.std(logits, dim=-1, correction=0)
    raise ValueError(f"sd normalization={normalization!r}; allowed: reference, paper")


class TrainingObjective(nn.Module):
    """ℓ(w; x) = criterion(M(x), y) + γ·S(M(x)) + λ‖w‖₂, evaluated per sample.

    Args:
        criterion: a loss with ``reduction="none"`` (cross-entropy by default).
        gamma: SD strength γ ≥ 0 (0 gives plain cross-entropy).
        sd_normalization: ``reference`` (default) or ``paper``.
        l2_lambda: strength λ ≥ 0 of the ℓ2 strawman λ‖w‖₂ (§6.1), not squared.
    """

    def __init__(
        self,
        criterion: nn.Module | None = None,
        gamma: float = 0.0,
        sd_normalization: SDNormalization = "reference",
        l2_lambda: float = 0.0,
    ) -> None:
        super().__init__()
        if gamma < 0:
            raise ValueError(f"gamma={gamma}; allowed: gamma >= 0")
        if l2_lambda < 0:
            raise ValueError(f"l2_lambda={l2_lambda}; allowed: l2_lambda >= 0")
        if sd_normalization not in ("reference", "paper"):
            raise ValueError(f"sd_normalization={sd_normalization!r}; allowed: reference, paper")
        self.criterion = (
            criterion if criterion is not None else nn.CrossEntropyLoss(reduction="none")
        )
        self.gamma = float(gamma)
        self.sd_normalization = sd_normalization
        self.l2_lambda = float(l2_lambda)

    def per_sample(self, outputs: Tensor, targets: Tensor) -> Tensor:
        """Data terms of ℓ for each sample: criterion + γ·S, shape (batch,)."""
        loss = self.criterion(outputs, targets)
        if loss.dim() > 1:  # e.g. MSE on (batch, d) outputs: sum over output dims
            loss = loss.flatten(1).sum(1)
        if self.gamma:
            loss = loss + self.gamma * sd_penalty(outputs, self.sd_normalization)
        return loss

    def weight_term(self, params: Iterable[Tensor]) -> Tensor | None:
        """λ‖w‖₂ over the given parameters, or None when λ = 0."""
        if not self.l2_lambda:
            return None
        sq = torch.stack([p.pow(2).sum() for p in params]).sum()
        return self.l2_lambda * sq.sqrt()

    def batch_loss(
        self,
        outputs: Tensor,
        targets: Tensor,
        params: Iterable[Tensor],
        nominal_size: int | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        """(Σ_{kept} ℓ_i) / nominal_size: the batch mean when nothing is dropped.

        ``mask`` selects the samples that count (the forget samples, for the
        single-gradient update). The weight term is counted once per kept sample,
        so that it decomposes over samples like the data terms.
        """
        per_sample = self.per_sample(outputs, targets)
        size = nominal_size if nominal_size is not None else per_sample.shape[0]
        if mask is not None:
            per_sample = torch.where(mask, per_sample, torch.zeros_like(per_sample))
            kept = mask.sum()
        else:
            kept = per_sample.shape[0]
        loss = per_sample.sum() / size
        reg = self.weight_term(params)
        if reg is not None:
            loss = loss + reg * (kept / size)
        return loss
