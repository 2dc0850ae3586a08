"""The CPU presets on real images (cifar10_small_*): the paper's regime at width 16 on a
fixed 5,000-image subset; each composes, carries its header and runs a few steps."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import compose_config
from paper_fakes import FEW_STEPS as COMMON_FEW_STEPS
from paper_fakes import write_cifar_npz

from unlearn.experiment.run import run

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ["cifar10_small_resnet18", "cifar10_small_vgg19"]
FEW_STEPS = [*COMMON_FEW_STEPS, "data.test_batch_size=3"]
_dirs = itertools.count()


@pytest.mark.parametrize("preset", PRESETS)
def test_cpu_preset_is_the_paper_regime_scaled_down(preset, tmp_path):
    cfg = compose_config([f"+experiment={preset}"], tmp_path)
    assert cfg.trainer.accelerator == "cpu" and cfg.data.dataset == "cifar10"
    assert (cfg.model.width, cfg.model.num_classes) == (16, 10)
    assert (cfg.data.train_subset, cfg.data.test_subset) == (5000, None)
    assert (cfg.lr, cfg.pretrain_batch_size, cfg.batch_size) == (0.1, 128, 32)
    assert (cfg.N_epochs, cfg.t_epochs, cfg.track_every, cfg.verify_every) == (10, 1, 40, 10)
    assert (cfg.optimizer.momentum, cfg.optimizer.weight_decay, cfg.gamma) == (0.0, 0.0, 0.0)
    header = (ROOT / "conf" / "experiment" / f"{preset}.yaml").read_text().split("defaults:")[0]
    assert f"python -m unlearn +experiment={preset} data.npz=/path/to/cifar10.npz" in header
    for part in ("Runtime measured here", "Compared to: Table 1", "What the scale-down changes"):
        assert part in header
    assert "/work" not in header and "../shared" not in header


@pytest.mark.parametrize("preset", PRESETS)
def test_cpu_preset_runs_two_steps_with_a_bit_identical_twin(preset, tmp_path):
    npz = write_cifar_npz(tmp_path / "c10.npz", 10, n_train=5000, n_test=6)  # the subset's size
    out = tmp_path / f"run{next(_dirs)}"
    overrides = [f"+experiment={preset}", *FEW_STEPS, f"data.npz={npz}", "forget=none"]
    cfg = compose_config([*overrides, f"paths.cache_dir={tmp_path}/cache"], out)
    res = run(cfg)
    assert res["status"] == "ok" and (res["N"], res["t"], res["lr"]) == (2, 3, 0.1)
    assert res["verification_error"] == 0.0 and res["verification_error_no_unlearning"] == 0.0
    assert res["sigma_avg"] > 0 and res["weight_drift"] > 0
    assert res["config"]["model"]["width"] == 16
