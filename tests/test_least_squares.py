"""Exact check on linear least squares: SGD on a quadratic loss is affine in the weights, so
w_t, the twin's w'_t and the single-gradient w'' have closed forms by plain matrix products
(float64). The framework's weights and v must agree to 1e-8 relative."""

import pytest
import torch
from torch import nn
from window_fit import as_matrix, fit_window, ls_grad

from unlearn.callbacks import Unlearner
from unlearn.math.losses import TrainingObjective
from unlearn.models import Linear
from unlearn.module import UnlearnModule

N_SAMPLES, D, K, B, LR = 40, 5, 3, 8, 0.05


def _problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    return X, Y


@pytest.mark.parametrize("t", [3, 13], ids=["one-epoch", "reshuffled-epochs"])
@pytest.mark.parametrize("w_ref", ["initial", "final"])
def test_framework_matches_closed_form(t, w_ref):
    X, Y = _problem()
    torch.manual_seed(0)
    net = Linear(D, K).double()
    W0 = as_matrix(net.linear).clone()
    objective = TrainingObjective(criterion=nn.MSELoss(reduction="none"))
    module = UnlearnModule(net, objective, lambda p: torch.optim.SGD(p, lr=LR), num_classes=K)
    unlearner = Unlearner(verify_every=1, w_ref=w_ref)
    stream = fit_window(module, X, Y, t, [unlearner], B)

    # closed form, by matrix products
    F = stream.indices(0)
    W, Wt = W0.clone(), W0.clone()
    forget_steps = []
    for s in range(t):
        idx = stream.indices(s)
        b = len(idx)
        W = W - LR / b * ls_grad(W, X[idx], Y[idx])
        keep = idx[~torch.isin(idx, F)]
        if len(keep):
            Wt = Wt - LR / b * ls_grad(Wt, X[keep], Y[keep])  # nominal normalisation
        lost = idx[torch.isin(idx, F)]
        if len(lost):
            forget_steps.append((lost, b))
    Wref = W0 if w_ref == "initial" else W
    W2 = W + sum(LR / b * ls_grad(Wref, X[lost], Y[lost]) for lost, b in forget_steps)

    got = as_matrix(net.linear)
    got_twin = as_matrix(unlearner.twin.net.linear)
    w2_weight, w2_bias = unlearner.unlearned_weights(module)
    got_w2 = torch.cat([w2_weight, w2_bias[:, None]], 1)

    def rel(a, b):
        return ((a - b).norm() / b.norm()).item()

    assert rel(got, W) <= 1e-8
    assert rel(got_twin, Wt) <= 1e-8
    assert rel(got_w2, W2) <= 1e-8
    v = (Wt - W2).norm().item()
    assert unlearner.values[-1] == pytest.approx(v, rel=1e-8)
    assert unlearner.values_none[-1] == pytest.approx((Wt - W).norm().item(), rel=1e-8)
    assert len(forget_steps) == len(unlearner.records)
    if t > 5:  # the forgotten samples came back scattered: partial batches were exercised
        assert any(len(lost) < b for lost, b in forget_steps)
