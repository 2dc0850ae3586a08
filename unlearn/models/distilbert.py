"""The paper's IMDB model, DistilBERT for sequence classification (or any Hugging Face
encoder with its classification head), and the linear head on frozen-encoder features
that the reference code actually trained.

Inputs are token ids (batch, length) right-padded with the tokenizer's pad id; the
attention mask is read off the padding, so a batch is one tensor like an image batch,
and the columns that are padding in every row are dropped before the forward (the same
logits up to float rounding; less work when a whole batch is short). Attention is the "eager"
implementation: σ needs Hessian-vector products, i.e. a double backward, which the fused
attention kernels do not provide. Dropout is on in training, as in the paper; the step's
dropout masks are seeded by `UnlearnModule.loss_on`, so the twin replays them exactly.
The encoder itself is built by `unlearn.models.hf_encoder` (a local folder or a config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from unlearn.config.checks import ConfigError
from unlearn.models.hf_encoder import build_encoder, encode, train_top_layers, trim_padding

__all__ = ["DistilBertClassifier", "FeatureHead", "build_distilbert", "encode", "trim_padding"]

build_distilbert = build_encoder  # the paper's name for it; any encoder family works


class DistilBertClassifier(nn.Module):
    """An encoder with its sequence-classification head (DistilBERT by default).

    Args:
        num_classes: outputs (2 for IMDB).
        pretrained: a local Hugging Face folder or a repo id (default
            ``distilbert-base-uncased``); None builds a randomly initialised model from `config`.
        config: config fields when `pretrained` is None (``model_type`` picks the family,
            DistilBERT by default).
        attn_implementation: ``eager`` (default; σ needs a double backward) or ``sdpa``.
        finetune_layers: train only the top this-many transformer blocks and the head
            (embeddings and lower blocks frozen); None trains every weight (the paper).
    """

    def __init__(
        self,
        num_classes: int = 2,
        pretrained: str | None = "distilbert-base-uncased",
        config: Mapping[str, Any] | None = None,
        attn_implementation: str = "eager",
        finetune_layers: int | None = None,
    ) -> None:
        super().__init__()
        self.model = build_encoder(
            "classifier", pretrained, config, "model.pretrained", num_classes, attn_implementation
        )
        self.model.train()  # from_pretrained returns eval mode; the paper trains with dropout
        train_top_layers(self.model, finetune_layers)
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
        in_features: feature size (the encoder's hidden size: 768 for distilbert-base).
        num_classes: outputs.
        pretrained: the encoder's folder or repo id; the config passes it on to
            ``frozen_encoder.pretrained`` (and the tokenizer), the head itself never reads it.
        frozen_encoder: ``{pretrained, config, seed, pooling}`` of the encoder (for the data).
    """

    def __init__(
        self,
        in_features: int = 768,
        num_classes: int = 2,
        pretrained: str | None = None,
        frozen_encoder: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.frozen_encoder = dict(frozen_encoder or {})
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.linear.in_features:  # another encoder than in_features says
            raise ConfigError(
                f"model.in_features={self.linear.in_features}: the frozen encoder gives "
                f"{x.shape[-1]}-dim features; allowed {x.shape[-1]} (its hidden size)"
            )
        return self.linear(x)
