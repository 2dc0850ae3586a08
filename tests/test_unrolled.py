"""Exact check of `unrolled` on linear least squares: the Hessian is constant and the gradient
affine, so the first-order propagation of the removed gradients is the whole story and
w'' must equal the twin's w' to float64 precision, at any η (single-gradient does not)."""

import pytest
import torch
from torch import nn
from window_fit import fit_window

from unlearn.callbacks import Unlearner
from unlearn.math.losses import TrainingObjective
from unlearn.methods import SingleGradient, Unrolled
from unlearn.models import Linear
from unlearn.module import UnlearnModule

N_SAMPLES, D, K, B = 40, 5, 3, 8


def _window(method, lr, t):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    torch.manual_seed(0)
    net = Linear(D, K).double()
    objective = TrainingObjective(criterion=nn.MSELoss(reduction="none"))
    module = UnlearnModule(net, objective, lambda p: torch.optim.SGD(p, lr=lr), num_classes=K)
    unlearner = Unlearner(method=method, verify_every=1)
    fit_window(module, X, Y, t, [unlearner], B)
    return unlearner


@pytest.mark.parametrize("lr", [0.01, 0.1, 0.3])
@pytest.mark.parametrize("t", [5, 13], ids=["one-epoch", "reshuffled-epochs"])
def test_unrolled_equals_the_twin_on_least_squares(lr, t):
    unrolled = _window(Unrolled(), lr, t)
    single = _window(SingleGradient(), lr, t)
    scale = unrolled.values_none[-1]
    assert scale > 1e-3  # something was forgotten and it moved the weights
    assert unrolled.values[-1] <= 1e-10 * scale  # v = ‖w' − w''‖ vanishes
    assert max(unrolled.values) <= 1e-10 * max(unrolled.values_none)
    assert single.values[-1] > 1e-3 * scale  # single-gradient leaves a curvature gap
    assert single.values_none == unrolled.values_none  # the same twin, the same main model
    cost = unrolled.method.total_cost()
    # one product per step after the first forget step, one gradient per forget step
    assert cost.hessian_vector_products == t - 1
