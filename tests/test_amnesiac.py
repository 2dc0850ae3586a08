"""Amnesiac unlearning, exactly: on linear least squares (SGD affine in the weights) against
closed forms in float64, and on a nonlinear net when the forgotten batch is the last step
of the window, where subtracting its update must give back the twin up to rounding."""

import pytest
import torch
from torch import nn
from window_fit import as_matrix, fit_window, ls_grad

from unlearn.callbacks import Unlearner
from unlearn.data.stream import BatchStream
from unlearn.forget import Indices
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.models import MLP, Linear
from unlearn.module import UnlearnModule

N_SAMPLES, D, K, B, LR = 40, 5, 3, 8, 0.05


def _fit(net, objective, x, y, t, unlearner):
    module = UnlearnModule(net, objective, lambda p: torch.optim.SGD(p, lr=LR), num_classes=K)
    return module, fit_window(module, x, y, t, [unlearner], B)


@pytest.mark.parametrize("t", [3, 13], ids=["one-epoch", "reshuffled-epochs"])
def test_amnesiac_matches_closed_form_least_squares(t):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    torch.manual_seed(0)
    net = Linear(D, K).double()
    W0 = as_matrix(net.linear).clone()
    unlearner = Unlearner(method="amnesiac", verify_every=1)
    module, stream = _fit(
        net, TrainingObjective(criterion=nn.MSELoss(reduction="none")), X, Y, t, unlearner
    )

    F = stream.indices(0)
    W, Wt, stored = W0.clone(), W0.clone(), []
    for s in range(t):
        idx = stream.indices(s)
        b = len(idx)
        step = -LR / b * ls_grad(W, X[idx], Y[idx])
        W = W + step
        keep = idx[~torch.isin(idx, F)]
        if len(keep):
            Wt = Wt - LR / b * ls_grad(Wt, X[keep], Y[keep])
        if torch.isin(idx, F).any():
            stored.append(step)
    W2 = W - sum(stored)

    got_w2 = torch.cat([w if w.dim() == 2 else w[:, None] for w in unlearner.final_unlearned], 1)
    rel = ((got_w2 - W2).norm() / W2.norm()).item()
    assert rel <= 1e-8
    assert unlearner.values[-1] == pytest.approx((Wt - W2).norm().item(), rel=1e-8)
    param_bytes = sum(p.numel() * 8 for p in module.net.parameters())
    assert unlearner.method.storage_bytes == len(stored) * param_bytes
    assert unlearner.summary()["amnesiac_bytes"] == len(stored) * param_bytes


@pytest.mark.parametrize("t", [2, 5])
def test_forgotten_last_batch_gives_back_the_twin(t):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(N_SAMPLES, 6, generator=g, dtype=torch.float64)
    y = torch.randint(0, K, (N_SAMPLES,), generator=g)
    torch.manual_seed(0)
    net = MLP(6, K, hidden=(16,), dropout=0.2).double()  # nonlinear, with seeded dropout
    last = BatchStream(N_SAMPLES, B, seed=0, stream_id=1).indices(t - 1).tolist()
    unlearner = Unlearner(forget=Indices(last), method="amnesiac", verify_every=t)
    _fit(net, TrainingObjective(gamma=0.5), x, y, t, unlearner)

    twin = torch.cat([p.detach().flatten() for p in trainable(unlearner.twin.net).values()])
    w2 = torch.cat([w.flatten() for w in unlearner.final_unlearned])
    assert unlearner.twin.steps_skipped == 1 and len(unlearner.records) == 1
    assert ((twin - w2).norm() / twin.norm()).item() <= 1e-12
    assert unlearner.values_none[-1] > 1e-4  # the last step did move the weights
