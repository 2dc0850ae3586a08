"""Exact check of `influence` on a tiny float64 network: its CG solve of
(H_R + λI) x = (1/|R|) Σ_F ∇ℓ equals a dense solve with the Hessian built entry by entry."""

import pytest
import torch
from torch import nn
from torch.func import functional_call

from unlearn.math.losses import TrainingObjective
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods import Influence

B, TRAIN_SIZE, DAMPING = 6, 100, 0.5


def _setup():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    g = torch.Generator().manual_seed(1)
    batches = [
        (
            torch.randn(B, 3, generator=g, dtype=torch.float64),
            torch.randint(0, 2, (B,), generator=g),
        )
        for _ in range(3)
    ]
    masks = [torch.zeros(B, dtype=torch.bool) for _ in batches]
    masks[0][:] = True  # the first batch is the forget set
    masks[1][:2] = True  # two of its samples come back in the second
    records = [
        ForgetStep(s + 1, x, y, m, 0)
        for s, ((x, y), m) in enumerate(zip(batches, masks, strict=True))
    ]
    return net, TrainingObjective(), records


def _flat_loss(net, objective, x, y, size):
    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]

    def loss(flat):
        parts, at = {}, 0
        for n, s in zip(names, shapes, strict=True):
            parts[n] = flat[at : at + s.numel()].view(s)
            at += s.numel()
        return objective.per_sample(functional_call(net, parts, (x,)), y).sum() / size

    return loss


def test_influence_matches_a_dense_newton_step():
    net, objective, records = _setup()
    n_params = sum(p.numel() for p in net.parameters())
    method = Influence(damping=DAMPING, iterations=3 * n_params, retain_batches=2, tol=1e-14)
    method.start(net)
    method.train_size = TRAIN_SIZE
    for r in records:
        if r.mask.any():
            method.after_step(net, objective, r, 0.1)
        method.on_step(net, objective, r, 0.1)
    w = torch.cat([p.detach().flatten() for p in net.parameters()])
    got = torch.cat([t.flatten() for t in method.unlearned(net, objective, 0.1, net)])

    # dense: H_R = mean of the two retain batches' mean-loss Hessians (kept samples only)
    hessians = []
    for r in records[1:]:
        keep = ~r.mask
        f = _flat_loss(net, objective, r.x[keep], r.y[keep], int(keep.sum()))
        hessians.append(torch.autograd.functional.hessian(f, w))
    H = sum(hessians) / len(hessians)
    uses = sum(int(r.mask.sum()) for r in records)
    g = sum(
        torch.autograd.functional.jacobian(
            _flat_loss(net, objective, r.x[r.mask], r.y[r.mask], TRAIN_SIZE - uses), w
        )
        for r in records[:2]
    )
    A = H + DAMPING * torch.eye(n_params, dtype=torch.float64)
    assert torch.linalg.eigvalsh(A).min() > 0  # CG's premise holds
    expected = w + torch.linalg.solve(A, g)
    assert torch.allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert (got - w).norm() > 1e-4  # the step is not empty
    assert method.report()["cg_relative_residual"] <= 1e-10
    cost = method.total_cost()
    assert cost.hessian_vector_products == 2 * (method.cg_iterations + 1)  # + the residual check


def test_influence_rejects_bad_settings():
    with pytest.raises(ValueError, match="allowed: damping >= 0"):
        Influence(damping=-1.0)
