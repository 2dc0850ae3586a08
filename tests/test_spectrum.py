"""The Hessian spectrum beyond σ against the exact eigendecomposition of a tiny network's
Hessian (built entry by entry): our top-k, Hutchinson trace and SLQ density exactly (the
same seeded probes, reproduced densely), pyhessian's as the cross-check."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call

from unlearn.math.hessian import functional_loss
from unlearn.math.hvp import BatchHessian
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.math.pyhessian_spectrum import pyhessian_curvature
from unlearn.math.spectrum import _rademacher, hutchinson_trace, spectral_density, top_k


def _tiny(dtype):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).to(dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, generator=g).to(dtype)
    y = torch.randint(0, 3, (16,), generator=g)
    return net, TrainingObjective(), x, y


def _dense_hessian(net, objective, x, y):
    names = list(trainable(net))
    shapes = [p.shape for p in trainable(net).values()]
    w = torch.cat([p.detach().double().flatten() for p in trainable(net).values()])
    net64 = _copy64(net)

    def loss(flat):
        parts, at = {}, 0
        for n, s in zip(names, shapes, strict=True):
            parts[n] = flat[at : at + s.numel()].view(s)
            at += s.numel()
        return objective.batch_loss(functional_call(net64, parts, (x.double(),)), y, ())

    return torch.autograd.functional.hessian(loss, w)


def _copy64(net):
    import copy

    return copy.deepcopy(net).double()


def _flat(v):
    return torch.cat([t.flatten() for t in v]).double()


@pytest.fixture(scope="module")
def exact():
    net, objective, x, y = _tiny(torch.float64)
    H = _dense_hessian(net, objective, x, y)
    values, vectors = torch.linalg.eigh(H)
    return net, objective, x, y, H, values, vectors


def test_top_k_matches_the_exact_eigenpairs(exact):
    net, objective, x, y, H, values, vectors = exact
    hvp = BatchHessian(net, functional_loss(objective, x, y), trainable(net))
    n = H.shape[0]
    got = top_k(hvp, hvp.leaves, k=3, max_iter=n, tol=1e-12, seed=0)
    order = torch.argsort(values.abs(), descending=True)[:3]
    assert got.values == pytest.approx(values[order].tolist(), rel=1e-8)
    for v, i in zip(got.vectors, order.tolist(), strict=True):
        assert abs(float(_flat(v) @ vectors[:, i])) == pytest.approx(1.0, abs=1e-8)


def test_hutchinson_is_the_mean_of_the_same_probes_done_densely(exact):
    net, objective, x, y, H, values, _ = exact
    hvp = BatchHessian(net, functional_loss(objective, x, y), trainable(net))
    est = hutchinson_trace(hvp, hvp.leaves, probes=50, seed=3)
    gen = torch.Generator().manual_seed(3)
    samples = []
    for _ in range(50):
        z = _flat(_rademacher(hvp.leaves, gen))
        samples.append(float(z @ H @ z))
    assert est.value == pytest.approx(np.mean(samples), rel=1e-10)
    assert est.standard_error == pytest.approx(np.std(samples, ddof=1) / np.sqrt(50), rel=1e-8)
    # and it estimates the trace: within 4 standard errors, whose size theory predicts
    trace = float(values.sum())
    assert abs(est.value - trace) <= 4 * est.standard_error
    off = float((H**2).sum() - (torch.diagonal(H) ** 2).sum())
    assert est.standard_error == pytest.approx(np.sqrt(2 * off / 50), rel=0.5)


def test_slq_with_a_full_krylov_space_is_exact(exact):
    net, objective, x, y, H, values, vectors = exact
    hvp = BatchHessian(net, functional_loss(objective, x, y), trainable(net))
    n = H.shape[0]
    density = spectral_density(hvp, hvp.leaves, steps=n, probes=2, seed=5)
    gen = torch.Generator().manual_seed(5)
    for nodes, weights in zip(density.nodes, density.weights, strict=True):
        q = _flat(_rademacher(hvp.leaves, gen))
        q = q / q.norm()
        nodes, weights = np.array(nodes), np.array(weights)
        assert weights.sum() == pytest.approx(1.0, abs=1e-10)
        for p in (1, 2, 3):  # Σ w λ^p = qᵀ H^p q: the quadrature is exact for polynomials
            exact_moment = float(q @ torch.linalg.matrix_power(H, p) @ q)
            assert float((weights * nodes**p).sum()) == pytest.approx(exact_moment, rel=1e-7)
        heavy = nodes[weights > 1e-8]  # the nodes that carry weight are eigenvalues
        assert np.abs(heavy[:, None] - values.numpy()[None, :]).min(1).max() < 1e-7


def test_pyhessian_agrees_with_the_exact_spectrum():
    net, objective, x, y = _tiny(torch.float32)
    H = _dense_hessian(net, objective, x, y)
    values = torch.linalg.eigvalsh(H)
    n = H.shape[0]
    got = pyhessian_curvature(
        net, objective, x, y, top_k=2, trace_iter=200, density_steps=n, tol=1e-6, seed=0
    )
    top = sorted(values.tolist(), reverse=True)[:2]  # pyhessian: power iteration, deflated
    assert got["top"] == pytest.approx(top, rel=1e-2)
    assert abs(got["trace"] - float(values.sum())) <= 4 * got["trace_se"]
    nodes, weights = np.array(got["nodes"][0]), np.array(got["weights"][0])
    assert weights.sum() == pytest.approx(1.0, abs=1e-4)
    heavy = nodes[weights > 1e-4]  # with a full Krylov space its nodes are eigenvalues
    scale = float(values.abs().max())
    assert np.abs(heavy[:, None] - values.numpy()[None, :]).min(1).max() < 1e-3 * scale


def test_probes_leave_no_trace_on_the_module():
    net, objective, x, y = _tiny(torch.float32)
    before = [p.detach().clone() for p in net.parameters()]
    state, eig_before = torch.get_rng_state(), getattr(torch, "eig", None)
    pyhessian_curvature(net, objective, x, y, top_k=1, trace_iter=5, density_steps=5)
    hvp = BatchHessian(net, functional_loss(objective, x, y), trainable(net))
    hutchinson_trace(hvp, hvp.leaves, probes=3)
    assert all(p.grad is None for p in net.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    assert torch.equal(state, torch.get_rng_state())
    assert net.training and torch.eig is eig_before


@pytest.mark.parametrize("k", [1, 2])
def test_top_k_from_a_warm_start_on_lambda_2_finds_lambda_1(k):
    # λ₁ = 10 and λ₂ = 9.5, warm start exactly on λ₂'s eigenvector: the top pair is still λ₁
    eigs = [10.0, 9.5, *torch.linspace(-1.0, 8.0, 198).tolist()]
    q, _ = torch.linalg.qr(
        torch.randn(200, 200, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    )
    H = q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ q.T
    got = top_k(
        lambda v: [H @ v[0]],
        [torch.zeros(200, dtype=torch.float64)],
        k,
        200,
        1e-4,
        0,
        [q[:, 1].clone()],
    )
    assert got.values == pytest.approx(eigs[:k], rel=1e-4)
