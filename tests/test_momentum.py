"""Momentum and weight decay, exactly, on linear least squares (float64 closed form): the
window continues the optimiser state it is given, the twin starts from the same state and
still decays and carries momentum on a step whose batch is entirely forgotten, and the
single-gradient update weighs each removed gradient by c_s(t) = Σ_{k=0}^{t−s} β^k."""

import pytest
import torch
from torch import nn
from window_fit import as_matrix, fit_window, ls_grad

from unlearn.callbacks import Unlearner
from unlearn.experiment.run import run
from unlearn.math.losses import TrainingObjective
from unlearn.math.single_gradient import momentum_factor
from unlearn.models import Linear
from unlearn.module import UnlearnModule

N_SAMPLES, D, K, B, LR, BETA, DECAY, T = 40, 5, 3, 8, 0.05, 0.9, 0.01, 13


def _problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    M0 = 0.1 * torch.randn(K, D + 1, generator=g, dtype=torch.float64)  # "pretraining's" buffer
    return X, Y, M0


def test_momentum_factor_is_the_geometric_sum():
    assert momentum_factor(0.0, 7) == 1.0
    assert momentum_factor(0.5, 0) == 1.0
    assert momentum_factor(0.5, 2) == pytest.approx(1 + 0.5 + 0.25)


@pytest.mark.parametrize("w_ref", ["initial", "first", "final"])
def test_momentum_and_weight_decay_match_the_closed_form(w_ref):
    X, Y, M0 = _problem()
    torch.manual_seed(0)
    net = Linear(D, K).double()
    W0 = as_matrix(net.linear).clone()

    def sgd(params):
        return torch.optim.SGD(params, lr=LR, momentum=BETA, weight_decay=DECAY)

    carried = sgd(net.parameters())  # the state pretraining would hand over
    carried.state[net.linear.weight]["momentum_buffer"] = M0[:, :D].clone()
    carried.state[net.linear.bias]["momentum_buffer"] = M0[:, D].clone()
    objective = TrainingObjective(criterion=nn.MSELoss(reduction="none"))
    module = UnlearnModule(net, objective, sgd, num_classes=K)
    module.optimizer_state = carried.state_dict()
    unlearner = Unlearner(verify_every=1, w_ref=w_ref)
    stream = fit_window(module, X, Y, T, [unlearner], B)

    F = stream.indices(0)
    W, Wt, M, Mt = W0.clone(), W0.clone(), M0.clone(), M0.clone()
    terms = []  # (step s, removed batch gradient (1/b) Σ ∇ℓ at w_ref as a function)
    for s in range(1, T + 1):
        idx = stream.indices(s - 1)
        b, lost, keep = len(idx), idx[torch.isin(idx, F)], idx[~torch.isin(idx, F)]
        M = BETA * M + ls_grad(W, X[idx], Y[idx]) / b + DECAY * W
        W = W - LR * M
        data = ls_grad(Wt, X[keep], Y[keep]) / b if len(keep) else torch.zeros_like(Wt)
        Mt = BETA * Mt + data + DECAY * Wt  # a wholly forgotten batch still decays
        Wt = Wt - LR * Mt
        if len(lost):
            terms.append((s, lost, b, W.clone()))
    assert any(len(lost) == b for _, lost, b, _ in terms)  # the whole first batch
    assert any(len(lost) < b for _, lost, b, _ in terms)  # and scattered later

    def at(after_step):
        return {"initial": W0, "first": after_step, "final": W}[w_ref]

    W2 = W + sum(
        LR * sum(BETA**k for k in range(T - s + 1)) * ls_grad(at(Ws), X[lost], Y[lost]) / b
        for s, lost, b, Ws in terms
    )

    def rel(a, b):
        return ((a - b).norm() / b.norm()).item()

    w2_weight, w2_bias = unlearner.unlearned_weights(module)
    assert rel(as_matrix(net.linear), W) <= 1e-10
    assert rel(as_matrix(unlearner.twin.net.linear), Wt) <= 1e-10
    assert rel(torch.cat([w2_weight, w2_bias[:, None]], 1), W2) <= 1e-10
    assert unlearner.values[-1] == pytest.approx((Wt - W2).norm().item(), rel=1e-8)
    # the same state, not shared: the twin's buffer is its own tensor
    main_buf = module.trainer.optimizers[0].state[net.linear.weight]["momentum_buffer"]
    twin_buf = unlearner.twin.optimizer.state[unlearner.twin.net.linear.weight]["momentum_buffer"]
    assert main_buf.data_ptr() != twin_buf.data_ptr()


@pytest.mark.parametrize(
    ("optimizer", "same"),
    [(["optimizer.momentum=0.9", "lr=0.003"], False), ([], True)],
    ids=["momentum", "plain-sgd"],
)
def test_window_continues_pretrainings_optimiser_unless_asked_for_a_fresh_one(
    make_cfg, optimizer, same
):
    cont = run(make_cfg(*optimizer, "pretrain.cache=false"))
    fresh = run(make_cfg(*optimizer, "pretrain.cache=false", "window_optimizer=fresh"))
    assert cont["window_optimizer"] == "continue" and fresh["window_optimizer"] == "fresh"
    assert (cont["weight_drift"] == fresh["weight_drift"]) is same
    if same:
        return
    # with the pretrain cache the window gets the cached state: the same run, bit for bit
    cached = run(make_cfg(*optimizer))
    again = run(make_cfg(*optimizer))
    assert again["pretrain_cache"] == "hit"
    assert cached["weight_drift"] == again["weight_drift"] == cont["weight_drift"]
