"""twin.order_noise: a second exact twin over another batch order gives the floor v_order."""

from __future__ import annotations

import math

from unlearn.experiment.run import run

TINY = ["model=mlp", "N=10", "t=10", "verify_every=3"]


def test_without_a_forget_set_v_is_zero_but_another_order_is_not(make_cfg):
    """forget=none: the twin replays the main model exactly (v = 0), while a retrain over
    another batch order ends elsewhere (v_order > 0)."""
    out = run(make_cfg(*TINY, "forget=none", "twin.order_noise=true", "unlearn=none"))
    assert out["verification_error"] == 0.0
    assert out["v_order"] > 0 and all(v > 0 for v in out["curves"]["v_order"])
    assert out["v_order_ratio"] == 0.0 and out["order_seed"] == 1  # the run seed + 1
    assert out["order_twin_cost"]["gradient_evaluations"] == 10  # nothing to skip


def test_a_second_twin_with_the_run_seed_is_the_twin(make_cfg):
    """Same seed, same stream, same step seeds: the second twin is the first, bit for bit,
    and adding it changes no other number."""
    same = run(make_cfg(*TINY, "twin.order_noise=true", "twin.order_seed=0"))
    assert same["v_order"] == 0.0 and set(same["curves"]["v_order"]) == {0.0}
    assert math.isnan(same["v_order_ratio"])  # v / 0 is undefined
    plain = run(make_cfg(*TINY))
    assert same["curves"]["verification_error"] == plain["curves"]["verification_error"]
    assert same["verification_error_no_unlearning"] == plain["verification_error_no_unlearning"]


def test_every_compared_method_gets_its_ratio_to_the_order_floor(make_cfg):
    out = run(make_cfg(*TINY, "twin.order_noise=true", "unlearn.compare=[single_gradient,none]"))
    rows = out["methods"]
    assert rows["none"]["v_order_ratio"] == out["verification_error_no_unlearning"] / out["v_order"]
    assert rows["single_gradient"]["v_order_ratio"] == out["v_order_ratio"]
