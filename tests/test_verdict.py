"""The end-of-run verdict: what was forgotten, v / v_none in words, the rule, three models'
accuracies side by side; the same facts in the W&B summary; undefined cases in words."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from unlearn.experiment.results import summary_table
from unlearn.experiment.run import run
from unlearn.loggers.wandb_run import summary_metrics
from unlearn.metrics.verdict import RULE, RULE_DOC, verdict_metrics, verdict_text

ROOT = Path(__file__).resolve().parent.parent

# Chosen so each derived number is exact to read off: v / v_none = 0.3 / 0.15 = 2,
# η·σ_avg·(t − 1) = 0.5 · 1.5 · 4 = 3 (> 2), and on F the unlearned model (0.5) went
# (0.9 − 0.5) / (0.9 − 0.1) = 50 % of the way from the original (0.9) to the twin (0.1).
CRAFTED = {
    "status": "ok",
    "method": "single_gradient",
    "forget": "class",
    "config": {"forget": {"_target_": "unlearn.forget.ClassLabel", "label": 3}},
    "forget_size": 146,
    "forget_steps": 44,
    "lr": 0.5,
    "sigma_avg": 1.5,
    "t": 5,
    "verification_error": 0.3,
    "verification_error_no_unlearning": 0.15,
    "test_acc": 0.95,
    "original_acc_forget": 0.9,
    "original_acc_retain": 0.92,
    "original_acc_test": 0.95,
    "acc_forget": 0.5,
    "acc_retain": 0.875,
    "acc_test": 0.9,
    "twin_acc_forget": 0.1,
    "twin_acc_retain": 0.93,
    "twin_acc_test": 0.85,
}

EXPECTED = f"""\
verdict: unlearning did NOT work
  forgot  class 3: 146 samples in 44 window steps
  v / v_none = 2: 2× farther from retraining than doing nothing
  η·σ_avg·(t − 1) = 3 > 2: {RULE} (docs/quantities.md)
  accuracy on F: 0.500 unlearned, 0.100 retrained, 0.900 before: 50% of the way to retraining

 accuracy                       F (forgotten)   R (kept)    test
 ───────────────────────────────────────────────────────────────
 original (before unlearning)           0.900      0.920   0.950
 unlearned M''                          0.500      0.875   0.900
 retrained twin M'                      0.100      0.930   0.850"""


def test_the_verdict_of_a_crafted_run_reads_exactly():
    assert verdict_text(CRAFTED) == EXPECTED


def test_closer_than_doing_nothing_and_within_the_rule():
    res = CRAFTED | {"verification_error": 0.05, "lr": 0.125, "sigma_avg": 2.0}  # 1 = 0.125·2·4
    text = verdict_text(res)
    assert text.splitlines()[0] == "verdict: unlearning worked"
    assert "v / v_none = 0.333: 3× closer to retraining than doing nothing" in text
    assert "η·σ_avg·(t − 1) = 1 ≤ 2:" in text


def test_the_rule_is_stated_in_the_docs_it_names():
    """The wording lives in one place (verdict.RULE); the page the verdict points at says it."""
    assert RULE in (ROOT / RULE_DOC).read_text()


@pytest.mark.parametrize(
    ("change", "headline", "ratio_line"),
    [
        (  # forget=none: the twin is the model, v = v_none = 0
            {"forget": "none", "forget_size": 0, "verification_error": 0.0,
             "verification_error_no_unlearning": 0.0, "acc_forget": math.nan,
             "twin_acc_forget": math.nan, "original_acc_forget": math.nan},
            "nothing to unlearn: nothing was forgotten",
            "v / v_none —: nothing was forgotten, so the twin is the model (v = v_none = 0)",
        ),
        (  # no twin (a method whose twin was not built): v and v_none never measured
            {"verification_error": math.nan, "verification_error_no_unlearning": None},
            "no verdict: no retrained twin to compare with",
            "v / v_none —: no retrained twin, so no verdict (forget= and unlearn= set one)",
        ),
        (  # unlearn=none: M'' = M, so v = v_none
            {"method": "none", "verification_error": 0.15},
            "not unlearned: unlearn=none (the baseline)",
            "v / v_none = 1: unlearn=none does nothing (the baseline of every other method)",
        ),
        (  # retrain: M'' is the twin
            {"method": "retrain", "verification_error": 0.0},
            "unlearning worked",
            "v / v_none = 0: exactly the retrained model",
        ),
    ],
    ids=["nothing_forgotten", "no_twin", "method_none", "retrain"],
)  # fmt: skip
def test_undefined_and_edge_cases_read_as_sentences(change, headline, ratio_line):
    text = verdict_text(CRAFTED | change)
    lines = text.splitlines()
    assert lines[0] == f"verdict: {headline}"
    assert lines[2] == f"  {ratio_line}"
    assert "nan" not in text.lower()


def test_nothing_forgotten_leaves_fs_column_blank():
    res = CRAFTED | {"forget": "none", "forget_size": 0, "acc_forget": math.nan,
                     "twin_acc_forget": math.nan, "original_acc_forget": math.nan}  # fmt: skip
    text = verdict_text(res)
    assert "  forgot  nothing: 0 samples" in text
    assert "  accuracy on F —: nothing forgotten or no twin" in text
    assert " unlearned M''                              —      0.875   0.900" in text


def test_the_wandb_summary_carries_the_same_facts():
    summary = summary_metrics(CRAFTED)
    assert summary["verdict/headline"] == "unlearning did NOT work"
    assert summary["verdict/forgot"] == "class 3: 146 samples in 44 window steps"
    assert summary["verdict/lr_sigma_window"] == 3.0
    assert summary["verdict/within_rule"] is False
    assert summary["verdict/forget_closed"] == pytest.approx(0.5)
    assert summary["verdict/acc_forget_original"] == 0.9
    assert summary["verdict/acc_forget_unlearned"] == 0.5
    assert summary["verdict/acc_forget_retrained"] == 0.1
    assert summary["v_ratio"] == 2.0
    no_twin = verdict_metrics(CRAFTED | {"verification_error": None, "sigma_avg": None})
    assert "verdict/within_rule" not in no_twin and "verdict/lr_sigma_window" not in no_twin


def test_a_real_run_prints_its_verdict(make_cfg):
    """A tiny amnesiac run forgetting class 3: the printed summary ends with the verdict,
    whose numbers are the run's own results.json keys."""
    cfg = make_cfg("forget=class", "forget.label=3", "unlearn=amnesiac", "N=10", "t=6")
    res = run(cfg)
    text = summary_table(res)
    assert "test accuracy (original)" in text
    block = text[text.index("verdict: ") :]
    assert block == verdict_text(res)
    ratio = res["verification_error"] / res["verification_error_no_unlearning"]
    word = "farther" if ratio > 1 else "closer"
    assert f"v / v_none = {ratio:.3g}: " in block and f"× {word} from retraining" in block
    assert f"class 3: {res['forget_size']} samples in {res['forget_steps']} window steps" in block
    for key in ("forget", "retain", "test"):  # the original model, measured on the same sets
        assert 0.0 <= res[f"original_acc_{key}"] <= 1.0
    row = next(line for line in block.splitlines() if line.startswith(" original"))
    assert row.split()[-3:] == [
        f"{res[f'original_acc_{k}']:.3f}" for k in ("forget", "retain", "test")
    ]
