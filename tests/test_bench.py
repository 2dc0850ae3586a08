"""The grid160 cost projection (bench/grid_cost.py): exact arithmetic on a known table."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from grid_cost import project  # noqa: E402

MODES = ("plain", "twin", "twin+tracking")


def _table(plain: float, window: float) -> dict:
    return {
        f"{m}/b{b}/{mode}": {"s_per_epoch": window if mode == "twin+tracking" else plain}
        for m in ("resnet18", "vgg19")
        for b in (32, 128)
        for mode in MODES
    }


def test_cache_turns_each_group_into_one_pretraining_to_its_largest_n():
    out = project(_table(plain=3600.0, window=7200.0))  # one hour per pretraining epoch
    assert out["jobs"] == 160
    # 2 data sets × 2 models × 5 γ × 3 batch sizes: 60 trajectories, each to N = 70 or 80
    assert out["pretrain_groups"] == 60
    assert out["pretrain_epochs_without_cache"] == 2 * 2 * 5 * sum(range(10, 81, 10))
    assert out["pretrain_epochs_with_cache"] == 4200
    assert out["window_gpu_hours"] == pytest.approx(160 * 2.0)
    assert out["gpu_hours_with_cache"] == pytest.approx(4200 + 320)
    assert out["gpu_hours_without_cache"] == pytest.approx(7200 + 320)
