"""The unlearning error e(t) of eq. 9: a proxy for verification error that needs no retraining."""

from __future__ import annotations


def unlearning_error(lr: float, weight_drift: float, sigma_avg: float, t: int) -> float:
    """e(t) = η² · ‖w_t − w_0‖₂ · σ_avg · (t − 1) / 2  (= η² (‖w_t−w_0‖/t) σ_avg (t²−t)/2)."""
    if t < 1:
        raise ValueError(f"t={t}; allowed: t >= 1")
    return lr * lr * weight_drift * sigma_avg * (t - 1) / 2.0
