"""IMDB reviews (25,000 train, 25,000 test, positive/negative) for DistilBERT.

Read from a local JSON-lines file (``data.jsonl=PATH``, gzip allowed; one object per line
with ``split`` "train"/"test", ``label`` 0/1 and ``text``) or through Hugging Face
`datasets` when the network is there. Reviews are tokenised with DistilBERT's tokenizer
and truncated to `max_length` tokens (512, DistilBERT's limit, as in the paper). With a
frozen encoder (``model=distilbert_linear_head``) the inputs are instead its [CLS]
features, computed once (see `unlearn.data.encode`).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from unlearn.config.checks import ConfigError
from unlearn.config.errors import EnvironmentProblem
from unlearn.data.arrays import ArrayDataModule, IndexedArrays
from unlearn.data.encode import frozen_features, tokenize
from unlearn.data.subset import subset_indices
from unlearn.runtime.hub import reachable

Rows = dict[str, tuple[list[str], list[int]]]
LOCAL_HINT = "a local copy: data.jsonl=PATH (JSON lines with split, label, text; gzip allowed)"


def read_jsonl(path: str) -> Rows:
    """{split: (texts, labels)} from a JSON-lines file, every line checked."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise EnvironmentProblem(f"data.jsonl={path!r}: no such file; allowed {LOCAL_HINT}")
    with file.open("rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    rows: Rows = {"train": ([], []), "test": ([], [])}
    opener = gzip.open if gzipped else open
    try:
        with opener(file, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ConfigError(
                        f"data.jsonl={path!r}: line {number} is a JSON {type(item).__name__}, "
                        'not an object; allowed {"split": ..., "label": ..., "text": ...}'
                    )
                split, label, text = item.get("split"), item.get("label"), item.get("text")
                is_label = isinstance(label, int) and not isinstance(label, bool)  # not true
                if (
                    split not in rows
                    or not is_label
                    or label not in (0, 1)
                    or not isinstance(text, str)
                ):
                    raise ConfigError(
                        f"data.jsonl={path!r}: line {number} has split={split!r}, "
                        f"label={label!r}, text of type {type(text).__name__}; "
                        "allowed split train|test, label 0|1, text a string"
                    )
                rows[split][0].append(text)
                rows[split][1].append(label)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(  # EOFError, zlib.error: a truncated or corrupt .gz
            f"data.jsonl={path!r}: unreadable ({type(err).__name__}); allowed {LOCAL_HINT}"
        ) from None
    for split, (texts, _) in rows.items():
        if not texts:
            raise ConfigError(f"data.jsonl={path!r}: no {split} rows; allowed {LOCAL_HINT}")
    return rows


def load_hf_imdb(name: str, data_dir: str) -> Rows:
    """{split: (texts, labels)} through Hugging Face `datasets` (downloads when needed)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or not reachable(constants.ENDPOINT):
        raise ConfigError(
            f"data.jsonl=None: IMDB comes from {constants.ENDPOINT} ({name}), which is "
            f"unreachable (no network?); allowed {LOCAL_HINT}"
        )
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            f"data.jsonl=None: the `datasets` package is not installed; allowed {LOCAL_HINT}"
        ) from None
    try:
        ds = datasets.load_dataset(name, cache_dir=data_dir)
    except Exception as err:  # noqa: BLE001 - any download failure is the user's to fix
        raise ConfigError(
            f"data.jsonl=None: loading {name} failed ({type(err).__name__}); allowed {LOCAL_HINT}"
        ) from None
    return {
        split: (list(ds[split]["text"]), list(ds[split]["label"])) for split in ("train", "test")
    }


class IMDBDataModule(ArrayDataModule):
    """IMDB as token ids (n, max_length), or as frozen-encoder features (n, dim).

    Args:
        jsonl: a local JSON-lines copy (None: Hugging Face `datasets`).
        hf_name: the `datasets` name of IMDB.
        data_dir: the `datasets` cache folder.
        tokenizer: a repo id or a local folder holding vocab.txt.
        max_length: tokens kept per review (DistilBERT takes at most 512).
        frozen_encoder: ``{pretrained, config, seed}`` to give [CLS] features instead of ids.
        cache_dir: where token ids and features are cached.
        train_subset: keep a fixed random subset of this many training reviews (None: all).
        test_subset: the same for the test reviews.
        subset_seed: seed of those subsets (fixed, not the run seed).
        feature_batch_size: reviews per forward of the frozen encoder.
    """

    num_classes = 2

    def __init__(
        self,
        jsonl: str | None = None,
        hf_name: str = "stanfordnlp/imdb",
        data_dir: str = "data",
        tokenizer: str = "distilbert-base-uncased",
        max_length: int = 512,
        frozen_encoder: Mapping[str, Any] | None = None,
        cache_dir: str = ".cache",
        train_subset: int | None = None,
        test_subset: int | None = None,
        subset_seed: int = 0,
        feature_batch_size: int = 64,
        **kw,
    ) -> None:
        super().__init__(**kw)
        self.jsonl = jsonl
        self.hf_name = hf_name
        self.data_dir = data_dir
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.frozen_encoder = dict(frozen_encoder) if frozen_encoder else None
        self.cache_dir = Path(cache_dir).expanduser()
        self.train_subset = train_subset
        self.test_subset = test_subset
        self.subset_seed = subset_seed
        self.feature_batch_size = feature_batch_size

    def _check(self) -> None:
        if not (isinstance(self.max_length, int) and 2 <= self.max_length <= 512):
            raise ConfigError(f"data.max_length={self.max_length!r}: allowed 2 <= integer <= 512")
        for key in ("train_subset", "test_subset", "feature_batch_size"):
            size = getattr(self, key)
            if size is not None and not (isinstance(size, int) and size >= 1):
                raise ConfigError(f"data.{key}={size!r}: allowed null or an integer >= 1")

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        self._check()
        rows = read_jsonl(self.jsonl) if self.jsonl else load_hf_imdb(self.hf_name, self.data_dir)
        texts, labels, sizes = [], [], []
        self.full_sizes: dict[str, int] = {}
        for split, size in (("train", self.train_subset), ("test", self.test_subset)):
            split_texts, split_labels = rows[split]
            self.full_sizes[split] = len(split_texts)  # before the subset (ceilings)
            keep = subset_indices(len(split_texts), size, self.subset_seed)
            if keep is not None:
                split_texts = [split_texts[i] for i in keep]
                split_labels = [split_labels[i] for i in keep]
            texts += split_texts
            labels += split_labels
            sizes.append(len(split_texts))
        x, pad_id = tokenize(texts, self.tokenizer, self.max_length, self.cache_dir)
        if self.frozen_encoder:
            x = frozen_features(
                x, pad_id, self.frozen_encoder, self.feature_batch_size, self.cache_dir
            )
        y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        n_train = sizes[0]
        self.train_set = IndexedArrays(x[:n_train].contiguous(), y[:n_train].clone())
        self.test_set = IndexedArrays(x[n_train:].contiguous(), y[n_train:].clone())
