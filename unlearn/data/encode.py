"""Text → token ids → (optionally) frozen-encoder features, each computed once and cached.

Tokenising 50,000 reviews takes a while and encoding them with a frozen DistilBERT takes
minutes on a GPU (hours on a CPU); both are pure functions of their inputs, so both are
stored in ``<cache_dir>/tokens`` and ``<cache_dir>/features`` under the digest of those
inputs, in the cache's verified format (`unlearn.runtime.store.write_entry`), under a file lock.
The features come from the encoder in eval mode (no dropout) over fixed batches, so they
are deterministic, and every later step trains only the head on them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from unlearn.config.checks import ConfigError
from unlearn.runtime.hub import GET_ENCODER, hf_snapshot
from unlearn.runtime.store import (
    CODE_VERSION,
    digest,
    locked,
    read_entry,
    tensor_digest,
    write_entry,
)

log = logging.getLogger(__name__)


def cached(directory: Path, key: str, compute: Callable[[], Tensor]) -> Tensor:
    """`compute()`, stored at ``directory/<key>.pt``; read back (verified) when present."""
    path = directory / f"{key}.pt"
    with locked(directory):
        entry = read_entry(path, key)
        if entry is None:
            entry = {"value": compute()}
            write_entry(path, entry, key)
    return entry["value"]


TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


def load_tokenizer(name: str) -> tuple[Any, str]:
    """(tokenizer, digest of its files) for a repo id or a local folder.

    A folder with tokenizer_config.json (any Hugging Face model folder) gets the tokenizer
    class it names (`AutoTokenizer`, local files only); a bare vocab.txt is read as
    DistilBERT's WordPiece tokenizer, the paper's.
    """
    from transformers import AutoTokenizer, DistilBertTokenizerFast

    from unlearn.models.hf_encoder import quiet_transformers

    local = hf_snapshot(name, "data.tokenizer", f"data.tokenizer=PATH: {GET_ENCODER}")
    files = sorted(p for p in local.iterdir() if p.name in TOKENIZER_FILES)
    if not any(p.name in ("vocab.txt", "tokenizer.json") for p in files):
        raise ConfigError(
            f"data.tokenizer={name!r}: {local} has no vocab.txt or tokenizer.json; "
            "allowed a Hugging Face tokenizer folder"
        )
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    with quiet_transformers():
        if (local / "tokenizer_config.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(str(local), local_files_only=True)
        else:
            tokenizer = DistilBertTokenizerFast.from_pretrained(str(local))
    return tokenizer, h.hexdigest()


def tokenize(
    texts: list[str], tokenizer_name: str, max_length: int, cache_dir: Path
) -> tuple[Tensor, int]:
    """(ids (n, max_length) int64 right-padded, pad id), cached by texts and tokenizer."""
    tokenizer, files_digest = load_tokenizer(tokenizer_name)
    texts_digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    key = digest(["tokens", CODE_VERSION, texts_digest, files_digest, max_length])

    def compute() -> Tensor:
        log.info("tokenising %d texts (cached for later runs)", len(texts))
        enc = tokenizer(
            texts, truncation=True, max_length=max_length, padding="max_length", return_tensors="pt"
        )
        return enc["input_ids"].to(torch.int64)

    return cached(cache_dir / "tokens", key, compute), int(tokenizer.pad_token_id or 0)


def frozen_features(
    ids: Tensor, pad_id: int, spec: Mapping[str, Any], batch_size: int, cache_dir: Path
) -> Tensor:
    """Pooled features (n, dim) float32 of the frozen encoder `spec`.

    `spec` = {pretrained, config, seed, pooling}: pooling ``cls`` (the [CLS] token's final
    state, the reference code's) or ``mean`` (over the real tokens, how sentence encoders
    such as all-MiniLM-L6-v2 were trained).
    """
    from unlearn.models.hf_encoder import build_encoder, encode

    spec = dict(spec)
    key = digest(["features", CODE_VERSION, torch.__version__, tensor_digest(ids), pad_id, spec])

    def compute() -> Tensor:
        encoder = build_encoder(
            "encoder",
            spec.get("pretrained"),
            spec.get("config"),
            "model.frozen_encoder.pretrained",
            seed=int(spec.get("seed", 0)),
        )
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        log.info("encoding %d texts with the frozen encoder on %s (cached)", len(ids), device)
        pooling = str(spec.get("pooling", "cls"))
        return encode(encoder, ids, pad_id, batch_size, device, pooling)

    return cached(cache_dir / "features", key, compute)
