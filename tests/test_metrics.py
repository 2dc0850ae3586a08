"""The field's metrics (unlearn/metrics/): pure functions on tiny inputs with exact answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from torch import nn

from unlearn.metrics import accuracy, field_metrics, js_divergence, mia_efficacy
from unlearn.metrics.report import retain_sample
from unlearn.metrics.scores import mean_js, per_sample_loss


def test_accuracy_counts_argmax_hits():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert math.isnan(accuracy(logits[:0], torch.tensor([], dtype=torch.long)))


def test_js_divergence_is_scipys_squared_distance_in_nats():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    got = js_divergence(a, b)
    p, q = torch.softmax(a.double(), 1).numpy(), torch.softmax(b.double(), 1).numpy()
    want = np.array([jensenshannon(pi, qi) ** 2 for pi, qi in zip(p, q, strict=True)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-14)
    assert js_divergence(a, a).abs().max() < 1e-15
    far = torch.tensor([[50.0, -50.0]]), torch.tensor([[-50.0, 50.0]])
    assert js_divergence(*far).item() == pytest.approx(math.log(2), abs=1e-12)
    assert math.isnan(mean_js(a[:0], b[:0]))


def test_per_sample_loss_is_cross_entropy():
    logits, y = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]]), torch.tensor([0, 1])
    torch.testing.assert_close(
        per_sample_loss(logits, y).float(), torch.tensor([math.log(2), math.log(4)])
    )


def test_mia_efficacy_on_separable_features():
    member = torch.full((20,), 1e-4) * torch.linspace(1, 2, 20)  # members: low loss
    nonmember = torch.linspace(1.0, 3.0, 20)  # non-members: high loss
    assert mia_efficacy(member, nonmember, torch.tensor([2.0, 2.5, 1.5])) == 1.0
    assert mia_efficacy(member, nonmember, torch.tensor([1e-4, 2e-4])) == 0.0
    assert mia_efficacy(member, nonmember, torch.tensor([1e-4, 2.0])) == 0.5
    assert math.isnan(mia_efficacy(member, nonmember, torch.tensor([])))


def test_retain_sample_is_fixed_and_never_holds_f():
    forget = torch.tensor([0, 3, 5])
    a, b = retain_sample(20, forget, 6, seed=1), retain_sample(20, forget, 6, seed=1)
    assert torch.equal(a, b) and len(a) == 6 and not set(a.tolist()) & {0, 3, 5}
    assert len(retain_sample(20, forget, None, seed=1)) == 17


class _Data:
    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.train_set = type("S", (), {})()
        self.test_set = type("S", (), {})()
        self.train_set.x, self.train_set.y = torch.randn(30, 3, generator=g), torch.arange(30) % 2
        self.test_set.x, self.test_set.y = torch.randn(10, 3, generator=g), torch.arange(10) % 2


def test_field_metrics_of_the_twin_itself_have_zero_gaps():
    from omegaconf import OmegaConf

    net = nn.Linear(3, 2)
    cfg = OmegaConf.create({"seed": 0, "metrics": {"retain_sample": 8, "mia_feature": "loss"}})
    cost = {"gradient_evaluations": 4, "samples": 8, "seconds": 0.5, "hessian_vector_products": 0}
    out = field_metrics(cfg, _Data(), net, net, torch.tensor([1, 2]), 0.0, 2.0, cost, cost, 16)
    assert out["v_ratio"] == 0.0 and out["output_distance_test"] == pytest.approx(0.0, abs=1e-15)
    assert out["gap_acc_forget"] == out["gap_acc_test"] == out["gap_mia_forget"] == 0.0
    assert out["acc_forget"] in (0.0, 0.5, 1.0) and out["retain_sample_size"] == 8
    assert out["cost_gradient_evaluations"] == 4 and out["cost_stored_bytes"] == 16


def test_a_diverged_model_is_scored_nan_and_the_run_goes_on():
    """NaN outputs (a method that blew up on real data) once crashed the MIA fit and lost
    every method's row; now the diverged model reads as NaN and says why."""
    from omegaconf import OmegaConf

    twin, broken = nn.Linear(3, 2), nn.Linear(3, 2)
    with torch.no_grad():
        broken.weight.fill_(float("nan"))
    cfg = OmegaConf.create({"seed": 0, "metrics": {"retain_sample": 8, "mia_feature": "entropy"}})
    cost = {"gradient_evaluations": 1, "samples": 2, "seconds": 0.1, "hessian_vector_products": 0}
    out = field_metrics(
        cfg, _Data(), broken, twin, torch.tensor([1, 2]), math.nan, 2.0, cost, cost, 0
    )
    assert out["outputs_finite"] is False and out["twin_outputs_finite"] is True
    for key in ("acc_forget", "acc_retain", "acc_test", "mia_forget", "gap_acc_test"):
        assert math.isnan(out[key]), key
    assert out["twin_acc_test"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def test_mia_is_nan_when_a_feature_is_not_finite():
    good = torch.tensor([0.1, 0.2, 0.3])
    assert math.isnan(mia_efficacy(good, good, torch.tensor([float("nan"), 0.1])))
    assert math.isnan(mia_efficacy(torch.tensor([float("inf"), 0.1]), good, good))


def test_the_twin_is_scored_once_for_every_method_of_a_run():
    from omegaconf import OmegaConf

    from unlearn.metrics.report import TwinScores

    calls = []

    class Counting(nn.Linear):
        def forward(self, x):
            calls.append(len(x))
            return super().forward(x)

    twin, scores = Counting(3, 2), TwinScores()
    cfg = OmegaConf.create({"seed": 0, "metrics": {"retain_sample": 8}})
    cost = {"gradient_evaluations": 1, "samples": 2, "seconds": 0.1, "hessian_vector_products": 0}
    rows = [
        field_metrics(
            cfg, _Data(), nn.Linear(3, 2), twin, torch.tensor([1]), 1.0, 2.0, cost, cost, 0, scores
        )  # fmt: skip
        for _ in range(3)
    ]
    assert len(calls) == 3  # F, the R sample, the test set: once, not once per method
    assert rows[0]["twin_acc_test"] == rows[2]["twin_acc_test"]
    assert "_logits" not in rows[2] and rows[2]["output_distance_test"] > 0
