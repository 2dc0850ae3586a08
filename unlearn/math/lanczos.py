"""Lanczos for the extreme eigenvalues of a symmetric operator given by its products.

Why: the spectral norm max |λ| is an extreme eigenvalue, and Lanczos reaches a given
tolerance in far fewer Hessian-vector products than power iteration (its Krylov space
contains the power iterate, so it is never worse). The tridiagonal coefficients stay
on the device and come to the host only at convergence checks: one synchronisation
per check, and usually one check per estimate, because the first check is placed at
the iteration count the previous estimate needed (`first_check`).

Convergence is the residual of the top Ritz pair, ‖Hq − θq‖ = β_k |y_k| ≤ tol · |θ| (free
from the tridiagonal), not a small change of θ: from a warm start near λ₂'s eigenvector θ
sits still on λ₂ while λ₁ has yet to enter the Krylov space, yet the Ritz vector then still
carries λ₁'s share of the (partly random, `start_vector`) start, so its residual stays large.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from unlearn.math.krylov import SpectrumEstimate, _dot, _norm, start_vector


def _ritz(alphas: np.ndarray, betas: np.ndarray) -> tuple[float, np.ndarray, float]:
    """The Ritz pair of largest |θ| of the tridiagonal T (its eigenvector in T) and the pair's
    residual ‖Hq − θq‖ = β_k |y_k| (β_k: the last, not yet used, off-diagonal)."""
    k = len(alphas)
    T = np.diag(alphas)
    if k > 1:
        T += np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
    values, vectors = np.linalg.eigh(T)
    i = int(np.argmax(np.abs(values)))
    return float(values[i]), vectors[:, i], abs(float(betas[k - 1]) * float(vectors[-1, i]))


def lanczos(
    hvp: Callable[[list[Tensor]], list[Tensor]],
    like: list[Tensor],
    max_iter: int = 100,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
    init: list[Tensor] | None = None,
    first_check: int = 4,
    check_every: int = 2,
) -> SpectrumEstimate:
    """Largest-magnitude eigenvalue by Lanczos with full reorthogonalisation.

    Stops when the largest-magnitude Ritz pair's residual is ≤ `tol` · |θ| (an invariant
    Krylov space has residual 0: the value is exact), or after `max_iter` products. `init`
    (a warm start) is mixed with seeded noise (`start_vector`).
    """
    q = start_vector(like, generator, init)
    basis: list[list[Tensor]] = []
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    next_check = max(2, min(first_check, max_iter))
    value, y = 0.0, np.ones(1)
    while True:
        basis.append(q)
        r = hvp(q)
        alphas.append(_dot(q, r))
        for b in basis:  # full reorthogonalisation (twice is enough, once is usually fine)
            torch._foreach_add_(r, b, alpha=-_dot(b, r))
        beta = _norm(r)
        betas.append(beta)
        k = len(basis)
        if k >= next_check or k >= max_iter:
            a = torch.stack(alphas).double().cpu().numpy()  # the one sync of this check
            bt = torch.stack(betas).double().cpu().numpy()
            value, y, residual = _ritz(a, bt)
            if k >= max_iter or residual <= tol * abs(value):
                break
            next_check = k + check_every
        q = torch._foreach_div(r, beta)
    vector = [torch.zeros_like(x) for x in basis[0]]
    for coef, b in zip(y.tolist(), basis, strict=True):
        torch._foreach_add_(vector, b, alpha=coef)
    torch._foreach_div_(vector, _norm(vector))
    value_t = torch.tensor(value, dtype=torch.float64)  # on the host already: no extra sync
    return SpectrumEstimate(
        norm=value_t.abs(), rayleigh=value_t, iterations=len(basis), vector=vector
    )
