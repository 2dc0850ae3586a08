"""e(t) of eq. 9, from the formula and from a run's logged quantities."""

import pytest

from unlearn.experiment.run import run
from unlearn.math.unlearning_error import unlearning_error


def test_formula_by_hand():
    # η=0.1, drift=2, σ_avg=3, t=5: 0.01 · 2 · 3 · 4 / 2 = 0.12; also = η² (d/t) σ (t²−t)/2
    assert unlearning_error(0.1, 2.0, 3.0, 5) == pytest.approx(0.12)
    assert unlearning_error(0.1, 2.0, 3.0, 5) == pytest.approx(0.01 * (2.0 / 5) * 3.0 * 20 / 2)
    assert unlearning_error(0.1, 2.0, 3.0, 1) == 0.0


def test_logged_curve_follows_eq9_from_logged_drift_and_sigma(make_cfg):
    res = run(make_cfg("gamma=1.0"))
    c = res["curves"]
    assert c["step"] == [4, 8, 12]
    for i, step in enumerate(c["step"]):
        sigma_avg = sum(c["sigma"][: i + 1]) / (i + 1)
        expected = res["lr"] ** 2 * c["weight_drift"][i] * sigma_avg * (step - 1) / 2
        assert c["unlearning_error"][i] == pytest.approx(expected, rel=1e-12)
    assert res["unlearning_error"] == c["unlearning_error"][-1]
    assert res["sigma_avg"] == pytest.approx(sum(c["sigma"]) / len(c["sigma"]), rel=1e-12)
