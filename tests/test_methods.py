"""Unlearning methods: one interface, the same forget set and the same twin for all, costs
and storage reported, and state that survives a save and a load mid-window."""

import io

import pytest
import torch
from window_fit import fit_window

from unlearn.callbacks import Unlearner
from unlearn.data.stream import BatchStream
from unlearn.experiment.run import run
from unlearn.forget import Indices, RandomK
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.math.single_gradient import ForgetStep
from unlearn.methods import METHODS, Amnesiac, SingleGradient, build
from unlearn.models import MLP
from unlearn.module import UnlearnModule

N_SAMPLES, B, K, LR = 40, 8, 3, 0.05


def _problem():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N_SAMPLES, 6, generator=g, dtype=torch.float64)
    return x, torch.randint(0, K, (N_SAMPLES,), generator=g)


def _fit_all(t, forget_factory):
    """One training run watched by one Unlearner per method."""
    x, y = _problem()
    torch.manual_seed(0)
    module = UnlearnModule(
        MLP(6, K, hidden=(8,), dropout=0.1).double(),
        TrainingObjective(gamma=0.3),
        lambda p: torch.optim.SGD(p, lr=LR),
        num_classes=K,
    )
    unlearners = {
        name: Unlearner(forget=forget_factory(), method=method, verify_every=2)
        for name, method in [
            ("initial", SingleGradient("initial")),
            ("final", SingleGradient("final")),
            ("amnesiac", "amnesiac"),
            ("none", "none"),
            ("retrain", "retrain"),
        ]
    }
    fit_window(module, x, y, t, list(unlearners.values()), B)
    return unlearners


def _flat(ws):
    return torch.cat([w.detach().flatten() for w in ws])


def test_every_method_meets_the_same_twin():
    u = _fit_all(12, lambda: RandomK(k=6, seed=3))
    twins = [_flat(trainable(x.twin.net).values()) for x in u.values()]
    assert all(torch.equal(twins[0], tw) for tw in twins[1:])
    assert all(torch.equal(u["none"].forget_indices, x.forget_indices) for x in u.values())
    assert all(x.values_none == u["none"].values_none for x in u.values())
    assert u["none"].values == u["none"].values_none
    assert all(v == 0.0 for v in u["retrain"].values)
    assert u["retrain"].unlearn_cost == u["retrain"].twin_cost
    # costs: one gradient per forget step for single_gradient, none for amnesiac
    steps = len(u["initial"].records)
    assert u["initial"].unlearn_cost.gradient_evaluations == steps > 1
    assert u["final"].unlearn_cost.gradient_evaluations == steps
    assert u["amnesiac"].unlearn_cost.gradient_evaluations == 0
    assert u["amnesiac"].method.storage_bytes == steps * u["none"].summary()["param_bytes"]
    assert u["initial"].method.storage_bytes == 0


def test_amnesiac_equals_single_gradient_on_a_first_step_whole_batch():
    """Forgetting all of step 1 (and nothing later): both subtract η∇L(w_0; B_1)."""
    first = BatchStream(N_SAMPLES, B, seed=0, stream_id=1).indices(0)
    u = _fit_all(4, lambda: Indices(first.tolist()))
    a, s = _flat(u["amnesiac"].final_unlearned), _flat(u["initial"].final_unlearned)
    assert ((a - s).norm() / s.norm()).item() <= 1e-12


def _roundtrip(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=False)


@pytest.mark.parametrize("name", ["single_gradient", "final", "amnesiac", "none"])
def test_method_state_survives_save_and_load(name):
    x, y = _problem()
    torch.manual_seed(0)
    net = MLP(6, K, hidden=(8,)).double()
    objective = TrainingObjective()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    method = SingleGradient("final") if name == "final" else build(name)
    method.start(net)
    resumed = None
    for step in range(1, 7):
        idx = torch.arange((step - 1) * B, step * B) % N_SAMPLES
        mask = idx % 3 == 0
        for m in (method, resumed):
            if m is not None:
                m.before_step(net)
        opt.zero_grad()
        objective.batch_loss(net(x[idx]), y[idx], []).backward()
        opt.step()
        record = ForgetStep(step, x[idx], y[idx], mask, seed=step)
        for m in (method, resumed):
            if m is not None:
                m.after_step(net, objective, record, LR)
        if step == 3:  # save, then load into a fresh method started at the wrong weights
            resumed = SingleGradient("final") if name == "final" else build(name)
            resumed.start(net)
            resumed.load_state_dict(_roundtrip(method.state_dict()))
    a = method.unlearned(net, objective, LR, net)
    b = resumed.unlearned(net, objective, LR, net)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    assert resumed.storage_bytes == method.storage_bytes
    if isinstance(method, Amnesiac):
        assert len(method.updates) == 6


def test_unknown_method_names_what_is_allowed():
    with pytest.raises(ValueError, match="allowed " + ", ".join(sorted(METHODS))):
        build("sisa")
    paper = {"amnesiac", "none", "retrain", "single_gradient"}
    field = {"fine_tune", "random_label", "gradient_ascent", "neggrad_plus", "scrub"}
    curvature = {"unrolled", "influence", "damped_gradient"}
    field |= {"l1_sparse", "salun", "rewind", "ssd"}
    assert paper | field | curvature == set(METHODS)


def test_results_carry_method_costs_and_storage(make_cfg):
    res = run(
        make_cfg("unlearn.method=amnesiac", "forget=random", "forget.k=40", "sigma.max_iter=3")
    )
    assert res["method"] == "amnesiac" and res["forget"] == "random"
    assert res["forget_size"] == 40
    assert res["amnesiac_bytes"] == res["unlearn_storage_bytes"]
    assert res["amnesiac_bytes"] == res["forget_steps"] * res["param_bytes"]
    assert res["amnesiac_bytes_all_steps"] == res["t"] * res["param_bytes"]
    assert res["unlearn_cost"]["gradient_evaluations"] == 0
    assert res["twin_cost"]["gradient_evaluations"] == res["t"] - res["twin_cost"]["steps_skipped"]


def test_sisa_section_compares_costs():
    from unlearn.analyze.sisa import break_even_slices, sisa_report, sisa_share

    assert sisa_share(5, 9) == 1.0 and sisa_share(5, 9, "shard") == pytest.approx(0.04)
    # SISA (S = 1) beats a cost share of 1/500 only when 2/(R+1) < 1/500, i.e. R >= 1000
    assert break_even_slices(1, 1 / 500) == 1000
    assert 2 / (break_even_slices(1, 1 / 500) + 1) < 1 / 500 <= 2 / break_even_slices(1, 1 / 500)
    run_ = {
        "status": "ok",
        "method": "single_gradient",
        "N": 450,
        "t": 50,
        "forget_steps": 1,
        "unlearn_cost": {"gradient_evaluations": 1, "samples": 32, "seconds": 0.01},
        "twin_cost": {"gradient_evaluations": 49, "samples": 1500, "seconds": 0.5},
        "unlearn_storage_bytes": 0,
        "amnesiac_bytes": 24360,
        "param_bytes": 24360,
    }
    run_.update(model="small_cnn", data="digits", forget="first_batch", forget_size=32)
    text = sisa_report([run_])
    assert "| small_cnn on digits, forget=first_batch (32) | 1 | 500 | 2.00e-03 | 1,000 " in text
    assert "| single_gradient | first_batch | 1 | 1 | 0 B | 0.01 | 0.5 |" in text
