"""The verification twin: bit-identical with nothing forgotten, and probes that leave no trace."""

import json

import pytest

from unlearn.experiment.run import run


@pytest.mark.parametrize(
    "model",
    [
        ["model=small_cnn"],
        ["model=small_cnn", "model.batch_norm=true", "model.dropout=0.5"],
        ["model=mlp", "data.flatten=true", "model.batch_norm=true", "model.dropout=0.3"],
    ],
    ids=["cnn", "cnn-bn-dropout", "mlp-bn-dropout"],
)
def test_empty_forget_set_gives_a_bit_identical_twin(make_cfg, model):
    # two epochs of window so every code path of the stream is crossed
    res = run(make_cfg("forget=none", "t=100", "gamma=1.0", *model))
    assert res["forget_size"] == 0
    assert res["verification_error"] == 0.0
    assert res["verification_error_no_unlearning"] == 0.0
    assert all(v == 0.0 for v in res["curves"]["verification_error"])


def test_probing_leaves_no_trace_on_training(make_cfg, tmp_path):
    """σ probes at every step or at none give the same trained weights, bit for bit."""
    common = ("model.batch_norm=true", "model.dropout=0.3", "gamma=2.0")
    dense = run(make_cfg("track_every=1", *common))
    sparse = run(make_cfg("track_every=1000", *common))
    assert dense["weight_drift"] == sparse["weight_drift"]
    assert dense["verification_error"] == sparse["verification_error"]
    assert dense["test_acc"] == sparse["test_acc"]
    assert len(dense["curves"]["sigma"]) == dense["t"]


def test_runs_are_reproducible(make_cfg, tmp_path):
    a = run(make_cfg("model.dropout=0.3"))
    b = run(make_cfg("model.dropout=0.3"))
    for key in ("weight_drift", "sigma_avg", "unlearning_error", "verification_error", "test_acc"):
        assert a[key] == b[key]
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["verification_error"] == b["verification_error"]


def test_single_gradient_beats_doing_nothing_at_small_step(make_cfg):
    """At η·σ ≪ 1 the first-order update removes most of the batch's effect (SPEC.md)."""
    res = run(make_cfg("lr=0.001", "N=10", "t=20"))
    assert res["lr"] * res["sigma_avg"] < 0.1
    assert res["verification_error"] < 0.5 * res["verification_error_no_unlearning"]
