"""Any Hugging Face encoder (DistilBERT, BERT, MiniLM, ...) from a local folder or a config.

The paper's text model is DistilBERT, but nothing in `unlearn` depends on which encoder it
is: `transformers`' Auto classes read the folder's config.json and build the right
architecture, so `model.pretrained=PATH` works for any standard Hugging Face folder
(config.json, model.safetensors, the tokenizer files). Folders are read with
``local_files_only``: a run never downloads behind the user's back from a path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from unlearn.config.checks import ConfigError
from unlearn.runtime.hub import GET_ENCODER, hf_snapshot
from unlearn.runtime.rng import seeded_scope

POOLINGS = ("cls", "mean")


@contextlib.contextmanager
def quiet_transformers():
    """Hide transformers' advice ("newly initialized weights", ...) and its progress bars."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def random_config(config: Mapping[str, Any], attn_implementation: str, **extra: Any) -> Any:
    """A transformers config from a dict; ``model_type`` picks the family (default distilbert)."""
    from transformers import AutoConfig

    fields = dict(config)
    model_type = fields.pop("model_type", "distilbert")
    return AutoConfig.for_model(
        model_type, **fields, attn_implementation=attn_implementation, **extra
    )


def build_encoder(
    kind: str,
    pretrained: str | None,
    config: Mapping[str, Any] | None,
    key: str,
    num_labels: int = 2,
    attn_implementation: str = "eager",
    seed: int | None = None,
) -> nn.Module:
    """The bare encoder (``kind="encoder"``) or the encoder with its classification head.

    Args:
        kind: ``encoder`` (`AutoModel`) or ``classifier`` (`AutoModelForSequenceClassification`).
        pretrained: a local folder or a Hugging Face repo id; None to build from `config`.
        config: config fields of a randomly initialised model (``model_type`` picks the family).
        key: the config key of `pretrained`, for error messages.
        num_labels: classes of the classifier.
        attn_implementation: ``eager`` (double-backward capable) or ``sdpa``.
        seed: seed of the random initialisation (None: the global RNG, seeded by the run).
    """
    from transformers import AutoModel, AutoModelForSequenceClassification

    cls = AutoModel if kind == "encoder" else AutoModelForSequenceClassification
    extra = {} if kind == "encoder" else {"num_labels": num_labels}
    scope = seeded_scope(seed) if seed is not None else contextlib.nullcontext()
    with quiet_transformers(), scope:
        if pretrained:
            local = hf_snapshot(pretrained, key, f"{key}=PATH: {GET_ENCODER}")
            try:
                return cls.from_pretrained(
                    local,
                    local_files_only=True,
                    attn_implementation=attn_implementation,
                    **extra,
                )
            except (OSError, ValueError, KeyError) as err:
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ConfigError(
                    f"{key}={pretrained!r}: not a usable Hugging Face encoder folder ({reason}); "
                    "allowed a folder with config.json and model.safetensors, or a repo id"
                ) from None
        if not config:
            raise ConfigError(
                f"{key}=None and no config: allowed a repo id, a directory or a config"
            )
        return cls.from_config(random_config(config, attn_implementation, **extra))


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The stack of transformer blocks of a Hugging Face encoder (the longest ModuleList)."""
    stacks = [m for m in model.base_model.modules() if isinstance(m, nn.ModuleList)]
    if not stacks:
        raise ConfigError(f"{type(model).__name__}: no stack of layers found to fine-tune")
    return max(stacks, key=len)


def train_top_layers(model: nn.Module, layers: int | None) -> None:
    """Freeze the embeddings and every block below the top `layers` ones (None: train all).

    What sits above the blocks (BERT's pooler, the classification head) stays trained.
    Frozen weights are not "the weights" of the run: σ, drift, e and v see only the
    trainable ones (`unlearn.math.params.trainable`).
    """
    if layers is None:
        return
    stack = encoder_layers(model)
    if layers > len(stack):
        raise ConfigError(
            f"model.finetune_layers={layers}: the encoder has {len(stack)} layers; "
            f"allowed null or 0 <= integer <= {len(stack)}"
        )
    frozen = list(model.base_model.get_input_embeddings().parameters())
    embeddings = getattr(model.base_model, "embeddings", None)
    if embeddings is not None:
        frozen += list(embeddings.parameters())
    for block in stack[: len(stack) - layers]:
        frozen += list(block.parameters())
    for p in frozen:
        p.requires_grad_(False)


def pool(hidden: Tensor, mask: Tensor, pooling: str) -> Tensor:
    """One vector per row: the first ([CLS]) token's state, or the mean over real tokens."""
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def trim_padding(ids: Tensor, pad_id: int) -> tuple[Tensor, Tensor]:
    """(ids, mask) without the trailing columns that are padding in every row."""
    mask = ids != pad_id
    length = max(int(mask.sum(dim=1).max()), 1)
    return ids[:, :length], mask[:, :length].long()


@torch.inference_mode()
def encode(
    encoder: nn.Module,
    ids: Tensor,
    pad_id: int,
    batch_size: int,
    device: torch.device,
    pooling: str = "cls",
) -> Tensor:
    """The pooled final hidden states of each row, in eval mode, as float32 on CPU."""
    encoder.eval().to(device)
    out = []
    for chunk in ids.split(batch_size):
        chunk, mask = trim_padding(chunk, pad_id)
        mask = mask.to(device)
        hidden = encoder(input_ids=chunk.to(device), attention_mask=mask).last_hidden_state
        out.append(pool(hidden, mask, pooling).float().cpu())
    return torch.cat(out) if out else torch.empty(0)
