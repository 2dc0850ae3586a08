"""Pearson's r with its sample size, confidence interval and p-value (scipy.stats.pearsonr).

The paper reports r alone. With 5 or 10 points an r of 0.9 is compatible with a weak
correlation, so the report always gives n and the interval beside r, and marks an r
drawn from fewer than `MIN_RELIABLE` points.

Caveat, written into the report: the points of one run "along t" are successive states
of one trajectory, not independent samples, so their interval is too narrow.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MIN_RELIABLE = 5  # fewer points than this: r is shown, marked as not to be relied on


@dataclass(frozen=True)
class Correlation:
    """r, n, the confidence interval [low, high] at `level`, and the two-sided p-value."""

    r: float
    n: int
    low: float
    high: float
    p: float
    level: float = 0.95

    @property
    def few(self) -> bool:
        """Fewer than `MIN_RELIABLE` points."""
        return self.n < MIN_RELIABLE

    def text(self) -> str:
        """'0.93 [0.81, 0.98], n = 12' ('—' where it is undefined; n < 5 marked)."""
        mark = f" (n < {MIN_RELIABLE})" if self.few else ""
        if math.isnan(self.r):
            return f"— (n = {self.n})"
        if math.isnan(self.low):
            return f"{self.r:.3f}, n = {self.n}{mark}"
        return f"{self.r:.3f} [{self.low:.3f}, {self.high:.3f}], n = {self.n}{mark}"

    def label(self) -> str:
        """A figure's 'r = 0.930, 95 % CI [0.81, 0.98], n = 12': every r a figure prints
        carries its interval, or says why there is none (n < 4: it would be [−1, 1])."""
        if math.isnan(self.r):
            return f"r —, n = {self.n}"
        if math.isnan(self.low):
            return f"r = {self.r:.3f}, n = {self.n}: no 95 % CI below n = 4"
        pct = f"{100 * self.level:g}"
        return f"r = {self.r:.3f}, {pct} % CI [{self.low:.2f}, {self.high:.2f}], n = {self.n}"


def pearson(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Correlation:
    """Pearson's r of the finite pairs (x_i, y_i), with scipy's Fisher-z interval (n ≥ 4).

    r is NaN with fewer than 3 pairs or when x or y is constant; the interval is NaN
    with 3 pairs (it would be [−1, 1]).
    """
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    nan = float("nan")
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return Correlation(nan, n, nan, nan, nan, level)
    with warnings.catch_warnings():  # |r| = 1 warns about a degenerate interval; it is [r, r]
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.pearsonr(a, b)
        r, p = float(result.statistic), float(result.pvalue)
        if n < 4:
            return Correlation(r, n, nan, nan, p, level)
        ci = result.confidence_interval(confidence_level=level)
    return Correlation(r, n, float(ci.low), float(ci.high), p, level)
