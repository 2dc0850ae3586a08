"""The curvature methods inside the framework: the every-step hook leaves training and the
twin untouched, costs are counted in Hessian-vector products, and state survives a save
and a load mid-window."""

import io

import pytest
import torch
from window_fit import fit_window

from unlearn.callbacks import HessianCurvature, Unlearner
from unlearn.forget import RandomK
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods import DampedGradient, Influence, Unrolled, build
from unlearn.models import MLP
from unlearn.module import UnlearnModule

N_SAMPLES, B, K, LR = 40, 8, 3, 0.05


def _problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_SAMPLES, 6, generator=g, dtype=torch.float64)
    return x, torch.randint(0, K, (N_SAMPLES,), generator=g)


def test_every_step_methods_leave_training_and_the_twin_alone():
    x, y = _problem()
    torch.manual_seed(0)
    module = UnlearnModule(
        MLP(6, K, hidden=(8,)).double(),
        TrainingObjective(gamma=0.3),
        lambda p: torch.optim.SGD(p, lr=LR),
        num_classes=K,
    )
    names = ["single_gradient", "unrolled", "influence", "damped_gradient", "none"]
    unlearners = {
        n: Unlearner(forget=RandomK(k=6, seed=3), method=build(n, options={"top_k": 2}))
        for n in names
    }
    spectrum = HessianCurvature(2, top_k=2, trace_probes=3, density_steps=4)
    fit_window(module, x, y, 12, [spectrum, *unlearners.values()], B)
    twins = [
        torch.cat([p.flatten() for p in trainable(u.twin.net).values()])
        for u in unlearners.values()
    ]
    assert all(torch.equal(twins[0], t) for t in twins[1:])
    assert all(u.values_none == unlearners["none"].values_none for u in unlearners.values())
    assert unlearners["influence"].method.train_size == N_SAMPLES
    cost = {n: u.unlearn_cost.hessian_vector_products for n, u in unlearners.items()}
    assert cost["unrolled"] >= 12 - len(unlearners["unrolled"].records) > 0
    assert cost["influence"] > 0 and cost["damped_gradient"] == cost["single_gradient"] == 0
    assert len(spectrum.top_values) == len(spectrum.traces) == len(spectrum.densities) == 6
    assert spectrum.products > 6 * (3 + 4)
    # the methods' v differ: they are not all the same answer
    finals = {n: u.values[-1] for n, u in unlearners.items()}
    assert len(set(finals.values())) == len(finals)


class _FixedSpectrum:
    top_k = 2

    def __init__(self, like):
        g = torch.Generator().manual_seed(7)
        vs = [[torch.randn(p.shape, generator=g, dtype=p.dtype) for p in like] for _ in range(2)]
        self.pairs = ([3.0, -1.0], vs)

    def latest_top_k(self):
        return self.pairs


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


@pytest.mark.parametrize("make", [Unrolled, Influence, lambda: DampedGradient(top_k=2)])
def test_curvature_method_state_survives_save_and_load(make):
    x, y = _problem()
    torch.manual_seed(0)
    net = MLP(6, K, hidden=(8,)).double()
    objective = TrainingObjective()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    spectrum = _FixedSpectrum(list(trainable(net).values()))

    def fresh():
        m = make()
        m.start(net)
        m.attach_callbacks([spectrum])
        m.train_size = N_SAMPLES
        return m

    method, resumed = fresh(), None
    for step in range(1, 7):
        idx = torch.arange((step - 1) * B, step * B) % N_SAMPLES
        mask = idx % 3 == 0
        live = [m for m in (method, resumed) if m is not None]
        for m in live:
            m.before_step(net)
        opt.zero_grad()
        objective.batch_loss(net(x[idx]), y[idx], []).backward()
        opt.step()
        record = ForgetStep(step, x[idx], y[idx], mask, seed=step)
        for m in live:
            m.after_step(net, objective, record, LR)
            m.on_step(net, objective, record, LR)
        if step == 3:
            resumed = fresh()
            resumed.load_state_dict(_roundtrip(method.state_dict()))
    a = method.unlearned(net, objective, LR, net)
    b = resumed.unlearned(net, objective, LR, net)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    w = torch.cat([p.detach().flatten() for p in net.parameters()])
    assert (torch.cat([t.flatten() for t in a]) - w).norm() > 0
