"""Pure functions on model outputs: accuracy, Jensen–Shannon divergence, and the
membership-inference efficacy of Jia et al. (2023) / Fan et al. (2024).

No models, no data sets: tensors in, numbers out, so each is tested on tiny inputs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

LOG_FLOOR = 1e-10  # features are attacked on a log scale, floored like Song & Mittal's


def accuracy(logits: Tensor, labels: Tensor) -> float:
    """Share of rows whose arg-max is the label (NaN for no rows)."""
    if len(labels) == 0:
        return math.nan
    return float((logits.argmax(1) == labels).double().mean())


def per_sample_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of each row, in float64."""
    return torch.nn.functional.cross_entropy(logits.double(), labels.long(), reduction="none")


def js_divergence(logits_p: Tensor, logits_q: Tensor) -> Tensor:
    """JS(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = ½ (p + q), of softmax rows, in nats
    (0 ≤ JS ≤ ln 2; the square of scipy's `jensenshannon` distance)."""
    log_p = torch.log_softmax(logits_p.double(), dim=1)
    log_q = torch.log_softmax(logits_q.double(), dim=1)
    log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(1)
    return (0.5 * (kl_pm + kl_qm)).clamp_min(0.0)


def mean_js(logits_p: Tensor, logits_q: Tensor) -> float:
    """Mean JS divergence over the rows (NaN for no rows)."""
    return float(js_divergence(logits_p, logits_q).mean()) if len(logits_p) else math.nan


def mia_efficacy(member: Tensor, nonmember: Tensor, forget: Tensor) -> float:
    """Share of the forget set a membership attack calls non-member.

    The attack is a logistic regression on log(feature) (per-sample loss or modified
    entropy: low for members), fit with balanced classes on retain members against test
    non-members, then applied to F. 1.0: F looks wholly unseen; 0.0: wholly seen.
    NaN when F, or either side of the fit, is empty, or any feature is not finite (a
    diverged model's outputs: nothing to attack).
    """
    from sklearn.linear_model import LogisticRegression

    if min(len(member), len(nonmember), len(forget)) == 0:
        return math.nan
    if not all(bool(torch.isfinite(f).all()) for f in (member, nonmember, forget)):
        return math.nan

    def log(v: Tensor) -> np.ndarray:
        return np.log(v.double().clamp_min(LOG_FLOOR).numpy()).reshape(-1, 1)

    x = np.concatenate([log(member), log(nonmember)])
    y = np.concatenate([np.ones(len(member)), np.zeros(len(nonmember))])
    attack = LogisticRegression(class_weight="balanced").fit(x, y)
    return float((attack.predict(log(forget)) == 0).mean())
