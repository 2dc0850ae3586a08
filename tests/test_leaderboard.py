"""The leaderboard section (unlearn/analyze/leaderboard.py) on made-up rows."""

from __future__ import annotations

import math

import pytest

from unlearn.analyze.leaderboard import beats_nothing, cell, groups, mean_interval, ranking, render


def test_mean_interval_is_the_student_t_interval():
    mean, half, n = mean_interval([1.0, 2.0, 3.0, float("nan")])
    # sd = 1, sem = 1/√3, t_{0.975, 2} = 4.302652729749464
    assert (mean, n) == (2.0, 3) and half == pytest.approx(4.302652729749464 / math.sqrt(3))
    assert math.isnan(mean_interval([5.0])[1]) and mean_interval([2.0, 2.0])[1] == 0.0
    assert mean_interval([])[2] == 0 and cell([]) == "—" and cell([0.5]) == "0.5"


def _row(method, forget, seed, ratio, cost=10):
    return {
        "status": "ok", "method": method, "forget": forget, "forget_size": 32, "seed": seed,
        "model": "small_cnn", "data": "digits", "v_ratio": ratio,
        "verification_error": ratio * 0.01, "output_distance_test": 0.001 * (1 + ratio),
        "output_distance_forget": 0.002, "gap_acc_forget": -0.1, "gap_acc_retain": 0.0,
        "gap_acc_test": 0.0, "mia_forget": 0.5, "cost_gradient_evaluations": cost,
        "cost_hessian_vector_products": 0, "cost_seconds": 0.1,
    }  # fmt: skip


ROWS = [
    *[_row("none", "first_batch", s, 1.0, 0) for s in range(3)],
    *[_row("retrain", "first_batch", s, 0.0, 44) for s in range(3)],
    *[_row("fine_tune", "first_batch", s, 0.5 + 0.1 * s) for s in range(3)],
    *[_row("salun", "first_batch", s, 3.0 + s) for s in range(3)],
    *[_row("fine_tune", "random", s, 2.0) for s in range(2)],
    *[_row("none", "random", s, 1.0, 0) for s in range(2)],
]


def test_tables_rank_by_v_ratio_per_forget_set():
    grouped = groups(ROWS)
    assert list(grouped) == ["first_batch", "random (k = 32)"]
    order = [name for name, _ in ranking(grouped["first_batch"])]
    assert order == ["retrain", "fine_tune", "none", "salun"]
    assert beats_nothing(grouped["first_batch"]) == ["fine_tune"]
    assert beats_nothing(grouped["random (k = 32)"]) == []


def test_render_writes_tables_and_both_figures(tmp_path):
    text = render(ROWS, tmp_path)
    assert "### Forget set: first_batch" in text and "| 2 | fine_tune | 3 | 0.6 ± 0.25 |" in text
    assert "Beat doing nothing (mean v/v_none < 1): fine_tune." in text
    assert (tmp_path / "figures" / "leaderboard_ratio_vs_cost.png").stat().st_size > 0
    assert (tmp_path / "figures" / "leaderboard_v_vs_output_distance.png").stat().st_size > 0
    single = [r for r in ROWS if r["method"] == "none"]
    assert render(single, tmp_path) == ""  # one method: no leaderboard


def test_paired_differences_are_taken_within_each_seed(tmp_path):
    """Seeds move every method together (a shared window): the paired difference sees
    through that spread, the unpaired means do not."""
    from unlearn.analyze.leaderboard import closer_than, paired

    shift = {0: 0.0, 1: 2.0, 2: 4.0}  # seed-to-seed spread shared by every method
    rows = [
        *[_row("none", "first_batch", s, 1.0 + shift[s], 0) for s in range(3)],
        *[_row("single_gradient", "first_batch", s, 1.2 + shift[s], 1) for s in range(3)],
        *[_row("fine_tune", "first_batch", s, 0.9 + shift[s] + 0.01 * s) for s in range(3)],
    ]
    by_method = groups(rows)["first_batch"]
    assert paired(by_method["fine_tune"], by_method["none"]) == pytest.approx([-0.1, -0.09, -0.08])
    assert closer_than(by_method, "none") == ["fine_tune"]  # mean -0.09 ± 0.025: below 0
    assert closer_than(by_method, "single_gradient") == ["fine_tune", "none"]
    assert mean_interval([r["v_ratio"] for r in by_method["fine_tune"]])[1] > 1  # unpaired
    text = render(rows, tmp_path)
    assert "Significantly closer to the twin than none (paired 95 % interval" in text
    assert "-0.09 ± 0.025 ✓" in text
    assert (tmp_path / "figures" / "leaderboard_paired_vs_none.png").stat().st_size > 0


def test_a_compared_run_is_read_as_one_row_per_method(tmp_path):
    import json

    from unlearn.analyze.collect import collect

    shared = {"status": "ok", "seed": 0, "forget": "first_batch", "verification_error": 2.0,
              "verification_error_no_unlearning": 4.0, "method": "a",
              "curves": {"step": [1]}}  # fmt: skip
    rows = {
        "a": {"method": "a", "verification_error": 2.0, "curves": {"verification_error": [2.0]}},
        "b": {"method": "b", "verification_error": 1.0, "curves": {"verification_error": [1.0]}},
    }
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "results.json").write_text(json.dumps({**shared, "methods": rows}))
    (tmp_path / "old").mkdir()  # a single-method folder of the old layout still reads
    (tmp_path / "old" / "results.json").write_text(json.dumps({**shared, "method": "c"}))
    found = {(r["job"], r["method"]): r for r in collect(tmp_path)}
    assert set(found) == {("run", "a"), ("run", "b"), ("old", "c")}
    assert found[("run", "b")]["v_ratio"] == 0.25 and found[("run", "b")]["compared"] == 2
    assert found[("run", "b")]["curves"] == {"step": [1], "verification_error": [1.0]}
    assert "methods" not in found[("run", "a")] and found[("old", "c")]["v_ratio"] == 0.5


def test_runs_at_two_learning_rates_get_a_table_each_and_pair_within_it():
    """methods_cpu runs every method at η = 0.01 and 0.1 with the same seeds: pairing by
    seed alone once matched a run at one η with the reference at the other."""
    from unlearn.analyze.leaderboard import paired

    rows = []
    for lr, base in ((0.01, 1.0), (0.1, 5.0)):
        for s in range(3):
            run = {"lr": lr, "job": f"{lr}/{s}", "compared": 2}
            rows += [
                _row("none", "first_batch", s, 1.0, 0) | run,
                _row("fine_tune", "first_batch", s, base + 0.1 * s) | run,
            ]
    grouped = groups(rows)
    assert list(grouped) == ["first_batch · η = 0.01", "first_batch · η = 0.1"]
    high = grouped["first_batch · η = 0.1"]
    assert paired(high["fine_tune"], high["none"]) == pytest.approx([4.0, 4.1, 4.2])
    low = grouped["first_batch · η = 0.01"]
    assert paired(low["fine_tune"], low["none"]) == pytest.approx([0.0, 0.1, 0.2])
