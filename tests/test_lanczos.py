"""Lanczos σ: exact answers, and at least as accurate as power iteration at the same tol."""

import pytest
import torch

from unlearn.math.hessian import power_iteration
from unlearn.math.lanczos import lanczos


def _operator(eigs, seed=0):
    n = len(eigs)
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64, generator=g))
    H = q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ q.T
    return (lambda v: [H @ v[0]]), [torch.zeros(n, dtype=torch.float64)]


def test_finds_the_largest_magnitude_eigenvalue_with_its_sign():
    hvp, like = _operator([-12.0, 1.0, 2.0, 3.0, 9.0, 0.5])
    est = lanczos(hvp, like, max_iter=50, tol=1e-12, generator=torch.Generator().manual_seed(0))
    assert est.norm.item() == pytest.approx(12.0, rel=1e-10)
    assert est.rayleigh.item() == pytest.approx(-12.0, rel=1e-10)
    assert est.iterations <= 6  # invariant after n products: exact


def test_more_accurate_than_power_iteration_at_the_same_tolerance():
    eigs = torch.linspace(-1.0, 10.0, 300).tolist()
    eigs[-2] = 9.5  # a small gap: power iteration stalls and stops early
    hvp, like = _operator(eigs)
    kw = {"max_iter": 1000, "tol": 1e-4}
    lz = lanczos(hvp, like, generator=torch.Generator().manual_seed(1), **kw)
    pw = power_iteration(hvp, like, generator=torch.Generator().manual_seed(1), **kw)
    assert abs(lz.norm.item() - 10.0) / 10.0 <= 1e-3
    assert abs(lz.norm.item() - 10.0) < abs(pw.norm.item() - 10.0)
    assert lz.iterations < pw.iterations


def test_warm_start_from_the_ritz_vector_converges_at_once():
    hvp, like = _operator(torch.linspace(-1.0, 10.0, 200).tolist())
    cold = lanczos(hvp, like, max_iter=200, tol=1e-8, generator=torch.Generator().manual_seed(2))
    warm = lanczos(hvp, like, max_iter=200, tol=1e-8, init=cold.vector, first_check=2)
    assert warm.norm.item() == pytest.approx(10.0, rel=1e-7)
    assert warm.iterations < cold.iterations


def _close_pair(seed=3):
    """λ₁ = 10, λ₂ = 9.5 (5 % apart) over a bulk in [−1, 8]; returns the operator, λ₂'s vector."""
    eigs = [10.0, 9.5, *torch.linspace(-1.0, 8.0, 198).tolist()]
    n = len(eigs)
    q, _ = torch.linalg.qr(
        torch.randn(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    )
    H = q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ q.T
    return (lambda v: [H @ v[0]]), [torch.zeros(n, dtype=torch.float64)], [q[:, 1].clone()]


@pytest.mark.parametrize("engine", [lanczos, power_iteration], ids=["lanczos", "power"])
def test_a_warm_start_on_lambda_2_still_finds_lambda_1(engine):
    # the previous event's top vector can be exactly the eigenvector of today's λ₂: the
    # estimate must still be λ₁ = 10 to the tolerance (|θ − λ| ≤ residual ≤ tol·|θ|)
    hvp, like, v2 = _close_pair()
    est = engine(hvp, like, 3000, 1e-4, torch.Generator().manual_seed(0), v2)
    assert abs(est.norm.item() - 10.0) <= 1e-4 * 10.0
    assert abs(est.rayleigh.item() - 10.0) <= 1e-4 * 10.0


def test_power_iteration_stops_on_the_residual_not_on_a_slow_change():
    # a cold start on the 5 %-gap operator: ‖Hv‖ changes by < 1e-4 per step long before it
    # is within 1e-4 of λ₁; the residual test keeps going until it is
    hvp, like, _ = _close_pair()
    est = power_iteration(hvp, like, 3000, 1e-4, torch.Generator().manual_seed(0))
    assert abs(est.norm.item() - 10.0) <= 1e-4 * 10.0
