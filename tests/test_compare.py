"""unlearn.compare: several methods on one window against one twin, each row equal bit for
bit to the method's own single run; rewind is exact when it rewinds before F; SSD's rule."""

from __future__ import annotations

import json
import math

import pytest
import torch

from unlearn.config.checks import ConfigError
from unlearn.config.schema import METHOD_NAMES
from unlearn.experiment.run import run
from unlearn.methods import METHODS
from unlearn.methods.ssd import dampen

TINY = ["model=mlp", "N=10", "t=10", "verify_every=3"]  # t >= rewind's k = 10
# what must be equal to the single run bit for bit (seconds are wall time: never equal)
SAME = (
    "verification_error", "verification_error_no_unlearning", "v_ratio",
    "output_distance_forget", "output_distance_test", "acc_forget", "acc_retain", "acc_test",
    "gap_acc_forget", "gap_acc_retain", "gap_acc_test", "mia_forget", "twin_mia_forget",
    "cost_gradient_evaluations", "cost_samples", "cost_hessian_vector_products",
    "cost_stored_bytes", "unlearn_storage_bytes",
)  # fmt: skip


def _same(row: dict, single: dict, name: str) -> None:
    for key in SAME:
        a, b = row[key], single[key]
        assert a == b or (math.isnan(a) and math.isnan(b)), (name, key, a, b)
    curve = single["curves"]["verification_error"]
    assert row["curves"]["verification_error"] == pytest.approx(curve, nan_ok=True, abs=0)
    assert row["unlearn_report"] == single["unlearn_report"], name


def test_the_schema_names_every_registered_method():
    assert set(METHOD_NAMES) == set(METHODS)


@pytest.mark.slow
def test_every_method_of_compare_all_equals_its_single_run(make_cfg):
    both = run(make_cfg(*TINY, "unlearn.compare=all"))
    assert list(both["methods"]) == list(METHOD_NAMES)  # the run's own method first
    assert both["compare"] == list(METHOD_NAMES)
    for name in METHOD_NAMES:
        _same(both["methods"][name], run(make_cfg(*TINY, f"unlearn={name}")), name)
    assert both["methods"]["retrain"]["verification_error"] == 0.0
    assert both["methods"]["none"]["v_ratio"] == 1.0


def test_a_short_list_equals_the_single_runs_and_keeps_the_top_level_keys(make_cfg, tmp_path):
    names = ["fine_tune", "single_gradient", "gradient_ascent", "rewind@k:4@rewind_every:3", "ssd"]
    given = ["unlearn=fine_tune", "unlearn.steps=3"]
    both = run(make_cfg(*TINY, *given, f"unlearn.compare=[{','.join(names)}]"))
    assert list(both["methods"]) == names
    alone = {  # unlearn.steps=3 on the command line reaches every post-hoc method
        "fine_tune": given,
        "single_gradient": [],
        "gradient_ascent": ["unlearn=gradient_ascent", "unlearn.steps=3"],
        "rewind@k:4@rewind_every:3": ["unlearn=rewind", "unlearn.k=4", "unlearn.rewind_every=3"],
        "ssd": ["unlearn=ssd"],
    }
    for name, overrides in alone.items():
        _same(both["methods"][name], run(make_cfg(*TINY, *overrides)), name)
    assert both["methods"]["gradient_ascent"]["cost_gradient_evaluations"] == 3
    # the first method's keys stay at the top level; the twin's cost is there once
    saved = json.loads((tmp_path / "results.json").read_text())
    first = saved["methods"]["fine_tune"]
    assert saved["method"] == "fine_tune" and first["cost_samples"] == saved["cost_samples"]
    assert saved["verification_error"] == first["verification_error"]
    twin = both["methods"]["ssd"]["twin_cost_gradient_evaluations"]
    assert saved["twin_cost"]["gradient_evaluations"] == twin


