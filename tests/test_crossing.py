"""The crossing point x* of "When unlearning helps", against data whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from unlearn.analyze import crossing


def _row(method: str, x: float, ratio: float, data: str = "digits", lr: float = 0.01) -> dict:
    """A run whose η·σ_avg·(t − 1) is x (t = 11, η = lr) and whose v / v_none is `ratio`."""
    return {
        "method": method,
        "model": "small_cnn",
        "data": data,
        "lr": lr,
        "t": 11,
        "sigma_avg": x / (lr * 10),
        "verification_error": ratio * 0.5,
        "verification_error_no_unlearning": 0.5,
        "status": "ok",
        "forget": "first_batch",
    }


def test_a_monotone_curve_crosses_1_where_it_is_built_to():
    """log(v / v_none) = log10(x / 3): x* = 3, exactly, for the fit and every resample."""
    xs = np.logspace(-1, 2, 13)
    found = crossing.crossing(list(xs), [float(x / 3) ** 0.4 for x in xs])
    assert found.estimate == pytest.approx(3.0, rel=1e-9)
    assert found.low <= 3.0 <= found.high
    assert found.low > xs[3] and found.high < xs[9]  # the interval stays near the crossing


def test_noise_widens_the_interval_around_the_crossing():
    rng = np.random.default_rng(1)
    xs = np.repeat(np.logspace(-1, 2, 8), 4)
    ys = (xs / 3) ** 0.4 * np.exp(rng.normal(0, 0.15, xs.size))
    found = crossing.crossing(list(xs), list(ys))
    exact = crossing.crossing(list(xs), list((xs / 3) ** 0.4))
    assert found.low < 3.0 < found.high and found.low < found.estimate < found.high
    assert found.high / found.low > 1.05 * exact.high / exact.low


def test_never_crossing_is_a_bound_not_a_number():
    xs = [0.1, 0.3, 1.0, 3.0, 10.0]
    always = crossing.crossing(xs, [0.2, 0.3, 0.4, 0.5, 0.6])
    assert always.estimate == math.inf and always.text() == "> 10 (helps over the whole range)"
    never = crossing.crossing(xs, [1.0, 1.1, 1.2, 1.3, 1.4])
    assert never.estimate == -math.inf and never.text() == "< 0.1 (never helps)"
    assert crossing.crossing(xs[:3], [0.5, 1.0, 2.0]) is None  # too few runs
    assert crossing.crossing([1.0] * 5, [0.5] * 5) is None  # one x


def test_a_falling_ratio_has_no_crossing_rather_than_a_false_bound():
    """Fine-tuning on CIFAR-10: far from the twin at small x, slightly closer than doing
    nothing at large x. A rising fit cannot follow it; it is said, not read as 'never'."""
    xs = [0.2, 1.0, 4.0, 17.0, 60.0, 300.0]
    found = crossing.crossing(xs, [3.6, 3.3, 2.1, 1.4, 1.1, 0.999])
    assert math.isnan(found.estimate) and found.text().startswith("— (v / v_none does not rise")


def test_a_non_monotone_blip_does_not_create_a_second_crossing():
    """Isotonic: a run above 1 between runs below it is pooled with them, not a crossing."""
    xs = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4]
    ys = [0.3, 1.2, 0.4, 0.5, 0.7, 1.5, 2.0]
    found = crossing.crossing(xs, ys)
    assert 1.6 < found.estimate < 3.2


def test_the_section_pools_every_data_set_and_draws_one_figure(tmp_path):
    xs = np.logspace(-1, 2, 6)
    rows = [_row("single_gradient", x, (x / 2) ** 0.5) for x in xs]
    rows += [_row("single_gradient", x, (x / 5) ** 0.5, data="cifar10", lr=0.1) for x in xs]
    rows += [_row("rewind@k:10", x, 0.1) for x in xs]
    rows += [_row("none", x, 1.0) for x in xs] + [_row("retrain", x, 0.0) for x in xs]
    rows += [_row("salun", x, 0.5) | {"forget": "class"} for x in xs]  # x is not its distance
    rows += [_row("damped_gradient", 1.0, 1.0) | {"verification_error": None}]  # overflowed
    text = crossing.render(rows, tmp_path)
    assert "(6 runs forgetting another set are left out" in text
    assert "not finite (the weights overflowed): damped_gradient k=1 in 1." in text
    table = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert [line.split(" | ")[:3] for line in table] == [
        ["| single_gradient", "all pooled", "12"],
        ["| single_gradient", "small_cnn on cifar10", "6"],
        ["| single_gradient", "small_cnn on digits", "6"],
        ["| rewind@k:10", "all pooled", "6"],
        ["| rewind@k:10", "small_cnn on digits", "6"],
    ]  # none and retrain: the references, not listed
    assert "> 100 (helps over the whole range)" in table[3]
    digits = crossing.crossing(list(xs), [float((x / 2) ** 0.5) for x in xs])
    assert digits.text() in table[2]
    figure = tmp_path / "figures" / f"{crossing.FIGURE}.png"
    assert figure.exists() and f"figures/{crossing.FIGURE}.png" in text
    width, height = Image.open(figure).size
    assert width > 800 and height > 400


def test_runs_without_sigma_or_twin_give_a_sentence(tmp_path):
    row = _row("single_gradient", 1.0, 0.5) | {"sigma_avg": None}
    assert "No run has both" in crossing.render([row], tmp_path)
