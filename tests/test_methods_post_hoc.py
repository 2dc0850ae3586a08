"""The post-hoc methods (fine_tune, random_label, gradient_ascent, neggrad_plus, scrub,
l1_sparse, salun): exact answers where one exists, the promise of each otherwise, and the
shared machinery (budget, own streams, main model and global RNG untouched)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from unlearn.config.checks import ConfigError
from unlearn.data.arrays import IndexedArrays
from unlearn.experiment.run import run
from unlearn.math.losses import TrainingObjective
from unlearn.math.params import trainable
from unlearn.methods import METHODS, PostHocMethod, build, check_retain
from unlearn.methods.base import SampleStream
from unlearn.methods.gradient_ascent import GradientAscent
from unlearn.methods.l1_sparse import L1Sparse
from unlearn.methods.random_label import RandomLabel, wrong_labels
from unlearn.methods.salun import SalUn, saliency_mask
from unlearn.methods.scrub import Scrub, distill_kl
from unlearn.models import MLP

# the methods that spend a budget of SGD steps (ssd trains nothing: tests/test_compare.py)
POST_HOC = [n for n, c in METHODS.items() if issubclass(c, PostHocMethod) and n != "ssd"]


def _least_squares(n: int = 12, d: int = 4):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, 1, generator=g, dtype=torch.float64)
    net = nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        net.weight.copy_(torch.randn(1, d, generator=g, dtype=torch.float64))
    return IndexedArrays(x, y), net, TrainingObjective(nn.MSELoss(reduction="none"))


def _classification(n: int = 40, d: int = 6, k: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, k, (n,), generator=g)
    torch.manual_seed(0)
    return IndexedArrays(x, y), MLP(d, k, hidden=(8,), dropout=0.1).double(), TrainingObjective()


def _unlearn(method, dataset, net, objective, forget):
    method.attach(dataset, forget)
    return method.unlearned(net, objective, 0.0, net)


def test_gradient_ascent_one_step_on_least_squares_is_exact():
    """w'' = w + η ∇L_F(w), ∇L_F = (2/|F|) X_Fᵀ (X_F w − y_F) for the mean squared error."""
    data, net, objective = _least_squares()
    forget, lr = torch.tensor([1, 4, 7]), 0.05
    w = net.weight.detach().clone().flatten()
    xf, yf = data.x[forget], data.y[forget].flatten()
    expected = w + lr * 2.0 / len(forget) * xf.T @ (xf @ w - yf)
    method = GradientAscent(steps=1, forget_batch_size=3, lr=lr)
    (got,) = _unlearn(method, data, net, objective, forget)
    torch.testing.assert_close(got.flatten(), expected, rtol=0, atol=1e-12)
    assert torch.equal(net.weight.detach().flatten(), w)  # the main model is untouched
    assert (method.cost.gradient_evaluations, method.cost.samples) == (1, 3)


def test_saliency_mask_keeps_the_top_fraction_over_all_tensors():
    grads = [torch.tensor([0.1, -3.0, 2.0]), torch.tensor([[0.5, -0.2], [4.0, 0.0]])]
    mask = saliency_mask(grads, 0.5)  # ⌈0.5 · 7⌉ = 4 kept: |4|, |−3|, |2|, |0.5|
    assert mask[0].tolist() == [0.0, 1.0, 1.0] and mask[1].tolist() == [[1.0, 0.0], [1.0, 0.0]]
    assert all(m.sum() == m.numel() for m in saliency_mask(grads, 1.0))
    assert sum(int(m.sum()) for m in saliency_mask(grads, 1e-9)) == 1
    with pytest.raises(ValueError):
        saliency_mask(grads, 0.0)


def test_salun_masks_the_known_saliencies_and_leaves_the_rest():
    """On least squares |∇L_F| = |(2/|F|) X_Fᵀ(X_F w − y_F)|: SalUn's mask keeps its top
    half, and only those weights move."""
    data, net, objective = _least_squares(d=6)
    forget = torch.tensor([0, 2, 3, 9])
    w = net.weight.detach().clone().flatten()
    xf, yf = data.x[forget], data.y[forget].flatten()
    saliency = (2.0 / len(forget) * xf.T @ (xf @ w - yf)).abs()
    method = SalUn(mask_fraction=0.5, steps=3, batch_size=4, forget_batch_size=4, lr=0.01)
    method.num_classes = 2
    (got,) = _unlearn(method, data, net, objective, forget)
    top = set(torch.topk(saliency, 3).indices.tolist())
    assert set(method.mask[0].flatten().nonzero().flatten().tolist()) == top
    moved = set((got.flatten() != w).nonzero().flatten().tolist())
    assert moved <= top and moved
    # the mask's gradient is one evaluation over F (one chunk), then one per step
    assert method.cost.gradient_evaluations == 1 + 3


def test_scrub_losses_by_hand_on_a_tiny_batch():
    s = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    t = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    T = 2.0

    def softmax(row):
        e = [math.exp(v / T) for v in row]
        return [v / sum(e) for v in e]

    kl = 0.0
    for srow, trow in zip(s.tolist(), t.tolist(), strict=True):
        ps, pt = softmax(srow), softmax(trow)
        kl += sum(a * (math.log(a) - math.log(b)) for a, b in zip(pt, ps, strict=True))
    kl = kl * T * T / 2
    assert distill_kl(s, t, T).item() == pytest.approx(kl, abs=1e-12)
    scrub = Scrub(temperature=T, ce_weight=0.99, kl_weight=0.001)
    task = torch.tensor(0.7, dtype=torch.float64)
    assert scrub.max_loss(s, t).item() == pytest.approx(-kl, abs=1e-12)
    assert scrub.min_loss(s, t, task).item() == pytest.approx(0.99 * 0.7 + 0.001 * kl, abs=1e-12)
    assert distill_kl(t, t, T).item() == pytest.approx(0.0, abs=1e-15)


def test_scrub_alternates_max_and_min_steps_then_only_min():
    scrub = Scrub(max_steps=2, steps=7)
    assert [scrub.is_max_step(s) for s in range(7)] == [1, 0, 1, 0, 0, 0, 0]


def test_random_labels_are_never_the_true_ones():
    y = torch.randint(0, 4, (2000,), generator=torch.Generator().manual_seed(0))
    wrong = wrong_labels(y, 4, torch.Generator().manual_seed(1))
    assert not bool((wrong == y).any())
    for c in range(4):  # every other class is drawn
        assert set(wrong[y == c].tolist()) == set(range(4)) - {c}
    data, net, objective = _classification()
    forget = torch.tensor([0, 5, 6, 30])
    method = RandomLabel(steps=2, batch_size=4, forget_batch_size=4)
    _unlearn(method, data, net, objective, forget)
    assert not bool((method.labels[forget] == data.y[forget]).any())


def test_l1_sparse_penalty_decays_linearly():
    method = L1Sparse(l1=0.3, steps=4)
    assert [method.strength(s) for s in range(4)] == [0.3, 0.3 * 0.75, 0.3 * 0.5, 0.3 * 0.25]
    _, net, _ = _classification()
    l1 = sum(p.abs().sum() for p in trainable(net).values())
    assert method.penalty(net, 2).item() == pytest.approx(0.15 * l1.item(), rel=1e-12)


def test_sample_stream_covers_the_pool_before_repeating():
    stream = SampleStream(torch.arange(10, 20), seed=3)
    first = torch.cat([stream.take(4), stream.take(4), stream.take(2)])
    assert sorted(first.tolist()) == list(range(10, 20))
    assert len(stream.take(50)) == 10  # never more than the pool


@pytest.mark.parametrize("name", POST_HOC)
def test_every_method_spends_its_budget_on_a_copy_seeded_and_alone(name):
    data, net, objective = _classification()
    forget = torch.tensor([1, 2, 3, 20, 21])
    before = [p.detach().clone() for p in net.parameters()]
    rng = torch.get_rng_state()
    options = {"steps": 3, "batch_size": 6, "forget_batch_size": 5, "lr": 0.05, "seed": 7}
    a = _unlearn(build(name, options=options), data, net, objective, forget)
    method = build(name, options=options)
    b = _unlearn(method, data, net, objective, forget)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))  # seeded
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before, strict=True))
    assert torch.equal(torch.get_rng_state(), rng)  # the global stream did not move
    assert any(not torch.equal(x, p) for x, p in zip(a, before, strict=True))
    extra = 1 if name == "salun" else 0  # SalUn's mask: one gradient over F (|F| ≤ batch)
    assert method.cost.gradient_evaluations == 3 + extra
    other = _unlearn(build(name, options={**options, "seed": 8}), data, net, objective, forget)
    if name != "gradient_ascent":  # GA with |F| = forget_batch_size sees all of F each step
        assert any(not torch.equal(x, y) for x, y in zip(a, other, strict=True))


def test_check_retain_rejects_an_empty_retain_set(make_cfg):
    cfg = make_cfg("unlearn=fine_tune")
    with pytest.raises(ConfigError, match=r"^unlearn.method=fine_tune: allowed only") as err:
        check_retain(cfg, torch.arange(10), 10)
    assert "\n" not in str(err.value)
    check_retain(cfg, torch.arange(9), 10)
    check_retain(make_cfg("unlearn=gradient_ascent"), torch.arange(10), 10)


BAD = [
    (["unlearn=fine_tune", "unlearn.steps=0"], "unlearn.steps=0"),
    (["unlearn=scrub", "unlearn.steps=-2"], "unlearn.steps=-2"),
    (["unlearn=salun", "unlearn.mask_fraction=0"], "unlearn.mask_fraction=0"),
    (["unlearn=salun", "unlearn.mask_fraction=1.5"], "unlearn.mask_fraction=1.5"),
    (["unlearn=neggrad_plus", "unlearn.alpha=2"], "unlearn.alpha=2"),
    (["unlearn.method=sparse"], "unlearn.method='sparse'"),
    (["unlearn=random_label", "forget=random", "forget.k=1437"], "non-empty retain set"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_method_input_is_one_line_before_training(make_cfg, tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*overrides))
    assert message in str(err.value) and "allowed" in str(err.value)
    assert "\n" not in str(err.value) and not (tmp_path / "results.json").exists()


KEYS = [
    "verification_error", "v_ratio", "output_distance_forget", "output_distance_test",
    "acc_forget", "acc_retain", "acc_test", "twin_acc_forget", "twin_acc_retain",
    "twin_acc_test", "gap_acc_forget", "gap_acc_retain", "gap_acc_test", "mia_forget",
    "twin_mia_forget", "gap_mia_forget", "cost_gradient_evaluations",
    "cost_hessian_vector_products", "cost_seconds", "cost_stored_bytes",
]  # fmt: skip


@pytest.mark.parametrize("name", [*POST_HOC, "single_gradient", "none", "retrain"])
def test_every_method_runs_the_default_job_with_complete_results(make_cfg, name):
    results = run(make_cfg(f"unlearn={name}"))
    missing = [k for k in KEYS if not isinstance(results.get(k), int | float)]
    assert not missing and results["method"] == name
    assert all(math.isfinite(results[k]) for k in KEYS)
    if name == "retrain":
        assert results["verification_error"] == 0.0 and results["output_distance_test"] < 1e-15
    if name in POST_HOC:  # v at the last event only; the budget as configured
        assert math.isnan(results["curves"]["verification_error"][0])
        assert results["cost_gradient_evaluations"] >= 10


def test_salun_forgets_a_class(make_cfg):
    results = run(make_cfg("forget=class", "forget.label=3", "unlearn=salun"))
    assert results["forget"] == "class" and results["forget_size"] > 100
    assert math.isfinite(results["v_ratio"]) and 0.0 <= results["mia_forget"] <= 1.0
