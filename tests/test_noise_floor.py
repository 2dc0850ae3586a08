"""The noise floor: with nothing forgotten (`forget=none`) the twin equals the main model bit
for bit on CPU, so v = v_none = 0 exactly, for every model, with deterministic kernels on
or off, whatever the unlearning method.

Verification error means something only above this floor. On a GPU the floor depends on
the kernels: `deterministic=true|false` is the knob (measure it there with
``python -m unlearn +experiment=cifar10_resnet18 forget=none deterministic=false``).
The paper presets' floor on their real models is checked in test_presets.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from paper_fakes import tiny_bert_override, write_cifar_npz, write_imdb_jsonl, write_vocab

from unlearn.experiment.run import run

CONF = Path(__file__).resolve().parents[1] / "conf"
FEW = ["N=3", "t=4", "batch_size=4", "pretrain_batch_size=4", "track_every=2", "verify_every=1"]
FLOOR = ["forget=none", "sigma.max_iter=3", "pretrain.cache=false"]


@pytest.fixture(scope="module")
def fakes(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("fakes")
    return {
        "cifar": str(write_cifar_npz(d / "c10.npz", 10, n_train=16, n_test=4)),
        "jsonl": str(write_imdb_jsonl(d / "imdb.jsonl.gz", n_train=12, n_test=4)),
        "vocab": str(write_vocab(d / "vocab")),
    }


def _cifar(f: dict[str, str]) -> list[str]:
    return ["data=cifar10", f"data.npz={f['cifar']}", "data.test_batch_size=4"]


def _imdb(f: dict[str, str]) -> list[str]:
    return ["data=imdb", f"data.jsonl={f['jsonl']}", f"data.tokenizer={f['vocab']}"]


# every model option, on small data of its input's shape, dropout and BatchNorm where it has them
MODELS = {
    "small_cnn": lambda f: ["model.batch_norm=true", "model.dropout=0.5"],
    "mlp": lambda f: ["data.flatten=true", "model.batch_norm=true", "model.dropout=0.3"],
    "resnet18": _cifar,
    "vgg19": _cifar,
    "distilbert": lambda f: [
        *_imdb(f),
        "data.max_length=16",
        "model.pretrained=null",
        tiny_bert_override("model.config"),
    ],
    "distilbert_linear_head": lambda f: [
        *_imdb(f),
        "data.max_length=16",
        "model.in_features=16",
        "model.frozen_encoder.pretrained=null",
        tiny_bert_override("model.frozen_encoder.config"),
    ],
}
HEAVY = {"resnet18", "vgg19"}


def test_every_model_option_has_a_noise_floor_case():
    assert sorted(MODELS) == sorted(p.stem for p in (CONF / "model").glob("*.yaml"))


def _assert_floor(res: dict) -> None:
    assert res["forget_size"] == 0
    assert res["verification_error"] == 0.0
    assert res["verification_error_no_unlearning"] == 0.0
    assert all(v == 0.0 for v in res["curves"]["verification_error"])
    assert all(v == 0.0 for v in res["curves"]["verification_error_no_unlearning"])


@pytest.fixture
def restore_determinism():
    """Lightning sets torch's deterministic flag for the process; put it back afterwards."""
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.mark.parametrize("deterministic", ["true", "false"])
@pytest.mark.parametrize(
    "model",
    [pytest.param(m, marks=pytest.mark.slow) if m in HEAVY else m for m in MODELS],
)
def test_nothing_forgotten_gives_v_zero_for_every_model(
    make_cfg, fakes, restore_determinism, model, deterministic
):
    res = run(
        make_cfg(
            f"model={model}",
            *MODELS[model](fakes),
            *FEW,
            *FLOOR,
            "gamma=1",
            f"deterministic={deterministic}",
        )
    )
    _assert_floor(res)
    assert res["deterministic"] is (deterministic == "true")
    assert torch.are_deterministic_algorithms_enabled() is (deterministic == "true")


@pytest.mark.parametrize(
    "variant",
    [
        ["unlearn=amnesiac"],
        ["unlearn=retrain"],
        ["unlearn.w_ref=final", "twin.partial_batch=mean"],
        ["loss=l2"],
        ["sigma.engine=power", "sigma.at=initial", "track_every=1"],
        ["t=100", "checkpoint_every=7"],  # across an epoch boundary, with window checkpoints
        ["optimizer.momentum=0.9", "optimizer.weight_decay=0.01", "unlearn.w_ref=first"],
        ["sigma=reference", "sigma.max_iter=3", "data.reshuffle=false", "t=100"],
    ],
    ids=[
        "amnesiac",
        "retrain",
        "final-mean",
        "l2",
        "power-at-w0",
        "two-epochs-checkpoints",
        "momentum-decay-first",
        "sigma-reference-fixed-order",
    ],
)
def test_nothing_forgotten_gives_v_zero_for_every_method(make_cfg, variant):
    cfg = make_cfg(*FLOOR, "model.batch_norm=true", "model.dropout=0.3", "gamma=2", *variant)
    _assert_floor(run(cfg))
