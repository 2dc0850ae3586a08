"""σ's protocol options: eval mode without touching the module's mode, a fixed seeded batch,
the `sigma=reference` bundle recorded in results.json; and the reference's fixed data order."""

import copy

import pytest
import torch
from window_fit import fit_window

from unlearn.callbacks import HessianSpectrum
from unlearn.callbacks.hessian_spectrum import fixed_subset
from unlearn.data.stream import BatchStream
from unlearn.experiment.run import run
from unlearn.math.hessian import functional_loss, hessian_spectrum
from unlearn.math.losses import TrainingObjective
from unlearn.models import MLP
from unlearn.module import UnlearnModule


def _bn_module(dropout: float = 0.0) -> UnlearnModule:
    torch.manual_seed(0)
    net = MLP(4, 3, hidden=[6], batch_norm=True, dropout=dropout).double()
    with torch.no_grad():  # running statistics far from any batch's: eval mode matters
        net.net[2].running_mean.fill_(0.7)
        net.net[2].running_var.fill_(3.0)
    return UnlearnModule(net, TrainingObjective(), lambda p: torch.optim.SGD(p, lr=0.1), 3)


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 4, generator=g, dtype=torch.float64), torch.arange(16) % 3


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["bn", "bn-dropout"])
def test_eval_mode_sigma_is_the_eval_models_and_leaves_the_mode_alone(dropout):
    module, (x, y) = _bn_module(dropout), _batch()
    buffers = {k: b.clone() for k, b in module.net.named_buffers()}
    train = HessianSpectrum(mode="train", tol=1e-10, max_iter=200).estimate(module, x, y, 1)
    evald = HessianSpectrum(mode="eval", tol=1e-10, max_iter=200).estimate(module, x, y, 1)
    assert all(m.training for m in module.net.modules())  # still training, every layer
    assert all(torch.equal(b, buffers[k]) for k, b in module.net.named_buffers())
    in_eval = copy.deepcopy(module.net).eval()
    exact = hessian_spectrum(
        in_eval, functional_loss(module.objective, x, y), tol=1e-10, max_iter=200, method="lanczos"
    )
    assert float(evald.norm) == pytest.approx(float(exact.norm), rel=1e-6)
    assert abs(float(evald.norm) / float(train.norm) - 1) > 0.1  # BatchNorm: they differ


def test_pyhessian_in_eval_mode_keeps_the_modules_mode():
    module, (x, y) = _bn_module(0.3), _batch()
    spectrum = HessianSpectrum(engine="pyhessian", mode="eval", definition="sqrt_top_eig")
    est = spectrum.estimate(module, x, y, 1)
    assert all(m.training for m in module.net.modules())
    assert float(est.value("sqrt_top_eig")) == pytest.approx(float(est.rayleigh) ** 0.5)


def test_fixed_batch_is_one_seeded_subset_at_every_event():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(30, 4, generator=g, dtype=torch.float64), torch.arange(30) % 3
    module = _bn_module()
    spectrum = HessianSpectrum(every_n_steps=2, batch="fixed", batch_size=10, seed=5, tol=1e-8)
    fit_window(module, x, y, 4, [spectrum], 8)
    idx = fixed_subset(30, 10, 5)
    assert len(set(idx.tolist())) == 10 and torch.equal(idx, fixed_subset(30, 10, 5))
    assert not torch.equal(idx, fixed_subset(30, 10, 6))
    last = hessian_spectrum(
        module.net,
        functional_loss(module.objective, x[idx], y[idx]),
        tol=1e-8,
        method="lanczos",
    )
    assert spectrum.values[-1] == pytest.approx(float(last.norm), rel=1e-5)
    assert spectrum.protocol["batch"] == "fixed" and spectrum.protocol["batch_size"] == 10
    assert len(fixed_subset(30, 512, 5)) == 30  # the whole set when it is smaller


def test_sigma_reference_runs_and_is_recorded(make_cfg):
    res = run(make_cfg("sigma=reference", "sigma.max_iter=20"))
    assert res["sigma_protocol"] == "reference"
    settings = res["sigma_settings"]
    assert (settings["engine"], settings["definition"], settings["mode"]) == (
        "pyhessian",
        "sqrt_top_eig",
        "eval",
    )
    assert settings["batch"] == "fixed" and settings["batch_size"] == 512
    assert res["sigma_avg"] > 0 and res["config"]["sigma"]["tol"] == 1e-3
    default = run(make_cfg())
    assert default["sigma_protocol"] == "default" and default["sigma_settings"]["mode"] == "train"
    assert default["weight_drift"] == res["weight_drift"]  # σ's protocol leaves training alone


def test_reshuffle_false_repeats_epoch_zeros_order():
    fixed = BatchStream(30, 8, seed=0, stream_id=1, reshuffle=False)
    shuffled = BatchStream(30, 8, seed=0, stream_id=1)
    for s in range(4):
        assert torch.equal(fixed.indices(s), fixed.indices(s + 8))
        assert torch.equal(fixed.indices(s), shuffled.indices(s))  # epoch 0 is the same
    assert not all(torch.equal(shuffled.indices(s), shuffled.indices(s + 4)) for s in range(4))


def test_reshuffle_false_brings_the_first_batch_back_whole_every_epoch(make_cfg):
    quick = ("t=13", "batch_size=256", "sigma.max_iter=3", "verify_every=13")
    res = run(make_cfg("data.reshuffle=false", *quick))
    # digits: 1,437 training samples in batches of 256 make 6 steps an epoch: steps 1, 7, 13
    assert res["forget_steps"] == 3 and res["twin_cost"]["steps_skipped"] == 3
    shuffled = run(make_cfg(*quick))
    assert shuffled["twin_cost"]["steps_skipped"] == 1 and shuffled["forget_steps"] > 3


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sigma.mode=test", "sigma.mode='test': allowed one of train, eval"),
        ("sigma.batch=all", "sigma.batch='all': allowed one of current, fixed"),
        ("sigma.batch_size=0", "sigma.batch_size=0: allowed an integer >= 1 and <= 1000000000"),
        ("window_optimizer=keep", "window_optimizer='keep': allowed one of continue, fresh"),
        ("unlearn.w_ref=middle", "unlearn.w_ref='middle': allowed one of initial, first, final"),
    ],
)
def test_bad_protocol_values_stop_before_training(make_cfg, override, message):
    from unlearn.config.checks import ConfigError

    with pytest.raises(ConfigError) as err:
        run(make_cfg(override))
    assert str(err.value) == message
