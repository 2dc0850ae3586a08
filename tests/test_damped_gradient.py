"""Exact check of `damped_gradient`: on a quadratic whose Hessian is the same at every step and
has k distinct non-zero eigenvalues (rank k), damping the single-gradient update along the
top-k eigenvectors is the whole curvature correction, so w'' equals `unrolled`'s."""

import pytest
import torch
from torch import Tensor, nn
from window_fit import fit_window

from unlearn.callbacks import HessianCurvature, Unlearner
from unlearn.math.losses import TrainingObjective
from unlearn.methods import DampedGradient, SingleGradient, Unrolled
from unlearn.module import UnlearnModule

N_SAMPLES, DIM, K, B, LR = 40, 6, 3, 8, 0.05


class ConstantCurvature(nn.Module):
    """Outputs A·w for every sample: ℓ_i = ‖A w − y_i‖², Hessian 2AᵀA at every step."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        U, _ = torch.linalg.qr(torch.randn(DIM, DIM, generator=g, dtype=torch.float64))
        singular = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)  # k distinct values
        self.register_buffer("A", singular[:, None] * U[:, :K].T)
        self.w = nn.Parameter(torch.randn(DIM, generator=g, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        return (self.A @ self.w).expand(x.shape[0], K)


def _window(method):
    g = torch.Generator().manual_seed(1)
    X = torch.zeros(N_SAMPLES, 1, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    objective = TrainingObjective(criterion=nn.MSELoss(reduction="none"))
    module = UnlearnModule(
        ConstantCurvature(), objective, lambda p: torch.optim.SGD(p, lr=LR), num_classes=K
    )
    spectrum = HessianCurvature(3, top_k=K, max_iter=DIM, tol=1e-12)
    unlearner = Unlearner(method=method, verify_every=1)
    fit_window(module, X, Y, N_SAMPLES // B, [spectrum, unlearner], B)
    return unlearner, spectrum


def test_damped_gradient_equals_unrolled_on_a_constant_rank_k_hessian():
    damped, spectrum = _window(DampedGradient(top_k=K))
    unrolled, _ = _window(Unrolled())
    single, _ = _window(SingleGradient())
    expected = sorted((2 * torch.tensor([3.0, 2.0, 1.0]) ** 2).tolist(), reverse=True)
    assert spectrum.top_values[-1] == pytest.approx(expected, rel=1e-10)
    assert damped.values_none == unrolled.values_none
    assert damped.values[-1] == pytest.approx(unrolled.values[-1], rel=1e-9, abs=1e-13)
    w_damped = torch.cat([t.flatten() for t in damped.final_unlearned])
    w_unrolled = torch.cat([t.flatten() for t in unrolled.final_unlearned])
    assert torch.allclose(w_damped, w_unrolled, rtol=1e-10, atol=1e-13)
    assert single.values[-1] > 10 * damped.values[-1] + 1e-6  # the damping mattered
    assert damped.method.total_cost().hessian_vector_products == 0


def test_fewer_vectors_than_asked_is_refused():
    method = DampedGradient(top_k=5)
    with pytest.raises(ValueError, match="allowed <= spectrum.top_k=3"):
        method.attach_callbacks([HessianCurvature(3, top_k=3)])


def test_bad_top_k_stops_before_training(make_cfg):
    from unlearn.config.errors import ConfigError
    from unlearn.methods import check_method

    with pytest.raises(ConfigError, match="unlearn.top_k=5: allowed <= spectrum.top_k=2"):
        check_method(make_cfg("unlearn=damped_gradient", "unlearn.top_k=5", "spectrum.top_k=2"))
    with pytest.raises(ConfigError, match="spectrum.top_k=3: allowed 1 unless sigma.engine"):
        check_method(make_cfg("spectrum.top_k=3", "sigma.engine=power"))
    with pytest.raises(ConfigError, match="unlearn.method=unrolled: allowed with plain SGD"):
        check_method(make_cfg("unlearn=unrolled", "optimizer.momentum=0.9"))
    check_method(make_cfg("unlearn=damped_gradient", "unlearn.top_k=5"))  # follows it


def test_the_report_says_when_a_factor_amplifies_past_the_edge_of_stability():
    """On CIFAR-10 plain SGD settles at η λ₁ ≈ 2: there |1 − η λ| > 1 and the linearised
    product grows instead of damping (it overflowed in 5 of 6 windows); the report says so."""
    damped, _ = _window(DampedGradient(top_k=K))
    assert damped.method.report() == {"largest_rate": pytest.approx(0.9), "amplified": False}

    class OneDirection:
        top_k = 1

        def latest_top_k(self):
            return [18.0], [[torch.ones(2, dtype=torch.float64) / 2**0.5]]

    method = DampedGradient(top_k=1)
    method.attach_callbacks([OneDirection()])
    method.update, method.active, method.lr = [torch.ones(2, dtype=torch.float64)], True, 0.12
    method.before_step(nn.Linear(1, 1))
    assert method.report() == {"largest_rate": pytest.approx(1.16), "amplified": True}
    assert method.update[0] == pytest.approx(torch.full((2,), -1.16, dtype=torch.float64))
