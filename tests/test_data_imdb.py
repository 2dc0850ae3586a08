"""IMDB data: JSON lines → token ids (cached), frozen-encoder features, one-line errors offline."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch
from paper_fakes import TINY_BERT, write_imdb_jsonl, write_vocab

from unlearn.config.checks import ConfigError
from unlearn.data import IMDBDataModule


@pytest.fixture
def files(tmp_path):
    return {
        "jsonl": str(write_imdb_jsonl(tmp_path / "imdb.jsonl.gz")),
        "tokenizer": str(write_vocab(tmp_path / "vocab")),
        "cache_dir": str(tmp_path / "cache"),
    }


def _module(files, **kw) -> IMDBDataModule:
    data = IMDBDataModule(**{"max_length": 24, **files, **kw})
    data.setup("fit")
    return data


def test_reviews_become_padded_token_ids(files):
    data = _module(files)
    assert data.num_classes == 2 and data.num_train == 24 and len(data.test_set) == 12
    x = data.train_set.x
    assert x.shape == (24, 24) and x.dtype == torch.int64
    assert (x[:, 0] == 2).all()  # [CLS] first
    assert ((x == 3).sum(dim=1) == 1).all()  # one [SEP] per review
    assert (x == 0).any()  # short reviews are right-padded with [PAD] = 0
    assert data.train_set.y.tolist() == [i % 2 for i in range(24)]


def test_token_ids_are_cached_and_reused(files, monkeypatch):
    first = _module(files).train_set.x
    assert len(list((Path(files["cache_dir"]) / "tokens").glob("*.pt"))) == 1

    def no_tokenizing(*args, **kw):
        raise AssertionError("tokenised again")

    monkeypatch.setattr("transformers.PreTrainedTokenizerBase.__call__", no_tokenizing)
    assert torch.equal(_module(files).train_set.x, first)
    with pytest.raises(AssertionError, match="tokenised again"):  # the patch does bite
        _module({**files, "max_length": 20})


def test_plain_jsonl_and_subsets(files, tmp_path):
    plain = tmp_path / "plain.jsonl"
    with gzip.open(files["jsonl"], "rt") as f:
        plain.write_text(f.read())
    data = _module({**files, "jsonl": str(plain)}, train_subset=10, test_subset=4)
    assert data.num_train == 10 and len(data.test_set) == 4


def test_frozen_encoder_features_are_deterministic_and_cached(files):
    spec = {"pretrained": None, "config": TINY_BERT, "seed": 0}
    a = _module(files, frozen_encoder=spec)
    assert a.train_set.x.shape == (24, TINY_BERT["dim"]) and a.train_set.x.dtype == torch.float32
    b = _module({**files, "cache_dir": files["cache_dir"] + "-other"}, frozen_encoder=spec)
    assert torch.equal(a.train_set.x, b.train_set.x)  # recomputed elsewhere: same bits
    c = _module(files, frozen_encoder={**spec, "seed": 1})
    assert not torch.equal(a.train_set.x, c.train_set.x)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"split": "dev", "label": 1, "text": "x"}, "line 1 has split='dev'"),
        ({"split": "train", "label": 5, "text": "x"}, "label=5"),
        ({"split": "train", "label": 1}, "text of type NoneType"),
    ],
)
def test_a_bad_line_is_one_config_error(files, tmp_path, line, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(line) + "\n")
    with pytest.raises(ConfigError, match="data.jsonl=") as err:
        _module({**files, "jsonl": str(bad)})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_split_and_missing_file(files, tmp_path):
    only_train = tmp_path / "train.jsonl"
    only_train.write_text(json.dumps({"split": "train", "label": 0, "text": "a"}) + "\n")
    with pytest.raises(ConfigError, match="no test rows"):
        _module({**files, "jsonl": str(only_train)})
    with pytest.raises(ConfigError, match="no such file"):
        _module({**files, "jsonl": str(tmp_path / "nope.jsonl")})


def test_no_network_names_the_local_options(files, monkeypatch, tmp_path):
    monkeypatch.setattr("unlearn.data.imdb.reachable", lambda url: False)
    monkeypatch.setattr("unlearn.runtime.hub.reachable", lambda url: False)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ConfigError, match=r"unreachable.*data.jsonl=PATH"):
        _module({**files, "jsonl": None})
    with pytest.raises(ConfigError, match=r"data.tokenizer='distilbert-base-uncased'.*PATH"):
        _module({**files, "tokenizer": "distilbert-base-uncased"})
