"""SD loss and the training objective against hand-computed values."""

import math

import pytest
import torch
from torch import nn

from unlearn.math.losses import TrainingObjective, sd_penalty

LOGITS = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])


def test_sd_reference_normalisation_by_hand():
    # row 1: unbiased std of (1,2,3) is 1; row 2: mean 2, squares 4+4+16=24, var 24/2=12.
    expected = torch.tensor([1.0 / 3, math.sqrt(12.0) / 3])
    torch.testing.assert_close(sd_penalty(LOGITS, "reference"), expected)


def test_sd_paper_normalisation_by_hand():
    # eq. 10: sqrt(Σ(z-μ)²/c): sqrt(2/3) and sqrt(24/3).
    expected = torch.tensor([math.sqrt(2.0 / 3), math.sqrt(8.0)])
    torch.testing.assert_close(sd_penalty(LOGITS, "paper"), expected)


def _ce(row, label):
    return math.log(sum(math.exp(v) for v in row)) - row[label]


@pytest.mark.parametrize("norm", ["reference", "paper"])
def test_batch_loss_is_mean_ce_plus_gamma_mean_sd(norm):
    y = torch.tensor([2, 0])
    gamma = 5.0
    s = sd_penalty(LOGITS, norm).tolist()
    ce = [_ce(LOGITS[0].tolist(), 2), _ce(LOGITS[1].tolist(), 0)]
    expected = sum(ce) / 2 + gamma * sum(s) / 2
    loss = TrainingObjective(gamma=gamma, sd_normalization=norm).batch_loss(LOGITS, y, [])
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_gamma_zero_is_plain_cross_entropy():
    y = torch.tensor([2, 0])
    loss = TrainingObjective(gamma=0.0).batch_loss(LOGITS, y, [])
    torch.testing.assert_close(loss, nn.functional.cross_entropy(LOGITS, y))


def test_nominal_size_and_mask_select_samples():
    y = torch.tensor([2, 0])
    obj = TrainingObjective(gamma=1.0)
    per = obj.per_sample(LOGITS, y)
    masked = obj.batch_loss(LOGITS, y, [], nominal_size=4, mask=torch.tensor([False, True]))
    assert masked.item() == pytest.approx(per[1].item() / 4)


def test_l2_strawman_is_the_norm_not_its_square():
    w = [torch.tensor([3.0, 4.0])]  # ‖w‖ = 5
    obj = TrainingObjective(l2_lambda=0.1)
    y = torch.tensor([2, 0])
    ce = nn.functional.cross_entropy(LOGITS, y).item()
    assert obj.batch_loss(LOGITS, y, w).item() == pytest.approx(ce + 0.5, rel=1e-6)
    # counted once per kept sample: one of two samples, nominal size 2 → half the term
    half = obj.batch_loss(LOGITS, y, w, mask=torch.tensor([True, False])).item()
    assert half == pytest.approx(obj.per_sample(LOGITS, y)[0].item() / 2 + 0.25, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs", [{"gamma": -1.0}, {"l2_lambda": -0.1}, {"sd_normalization": "other"}]
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="allowed"):
        TrainingObjective(**kwargs)
