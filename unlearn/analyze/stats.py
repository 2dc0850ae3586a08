"""Pearson's r with its sample size and a Fisher-z confidence interval (pure math).

The paper reports r alone. With 5 or 10 points an r of 0.9 is compatible with a weak
correlation, so the report always gives n and the interval beside r.

Caveat, written into the report: the points of one run "along t" are successive states
of one trajectory, not independent samples, so their interval is too narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Correlation:
    """r, n, the confidence interval [low, high] at `level`, and the two-sided p-value."""

    r: float
    n: int
    low: float
    high: float
    p: float
    level: float = 0.95

    def text(self) -> str:
        """'0.93 [0.81, 0.98], n = 12' ('—' where it is undefined)."""
        if math.isnan(self.r):
            return f"— (n = {self.n})"
        if math.isnan(self.low):
            return f"{self.r:.3f}, n = {self.n}"
        return f"{self.r:.3f} [{self.low:.3f}, {self.high:.3f}], n = {self.n}"


def pearson(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Correlation:
    """Pearson's r of the finite pairs (x_i, y_i), with a Fisher-z interval (n ≥ 4).

    r is NaN with fewer than 3 pairs or when x or y is constant.
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(nan, n, nan, nan, nan, level)
    r = float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))
    if abs(r) == 1.0:
        p = 0.0
    else:
        t = r * math.sqrt((n - 2) / (1 - r * r))
        p = float(2 * stats.t.sf(abs(t), n - 2))
    if n < 4 or abs(r) == 1.0:
        return Correlation(r, n, nan if n < 4 else r, nan if n < 4 else r, p, level)
    z, se = math.atanh(r), 1 / math.sqrt(n - 3)
    q = float(stats.norm.ppf(0.5 + level / 2))
    return Correlation(r, n, math.tanh(z - q * se), math.tanh(z + q * se), p, level)
