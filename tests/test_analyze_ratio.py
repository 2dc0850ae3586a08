"""The analysis draws v / v_none against η·σ_avg·(t − 1) and counts the runs that helped,
inside and outside the rule; every r a figure prints carries its 95 % interval."""

from __future__ import annotations

import inspect
import math

import pytest

from unlearn.analyze import correlation, privacy
from unlearn.analyze.ratio import points, render
from unlearn.analyze.stats import pearson


def _row(job: int, method: str, lr: float, v: float, v_none: float | None = 0.1) -> dict:
    return {
        "job": str(job), "status": "ok", "method": method, "model": "small_cnn",
        "data": "digits", "sweep": "lr_mini", "lr": lr, "sigma_avg": 10.0, "t": 11,
        "verification_error": v, "verification_error_no_unlearning": v_none,
    }  # fmt: skip


# η·σ_avg·(t − 1) = lr · 10 · 10: 1 (inside the rule) for lr = 0.01, 10 (outside) for 0.1
ROWS = [
    _row(0, "single_gradient", 0.01, 0.05),  # 0.5: helped, inside
    _row(1, "single_gradient", 0.1, 0.2),  # 2: did not help, outside
    _row(2, "amnesiac", 0.01, 0.02),  # 0.2: helped, inside
    _row(3, "amnesiac", 0.1, 0.08),  # 0.8: helped, outside
    _row(4, "single_gradient", 0.01, 0.0, 0.0),  # forget=none: undefined, not drawn
]


def test_the_section_counts_each_method_inside_and_outside_the_rule(tmp_path):
    text = render(ROWS, tmp_path)
    assert "1 of 5 runs have no v / v_none" in text
    assert "| amnesiac | 2 | 2 | 0.5 | 1 of 1 | 1 of 1 |" in text  # median of 0.2 and 0.8
    assert "| single_gradient | 2 | 1 | 1.25 | 1 of 1 | 0 of 1 |" in text
    assert "![v / v_none against η·σ_avg·(t − 1)](figures/lr_mini__v_ratio.png)" in text
    assert (tmp_path / "figures" / "lr_mini__v_ratio.png").stat().st_size > 0


def test_points_leave_out_undefined_ratios():
    got = points(ROWS)
    assert [m for _, m, _, _ in got] == ["single_gradient"] * 2 + ["amnesiac"] * 2
    assert [v for _, _, x, y in got for v in (x, y)] == pytest.approx(
        [1.0, 0.5, 10.0, 2.0, 1.0, 0.2, 10.0, 0.8]
    )


def test_no_defined_ratio_says_so(tmp_path):
    assert "No run has a defined v / v_none" in render(ROWS[-1:], tmp_path)


def test_a_figure_r_carries_its_fisher_interval():
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    corr = pearson(x, y)
    z, half = math.atanh(corr.r), 1.959963984540054 / math.sqrt(len(x) - 3)  # Fisher z
    low, high = math.tanh(z - half), math.tanh(z + half)
    assert corr.label() == f"r = {corr.r:.3f}, 95 % CI [{low:.2f}, {high:.2f}], n = 6"
    assert pearson([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]).label() == (
        "r = 0.500, n = 3: no 95 % CI below n = 4"
    )
    assert pearson([1.0, 2.0], [2.0, 1.0]).label() == "r —, n = 2"


def test_the_privacy_figures_title_r_with_its_interval(monkeypatch, tmp_path):
    seen: list[str] = []
    monkeypatch.setattr(privacy, "title", lambda ax, *lines, **kw: seen.extend(lines))
    x, y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    privacy._figure(tmp_path, "prs", {"amnesiac": (x, y, [0.0] * 6)}, ("v", "PRS", "γ"))
    assert seen == ["amnesiac", pearson(x, y).label()]


def test_the_correlation_figures_print_r_only_through_its_label():
    source = inspect.getsource(correlation._figure)
    assert "fam.corr.label()" in source and "r = " not in source


def test_seventeen_methods_get_seventeen_colours():
    from unlearn.analyze.ratio import colour

    assert len({str(colour(i, 17)) for i in range(17)}) == 17
    assert [colour(i, 3) for i in range(3)] == ["C0", "C1", "C2"]


def test_a_colour_of_one_value_draws_no_colour_bar():
    """Fig. 14 on a methods sweep (γ = 0 in every run) once showed a bar of one value."""
    from unlearn.analyze import plots

    fig, (ax,) = plots.panels(1)
    plots.scatter(ax, [1.0, 2.0, 3.0], [2.0, 1.0, 3.0], [0.0, 0.0, 0.0], "γ")
    assert len(fig.axes) == 1  # no colour-bar axes
    assert [t.get_text() for t in ax.texts] == ["γ = 0 in every run"]
    fig, (ax,) = plots.panels(1)
    plots.scatter(ax, [1.0, 2.0], [2.0, 1.0], [0.0, 5.0], "γ")
    assert len(fig.axes) == 2


def test_damped_gradient_is_labelled_by_its_k_however_k_was_set():
    from unlearn.analyze.ratio import method_label

    five = {"config": {"unlearn": {"top_k": 5}}}
    assert method_label({"method": "damped_gradient"}) == "damped_gradient k=1"  # its default
    assert method_label({"method": "damped_gradient", **five}) == "damped_gradient k=5"
    assert method_label({"method": "damped_gradient@top_k:1", **five}) == "damped_gradient k=1"
    assert method_label({"method": "rewind@k:10", **five}) == "rewind@k:10"
