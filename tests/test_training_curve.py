"""Training curves: train loss (criterion + regulariser), train and test accuracy, for both
phases, in the CSV logger and results.json; a cache hit still shows pretraining's curve."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from unlearn.callbacks.training_curve import accuracy_on
from unlearn.experiment.run import run


def _csv(out: Path) -> list[dict[str, str]]:
    with (out / "csv" / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def _column(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key)]


def test_both_phases_curves_are_in_the_csv_log(make_cfg):
    cfg = make_cfg("logger=csv", "gamma=2", "curves.every=5", "curves.test_every=10")
    res = run(cfg)
    rows = _csv(Path(cfg.paths.output_dir))
    assert _column(rows, "pretrain/step") == [5, 10, 15, 20]
    assert len(_column(rows, "pretrain/train_loss")) == 4
    test_steps = [float(r["pretrain/step"]) for r in rows if r.get("pretrain/test_acc")]
    assert test_steps == [10, 20]  # every 10 steps (and at the end)
    assert _column(rows, "window/step") == [5, 10, 12]  # and at the last step, 12
    assert len(_column(rows, "window/train_acc")) == 3
    assert len(_column(rows, "window/test_acc")) == 1
    for row in res["pretrain_curve"] + res["window_curve"]:
        if "train_loss" in row:  # the parts add up: loss = CE + γ·SD
            assert math.isclose(row["train_ce"] + row["train_reg"], row["train_loss"])
            assert row["train_reg"] > 0 and 0 <= row["train_acc"] <= 1


def test_a_cache_hit_shows_the_cached_pretraining_curve(make_cfg, tmp_path):
    cache = f"paths.cache_dir={tmp_path / 'cache'}"
    first = run(make_cfg("logger=csv", cache))
    cfg = make_cfg("logger=csv", cache)
    second = run(cfg)
    assert second["pretrain_cache"] == "hit"
    assert second["pretrain_curve"] == first["pretrain_curve"] and first["pretrain_curve"]
    logged = _column(_csv(Path(cfg.paths.output_dir)), "pretrain/train_loss")
    assert logged == [r["train_loss"] for r in first["pretrain_curve"] if "train_loss" in r]


def test_a_prefix_hit_continues_the_cached_curve(make_cfg, tmp_path):
    cache = f"paths.cache_dir={tmp_path / 'cache'}"
    short = run(make_cfg("N=10", cache))
    longer = run(make_cfg("N=20", cache))
    assert longer["pretrain_cache"] == "prefix:10"
    assert longer["pretrain_curve"][: len(short["pretrain_curve"])] == short["pretrain_curve"]
    assert [r["step"] for r in longer["pretrain_curve"]][-1] == 20


def test_curves_leave_the_twin_bit_identical(make_cfg):
    res = run(make_cfg("forget=none", "curves.test_every=3", "model.dropout=0.3"))
    assert res["verification_error"] == 0.0 and res["window_curve"]


@pytest.mark.parametrize("training", [True, False])
def test_accuracy_on_leaves_mode_and_rng_as_they_were(training):
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3)).train(training)
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    loader = torch.utils.data.DataLoader(
        list(zip(x, y, torch.arange(10), strict=True)), batch_size=4
    )
    state = torch.random.get_rng_state()
    acc = accuracy_on(net, loader, torch.device("cpu"))
    assert torch.equal(torch.random.get_rng_state(), state) and net.training == training
    assert acc == int((net(x).argmax(1) == y).sum()) / 10
