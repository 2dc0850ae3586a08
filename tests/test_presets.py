"""Every paper preset composes with the paper's settings and runs a few steps on tiny data of
the right shape, with its real model; with nothing forgotten the twin is bit-identical."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import compose_config
from paper_fakes import FEW_STEPS as COMMON_FEW_STEPS
from paper_fakes import tiny_bert_override, write_cifar_npz, write_imdb_jsonl, write_vocab

from unlearn.experiment.run import run

ROOT = Path(__file__).resolve().parents[1]
CIFAR = ["cifar10_resnet18", "cifar10_vgg19", "cifar100_resnet18", "cifar100_vgg19"]
PRESETS = [*CIFAR, "imdb_distilbert"]
FEW_STEPS = [*COMMON_FEW_STEPS, "trainer=cpu"]
_dirs = itertools.count()


@pytest.fixture(scope="module")
def fakes(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("fakes")
    return {
        "cifar10": str(write_cifar_npz(d / "c10.npz", 10, n_train=20, n_test=6)),
        "cifar100": str(write_cifar_npz(d / "c100.npz", 100, n_train=100, n_test=6)),
        "jsonl": str(write_imdb_jsonl(d / "imdb.jsonl.gz")),
        "vocab": str(write_vocab(d / "vocab")),
    }


def _tiny(preset: str, fakes: dict[str, str]) -> list[str]:
    """Overrides that swap the preset's data (and DistilBERT's size) for the fakes."""
    if preset.startswith("cifar"):
        return [f"data.npz={fakes[preset.split('_')[0]]}", "data.test_batch_size=3"]
    return [
        f"data.jsonl={fakes['jsonl']}",
        f"data.tokenizer={fakes['vocab']}",
        "data.max_length=24",
    ]


TINY_FULL = ["model.pretrained=null", tiny_bert_override("model.config")]
TINY_HEAD = [
    "model=distilbert_linear_head",
    "lr=0.1",
    "model.in_features=16",
    "model.frozen_encoder.pretrained=null",
    tiny_bert_override("model.frozen_encoder.config"),
]


def _run(tmp_path: Path, preset: str, *overrides: str) -> dict:
    out = tmp_path / f"run{next(_dirs)}"
    cfg = compose_config(
        [f"+experiment={preset}", *FEW_STEPS, f"paths.cache_dir={tmp_path}/cache", *overrides],
        out,
    )
    return run(cfg)


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_carries_the_paper_settings_and_its_header(preset, tmp_path):
    cfg = compose_config([f"+experiment={preset}"], tmp_path)
    assert (cfg.track_every, cfg.verify_every, cfg.t_epochs, cfg.batch_size) == (400, 100, 1, 32)
    assert cfg.trainer.accelerator == "gpu" and cfg.optimizer.momentum == 0.0
    if preset.startswith("cifar"):
        assert (cfg.lr, cfg.pretrain_batch_size, cfg.N_epochs) == (0.1, 128, 10)
        assert cfg.model.num_classes == cfg.data.num_classes if "num_classes" in cfg.data else True
        assert cfg.model.num_classes == (100 if preset.startswith("cifar100") else 10)
    else:
        assert (cfg.lr, cfg.pretrain_batch_size, cfg.N_epochs) == (0.01, 16, 3)
        assert cfg.model.pretrained == "distilbert-base-uncased" and cfg.data.max_length == 512
    header = (ROOT / "conf" / "experiment" / f"{preset}.yaml").read_text().split("defaults:")[0]
    assert f"python -m unlearn +experiment={preset}" in header
    assert "Runtime on one modern GPU" in header and "Should reproduce: Table" in header
    assert "σ protocol:" in header and "sigma=reference" in header  # which σ gives the paper's e


@pytest.mark.parametrize(
    "preset",  # CIFAR-100's two presets differ from CIFAR-10's only in the data: slow (~10 s each)
    [pytest.param(p, marks=pytest.mark.slow) if p.startswith("cifar100") else p for p in CIFAR],
)
def test_cifar_preset_runs_with_a_bit_identical_twin(preset, fakes, tmp_path):
    res = _run(tmp_path, preset, *_tiny(preset, fakes), "forget=none")
    assert res["status"] == "ok" and (res["N"], res["t"], res["lr"]) == (2, 3, 0.1)
    assert res["verification_error"] == 0.0 and res["verification_error_no_unlearning"] == 0.0
    assert res["sigma_avg"] > 0 and res["weight_drift"] > 0
    assert res["pretrain_cache"] == "miss"


@pytest.mark.parametrize("variant", [TINY_FULL, TINY_HEAD], ids=["full", "linear-head"])
def test_imdb_preset_runs_with_a_bit_identical_twin_dropout_included(variant, fakes, tmp_path):
    res = _run(
        tmp_path, "imdb_distilbert", *_tiny("imdb_distilbert", fakes), *variant, "forget=none"
    )
    assert res["status"] == "ok" and res["N"] == 2 and res["t"] == 3
    assert res["verification_error"] == 0.0 and res["verification_error_no_unlearning"] == 0.0
    assert 0.0 <= res["test_acc"] <= 1.0 and res["sigma_avg"] > 0 and res["weight_drift"] > 0


def test_forgetting_a_batch_moves_the_twin(fakes, tmp_path):
    """With dropout on, the twin differs only by the forgotten samples: v > 0, finite."""
    res = _run(tmp_path, "imdb_distilbert", *_tiny("imdb_distilbert", fakes), *TINY_FULL)
    assert res["forget_size"] == 4
    assert 0.0 < res["verification_error"] < float("inf")
    assert 0.0 < res["verification_error_no_unlearning"] < float("inf")


def test_cli_without_the_data_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unlearn",
            "+experiment=cifar10_resnet18",
            "trainer=cpu",
            f"data.data_dir={tmp_path / 'nothing'}",
            "data.download=false",
            f"hydra.run.dir={tmp_path / 'out'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "data.npz=PATH" in lines[0], proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without GPU")
def test_gpu_preset_on_a_cpu_machine_names_trainer_cpu(fakes, tmp_path):
    from unlearn.config.checks import ConfigError

    with pytest.raises(ConfigError, match=r"trainer.accelerator='gpu'.*trainer=cpu"):
        _run(tmp_path, "cifar10_resnet18", *_tiny("cifar10_resnet18", fakes), "trainer=gpu")
