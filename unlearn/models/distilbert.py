"""DistilBERT for sequence classification (the paper's IMDB model), and the linear head on
frozen-encoder features that the reference code actually trained.

Inputs are token ids (batch, length) right-padded with the tokenizer's pad id; the
attention mask is read off the padding, so a batch is one tensor like an image batch,
and the columns that are padding in every row are dropped before the forward (the same
logits up to float rounding; less work when a whole batch is short). Attention is the "eager"
implementation: σ needs Hessian-vector products, i.e. a double backward, which the fused
attention kernels do not provide. Dropout is on in training, as in the paper; the step's
dropout masks are seeded by `UnlearnModule.loss_on`, so the twin replays them exactly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.config.checks import ConfigError
from unlearn.runtime.hub import hf_snapshot
from unlearn.runtime.rng import seeded_scope


@contextlib.contextmanager
def _quiet_transformers():
    """Hide transformers' advice ("newly initialized weights", "you should train ...")."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def build_distilbert(
    kind: str,
    pretrained: str | None,
    config: Mapping[str, Any] | None,
    key: str,
    num_labels: int = 2,
    attn_implementation: str = "eager",
    seed: int | None = None,
) -> nn.Module:
    """A `DistilBertModel` (``kind="encoder"``) or `DistilBertForSequenceClassification`.

    Args:
        kind: ``encoder`` or ``classifier``.
        pretrained: a Hugging Face repo id or a local directory; None to build from `config`.
        config: `DistilBertConfig` fields for a randomly initialised model (tests, ablations).
        key: the config key of `pretrained`, for error messages.
        num_labels: classes of the classifier.
        attn_implementation: ``eager`` (double-backward capable) or ``sdpa``.
        seed: seed of the random initialisation (None: the global RNG, seeded by the run).
    """
    from transformers import (
        DistilBertConfig,
        DistilBertForSequenceClassification,
        DistilBertModel,
    )

    cls = DistilBertModel if kind == "encoder" else DistilBertForSequenceClassification
    extra = {} if kind == "encoder" else {"num_labels": num_labels}
    scope = seeded_scope(seed) if seed is not None else contextlib.nullcontext()
    with _quiet_transformers(), scope:
        if pretrained:
            local = hf_snapshot(pretrained, key, f"{key}=PATH to a saved DistilBERT directory")
            try:
                return cls.from_pretrained(local, attn_implementation=attn_implementation, **extra)
            except (OSError, ValueError) as err:
                raise ConfigError(
                    f"{key}={pretrained!r}: not a usable DistilBERT checkpoint "
                    f"({str(err).splitlines()[0]}); allowed a repo id or a saved model directory"
                ) from None
        if not config:
            raise ConfigError(
                f"{key}=None and no config: allowed a repo id, a directory or a config"
            )
        cfg = DistilBertConfig(**dict(config), attn_implementation=attn_implementation, **extra)
        return cls(cfg)


def trim_padding(ids: Tensor, pad_id: int) -> tuple[Tensor, Tensor]:
    """(ids, mask) without the trailing columns that are padding in every row."""
    mask = ids != pad_id
    length = max(int(mask.sum(dim=1).max()), 1)
    return ids[:, :length], mask[:, :length].long()


class DistilBertClassifier(nn.Module):
    """DistilBERT with its sequence-classification head, all weights trained.

    Args:
        num_classes: outputs (2 for IMDB).
        pretrained: repo id or local directory (default ``distilbert-base-uncased``);
            None builds a randomly initialised model from `config`.
        config: `DistilBertConfig` fields when `pretrained` is None.
        attn_implementation: ``eager`` (default; σ needs a double backward) or ``sdpa``.
    """

    def __init__(
        self,
        num_classes: int = 2,
        pretrained: str | None = "distilbert-base-uncased",
        config: Mapping[str, Any] | None = None,
        attn_implementation: str = "eager",
    ) -> None:
        super().__init__()
        self.model = build_distilbert(
            "classifier", pretrained, config, "model.pretrained", num_classes, attn_implementation
        )
        self.pad_id = int(self.model.config.pad_token_id or 0)

    def forward(self, ids: Tensor) -> Tensor:
        ids, mask = trim_padding(ids, self.pad_id)
        return self.model(input_ids=ids, attention_mask=mask).logits


class FeatureHead(nn.Module):
    """A linear classifier on features the data module computed once with a frozen encoder.

    The cheap variant of the reference code: the encoder never trains, so its pooled
    features are computed a single time (in eval mode, no dropout) and cached, and SGD,
    σ and the twin see only this layer. The data module reads `frozen_encoder` from here
    (``data.frozen_encoder: ${oc.select:model.frozen_encoder,null}``).

    Args:
        in_features: feature size (768 for distilbert-base).
        num_classes: outputs.
        frozen_encoder: ``{pretrained, config, seed}`` of the encoder (used by the data).
    """

    def __init__(
        self,
        in_features: int = 768,
        num_classes: int = 2,
        frozen_encoder: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.frozen_encoder = dict(frozen_encoder or {})
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)


@torch.inference_mode()
def encode_cls(
    encoder: nn.Module, ids: Tensor, pad_id: int, batch_size: int, device: torch.device
) -> Tensor:
    """The final hidden state of the [CLS] token of each row, in eval mode, as float32 on CPU."""
    encoder.eval().to(device)
    out = []
    for chunk in ids.split(batch_size):
        chunk, mask = trim_padding(chunk, pad_id)
        hidden = encoder(input_ids=chunk.to(device), attention_mask=mask.to(device))
        out.append(hidden.last_hidden_state[:, 0].float().cpu())
    return torch.cat(out) if out else torch.empty(0)