BAD = [
    (["unlearn.compare=[none,forget_me]"], "unlearn.compare=['none', 'forget_me']"),
    (["unlearn.compare=[none,none]"], "unlearn.compare=['none', 'none']"),
    (["unlearn.compare=everything"], "unlearn.compare='everything'"),
    (["unlearn.compare=[none,rewind@k:0]"], "unlearn.compare[rewind@k:0].k=0"),
    (
        ["unlearn.compare=[none,rewind@k:11]"],
        "unlearn.compare[rewind@k:11].k=11: allowed 1 <= k <= t = 10",
    ),
    (["unlearn.compare=[none,rewind@k]"], "unlearn.compare=['none', 'rewind@k']"),
    (["unlearn.compare=[none,rewind@depth:2]"], "rewind has no setting 'depth'"),
    (["unlearn.compare=[none,ssd@alpha:0]"], "unlearn.compare[ssd@alpha:0].alpha=0"),
    (["unlearn=rewind", "unlearn.k=0"], "unlearn.k=0"),
    (["unlearn=rewind", "unlearn.k=11"], "unlearn.k=11: allowed 1 <= k <= t = 10"),
    (["unlearn=ssd", "unlearn.alpha=0"], "unlearn.alpha=0"),
    (["unlearn=ssd", "unlearn.lam=-1"], "unlearn.lam=-1"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_compare_input_is_one_line_before_training(make_cfg, tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*TINY, *overrides))
    text = str(err.value)
    assert message in text and "allowed" in text and "\n" not in text
    assert not (tmp_path / "results.json").exists()


def test_rewind_to_before_the_forgotten_batch_is_exact(make_cfg):
    """The default forget set is the window's first batch: k = t rewinds to w_0, before F's
    only use, and the replay is the twin's own steps: v = 0.0 exactly."""
    exact = run(make_cfg(*TINY, "unlearn=rewind", "unlearn.k=10"))
    assert exact["verification_error"] == 0.0 and exact["verification_error_no_unlearning"] > 0
    assert exact["unlearn_report"] == {"rewind_step": 0, "replayed_steps": 10}
    assert exact["cost_gradient_evaluations"] == 9  # step 1's batch is all F: no gradient
    later = run(make_cfg(*TINY, "unlearn=rewind", "unlearn.k=4", "unlearn.rewind_every=3"))
    assert later["unlearn_report"] == {"rewind_step": 6, "replayed_steps": 4}  # 6 <= 10 - 4
    assert later["verification_error"] > 0  # F's step (step 1) is before the rewind point


def test_ssd_dampens_only_where_the_forget_importance_dominates():
    f64 = torch.float64
    w = [torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=f64)]
    imp_d = [torch.tensor([1.0, 1.0, 2.0, 0.0], dtype=f64)]
    imp_f = [torch.tensor([5.0, 20.0, 20.0, 0.0], dtype=f64)]
    # α = 10: I_F > 10·I_D at entry 1 only (20 > 10; 20 > 20 and 0 > 0 are false)
    (out,) = dampen(w, imp_d, imp_f, alpha=10.0, lam=1.0)
    assert out.tolist() == [1.0, 2.0 * (1.0 / 20.0), 3.0, 4.0]
    # α = 2: entries 0, 1, 2 selected; λ = 4: factors min(4·1/5, 1), min(4/20, 1), min(8/20, 1)
    (out,) = dampen(w, imp_d, imp_f, alpha=2.0, lam=4.0)
    assert torch.allclose(out, torch.tensor([0.8, 0.4, 1.2, 4.0], dtype=f64))
    # λ large: the bound min(·, 1) keeps a weight from growing
    (out,) = dampen(w, imp_d, imp_f, alpha=2.0, lam=100.0)
    assert out.tolist() == w[0].tolist()


@pytest.mark.parametrize("name, methods", [("methods_mini", 17), ("methods", 15)])
def test_the_methods_sweeps_are_one_job_per_forget_set_and_seed(name, methods, tmp_path):
    """The paired layout: 3 forget sets × 3 seeds, every method inside each job (the old
    layout: one job per method, 99 windows and 99 twins)."""
    from conftest import compose_config

    from unlearn.config.checks import validate
    from unlearn.experiment import compare
    from unlearn.experiment.sweeps import list_jobs

    jobs = list_jobs(name)
    assert len(jobs) == 9
    cfg = compose_config([j for j in jobs[0] if not j.startswith("sweep=")], tmp_path)
    validate(cfg)
    compare.check(cfg)
    assert len(compare.method_options(cfg)) == methods and cfg.twin.order_noise


def test_the_wandb_summary_has_one_entry_per_method_and_key():
    from unlearn.loggers.wandb_run import summary_metrics

    results = {
        "verification_error": 2.0, "verification_error_no_unlearning": 4.0, "method": "a",
        "methods": {"a": {"verification_error": 2.0, "curves": {"verification_error": [2.0]}},
                    "rewind@k:5": {"verification_error": 1.0, "cost_samples": 7}},
    }  # fmt: skip
    out = summary_metrics(results)
    assert out["methods/a/verification_error"] == 2.0 and out["v_ratio"] == 0.5
    assert out["methods/rewind@k:5/cost_samples"] == 7
    assert not any(k.endswith("curves") for k in out)
