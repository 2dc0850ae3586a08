"""Tiny stand-ins for the paper's data and models, written by the tests themselves.

A CIFAR-shaped `.npz` of random uint8 images, an IMDB-shaped JSON-lines file of
template reviews, a WordPiece vocabulary for a DistilBERT tokenizer, and the config of a
tiny randomly initialised DistilBERT: everything offline, in a few kilobytes.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    *("the", "a", "this", "movie", "film", "was", "is", "it", "and", "i", "loved", "hated"),
    *("great", "awful", "good", "bad", "plot", "acting", "boring", "brilliant", "not", "very"),
    *("story", "ending", "br"),
]
TINY_BERT = {
    "vocab_size": len(SPECIAL) + len(WORDS) + 4,  # + "<", ">", "/", "."
    "dim": 16,
    "n_layers": 1,
    "n_heads": 2,
    "hidden_dim": 32,
    "max_position_embeddings": 64,
}


# a preset for a few steps: 2 pretraining and 3 window steps of batch 4, every event on
FEW_STEPS = [
    "N=2",
    "N_epochs=null",
    "t=3",
    "t_epochs=null",
    "batch_size=4",
    "pretrain_batch_size=4",
    "track_every=3",
    "verify_every=1",
    "sigma.max_iter=2",
    "logger=none",
    "checkpoint_every=null",
]


def write_cifar_npz(
    path: Path, num_classes: int = 10, n_train: int = 60, n_test: int = 20, seed: int = 0
) -> Path:
    """A CIFAR-shaped .npz: uint8 (n, 32, 32, 3) images, every class present in train."""
    rng = np.random.default_rng(seed)
    n_train = max(n_train, num_classes)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.int64) % num_classes,
        "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, num_classes, n_test).astype(np.int64),
    }
    np.savez(path, **arrays)
    return path


def write_vocab(directory: Path) -> Path:
    """A folder with a WordPiece vocab.txt that DistilBertTokenizerFast can load."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join([*SPECIAL, *WORDS, "<", ">", "/", "."]) + "\n")
    return directory


def write_imdb_jsonl(path: Path, n_train: int = 24, n_test: int = 12, seed: int = 0) -> Path:
    """Gzipped JSON lines {split, label, text}: reviews of varied length, half positive."""
    rng = np.random.default_rng(seed)
    pos, neg = "i loved this movie great acting", "awful film the plot was boring"
    lines = []
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            label = i % 2
            filler = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 15))))
            text = f"{pos if label else neg} <br /> {filler}."
            lines.append(json.dumps({"split": split, "label": label, "text": text}))
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def tiny_bert_override(prefix: str) -> str:
    """A Hydra override setting `prefix` to the tiny DistilBERT config."""
    fields = ",".join(f"{k}:{v}" for k, v in TINY_BERT.items())
    return f"{prefix}={{{fields}}}"


def write_tiny_bert_folder(directory: Path, seed: int = 0) -> Path:
    """A Hugging Face folder like all-MiniLM-L6-v2's, tiny and random: a BERT (hidden 32,
    2 layers) saved as config.json + model.safetensors, and a WordPiece tokenizer built from
    the word list above with the `tokenizers` library (tokenizer.json + tokenizer_config.json)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = {w: i for i, w in enumerate([*SPECIAL, *WORDS, "<", ">", "/", "."])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    BertTokenizerFast(tokenizer_object=tok, model_max_length=64).save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=vocab["[PAD]"],
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(directory)
    return directory
