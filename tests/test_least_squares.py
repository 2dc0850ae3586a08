"""Exact check on linear least squares: SGD on a quadratic loss is affine in the weights, so
w_t, the twin's w'_t and the single-gradient w'' have closed forms by plain matrix products
(float64). The framework's weights and v must agree to 1e-8 relative."""

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from unlearn.callbacks import Unlearner
from unlearn.data.arrays import IndexedArrays
from unlearn.data.stream import BatchStream, StreamSampler
from unlearn.math.losses import TrainingObjective
from unlearn.models import Linear
from unlearn.module import UnlearnModule

N_SAMPLES, D, K, B, LR = 40, 5, 3, 8, 0.05


def _problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N_SAMPLES, D, generator=g, dtype=torch.float64)
    Y = torch.randn(N_SAMPLES, K, generator=g, dtype=torch.float64)
    return X, Y


def _grad(W, X, Y):
    """Σ_i ∇_W ‖W x̃_i − y_i‖² with x̃ = [x, 1] (weight and bias as one matrix)."""
    Xa = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], 1)
    return 2.0 * (Xa @ W.T - Y).T @ Xa


@pytest.mark.parametrize("t", [3, 13], ids=["one-epoch", "reshuffled-epochs"])
@pytest.mark.parametrize("w_ref", ["initial", "final"])
def test_framework_matches_closed_form(t, w_ref):
    X, Y = _problem()
    torch.manual_seed(0)
    net = Linear(D, K).double()
    W0 = torch.cat([net.linear.weight.detach(), net.linear.bias.detach()[:, None]], 1).clone()
    stream = BatchStream(N_SAMPLES, B, seed=0, stream_id=1)
    objective = TrainingObjective(criterion=nn.MSELoss(reduction="none"))
    module = UnlearnModule(net, objective, lambda p: torch.optim.SGD(p, lr=LR), num_classes=K)
    module.begin_phase(1)
    unlearner = Unlearner(verify_every=1, w_ref=w_ref)
    trainer = L.Trainer(
        max_steps=t,
        max_epochs=1,
        callbacks=[unlearner],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        precision="64-true",
    )
    loader = DataLoader(
        IndexedArrays(X, Y), batch_sampler=StreamSampler(stream, 0, t), collate_fn=lambda b: b
    )
    trainer.fit(module, loader)

    # closed form, by matrix products
    F = stream.indices(0)
    W, Wt = W0.clone(), W0.clone()
    forget_steps = []
    for s in range(t):
        idx = stream.indices(s)
        b = len(idx)
        W = W - LR / b * _grad(W, X[idx], Y[idx])
        keep = idx[~torch.isin(idx, F)]
        if len(keep):
            Wt = Wt - LR / b * _grad(Wt, X[keep], Y[keep])  # nominal normalisation
        lost = idx[torch.isin(idx, F)]
        if len(lost):
            forget_steps.append((lost, b))
    Wref = W0 if w_ref == "initial" else W
    W2 = W + sum(LR / b * _grad(Wref, X[lost], Y[lost]) for lost, b in forget_steps)

    got = torch.cat([net.linear.weight.detach(), net.linear.bias.detach()[:, None]], 1)
    twin = unlearner.twin.net.linear
    got_twin = torch.cat([twin.weight.detach(), twin.bias.detach()[:, None]], 1)
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
