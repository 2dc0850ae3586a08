"""σ against the exact spectral norm (torch.func.hessian + eigvalsh) on tiny models, and the
probe's promise to leave no trace on training."""

import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call, hessian

from unlearn.math.hessian import functional_loss, hessian_spectrum, power_iteration
from unlearn.math.losses import TrainingObjective
from unlearn.math.pyhessian_engine import pyhessian_spectrum
from unlearn.models import MLP


def _data(n=16, d=6, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randint(
        0, c, (n,), generator=g
    )


def _exact_eigs(net, objective, x, y):
    """Eigenvalues of the full Hessian of the batch objective, BatchNorm on batch statistics."""
    exact_net = copy.deepcopy(net)
    for m in exact_net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.track_running_stats = False
            m.running_mean = m.running_var = m.num_batches_tracked = None
    names = [n for n, _ in exact_net.named_parameters()]
    shapes = [p.shape for _, p in exact_net.named_parameters()]
    flat = torch.cat([p.detach().flatten() for p in exact_net.parameters()])

    def f(w):
        params, i = {}, 0
        for n, s in zip(names, shapes, strict=True):
            k = s.numel()
            params[n] = w[i : i + k].view(s)
            i += k
        out = functional_call(exact_net, params, (x,))
        return objective.batch_loss(out, y, params.values())

    return torch.linalg.eigvalsh(hessian(f)(flat))


@pytest.mark.parametrize(
    "net_kwargs, gamma",
    [({"hidden": [5]}, 0.0), ({"hidden": [5]}, 2.0), ({"hidden": [4], "batch_norm": True}, 1.0)],
    ids=["mlp", "mlp-sd", "batchnorm-train"],
)
@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_sigma_matches_exact_spectral_norm(net_kwargs, gamma, method):
    torch.manual_seed(0)
    net = MLP(in_features=6, num_classes=3, **net_kwargs).double().train()
    objective = TrainingObjective(gamma=gamma)
    x, y = _data()
    exact = _exact_eigs(net, objective, x, y).abs().max().item()
    # power iteration's stopping test is weak, so it needs a tighter tol for 1e-3 accuracy
    tol = 1e-9 if method == "power" else 1e-4
    loss = functional_loss(objective, x, y)
    est = hessian_spectrum(net, loss, max_iter=5000, tol=tol, method=method)
    assert abs(est.norm.item() - exact) / exact <= 1e-3


class _Quadratic(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([0.3, -0.2, 0.5, 0.1], dtype=torch.float64))

    def forward(self, x):
        return x


def test_negative_dominant_eigenvalue_gives_its_magnitude():
    # H = Q diag(-5, 2, 1, 0.5) Qᵀ: σ = 5, and the reference definition sqrt(λ_top) is NaN.
    q, _ = torch.linalg.qr(
        torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    )
    A = q @ torch.diag(torch.tensor([-5.0, 2.0, 1.0, 0.5], dtype=torch.float64)) @ q.T
    net = _Quadratic()

    def loss_fn(net, params, buffers):
        w = params["w"]
        return 0.5 * w @ A @ w

    est = hessian_spectrum(net, loss_fn, max_iter=2000, tol=1e-12)
    assert est.norm.item() == pytest.approx(5.0, rel=1e-6)
    assert est.rayleigh.item() == pytest.approx(-5.0, rel=1e-6)
    assert torch.isnan(est.value("sqrt_top_eig"))


def test_power_iteration_with_symmetric_pair_still_finds_the_norm():
    # eigenvalues ±3: the Rayleigh quotient is useless, ‖Hv‖ still converges to 3.
    H = torch.diag(torch.tensor([3.0, -3.0, 1.0], dtype=torch.float64))
    est = power_iteration(
        lambda v: [H @ v[0]],
        [torch.zeros(3, dtype=torch.float64)],
        max_iter=200,
        tol=1e-12,
        generator=torch.Generator().manual_seed(0),
    )
    assert est.norm.item() == pytest.approx(3.0, rel=1e-9)


def _state(net):
    return (
        [m.training for m in net.modules()],
        {n: b.clone() for n, b in net.named_buffers()},
        [None if p.grad is None else p.grad.clone() for p in net.parameters()],
    )


@pytest.mark.parametrize("engine", ["power", "lanczos", "pyhessian"])
def test_probe_leaves_no_trace(engine):
    torch.manual_seed(0)
    net = (
        MLP(in_features=6, num_classes=3, hidden=[4], batch_norm=True, dropout=0.2).double().train()
    )
    objective = TrainingObjective(gamma=1.0)
    x, y = _data()
    # a gradient already sitting in .grad must survive the probe untouched
    objective.batch_loss(net(x), y, []).backward()
    modes, buffers, grads = _state(net)
    rng = torch.get_rng_state()
    if engine != "pyhessian":
        loss = functional_loss(objective, x, y)
        hessian_spectrum(net, loss, max_iter=50, tol=1e-6, seed=3, method=engine)
    else:
        pyhessian_spectrum(net, objective, x, y, max_iter=50, tol=1e-6, seed=3)
    modes2, buffers2, grads2 = _state(net)
    assert modes2 == modes
    assert all(torch.equal(buffers[n], buffers2[n]) for n in buffers)
    assert all(torch.equal(a, b) and b.grad_fn is None for a, b in zip(grads, grads2, strict=True))
    assert torch.equal(torch.get_rng_state(), rng)


def test_pyhessian_agrees_with_own_engine_in_train_mode():
    torch.manual_seed(0)
    net = MLP(in_features=6, num_classes=3, hidden=[5], batch_norm=True).double().train()
    objective = TrainingObjective(gamma=0.5)
    x, y = _data()
    own = hessian_spectrum(
        net, functional_loss(objective, x, y), max_iter=3000, tol=1e-10
    ).norm.item()
    ref = pyhessian_spectrum(net, objective, x, y, max_iter=3000, tol=1e-10).norm.item()
    assert ref == pytest.approx(own, rel=1e-3)


def test_initial_point_is_used_when_given():
    torch.manual_seed(0)
    net = MLP(in_features=6, num_classes=3, hidden=[5]).double()
    objective = TrainingObjective()
    x, y = _data()
    w0 = {n: p.detach().clone() for n, p in net.named_parameters()}
    before = hessian_spectrum(net, functional_loss(objective, x, y), max_iter=500, tol=1e-10).norm
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)
    at_w0 = hessian_spectrum(
        net, functional_loss(objective, x, y), w0, max_iter=500, tol=1e-10
    ).norm
    assert at_w0.item() == pytest.approx(before.item(), rel=1e-8)
