"""Structured configs: the type and the key set of every node, checked when Hydra composes.

`conf/config.yaml` starts its defaults list with ``schema`` (the `Config` dataclass), and
each group option names its own schema first, e.g. ``conf/model/small_cnn.yaml``::

    defaults:
      - /schema/model/small_cnn@_here_

so ``lr=abc``, ``model.width=1.5`` or a misspelt key in a YAML file fails at compose
time, before anything runs. Values are not repeated here: every field is MISSING and the
YAML file gives it (one place for each default). Ranges and choices are checked after
composition by `unlearn.config.validate`, which can name what is allowed.

Registered under the group ``schema/<group>``, out of the way of the real options, by
`register()`, which importing `unlearn` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from unlearn.fields import value

# ---------------------------------------------------------------------------- top level


@dataclass
class SigmaConf:
    engine: str = MISSING
    definition: str = MISSING
    at: str = MISSING
    max_iter: int = MISSING
    tol: float = MISSING
    warm_start: bool = MISSING


@dataclass
class TwinConf:
    partial_batch: str = MISSING


@dataclass
class PrivacyConf:
    """How `prs=true` scores membership risk (unlearn/privacy/)."""

    bins: int = MISSING
    log_bins: bool = MISSING
    shadow_epochs: Optional[float] = MISSING  # noqa: UP045
    cache: bool = MISSING


@dataclass
class PretrainConf:
    """The pretrain checkpoint cache (unlearn/cache.py, unlearn/pretrain.py)."""

    cache: bool = MISSING
    save_every_epochs: Optional[float] = MISSING  # noqa: UP045
    save_at_epochs: list[float] = MISSING


@dataclass
class PathsConf:
    root_dir: str = MISSING
    output_dir: str = MISSING
    cache_dir: str = MISSING


@dataclass
class Config:
    """The top-level knobs (conf/config.yaml); groups are typed by their own schemas."""

    data: Any = MISSING
    model: Any = MISSING
    loss: Any = MISSING
    optimizer: Any = MISSING
    trainer: Any = MISSING
    callbacks: Any = None
    logger: Any = None
    unlearn: Any = MISSING
    forget: Any = MISSING
    paths: PathsConf = field(default_factory=PathsConf)
    seed: int = MISSING
    lr: float = MISSING
    batch_size: int = MISSING
    pretrain_batch_size: int = MISSING
    gamma: float = MISSING
    N: Optional[int] = MISSING  # noqa: UP045 (OmegaConf reads typing.Optional only)
    N_epochs: Optional[float] = MISSING  # noqa: UP045
    t: Optional[int] = MISSING  # noqa: UP045
    t_epochs: Optional[float] = MISSING  # noqa: UP045
    track_every: int = MISSING
    verify_every: int = MISSING
    checkpoint_every: Optional[int] = MISSING  # noqa: UP045
    deterministic: bool = MISSING
    sigma: SigmaConf = field(default_factory=SigmaConf)
    twin: TwinConf = field(default_factory=TwinConf)
    prs: bool = MISSING
    privacy: PrivacyConf = field(default_factory=PrivacyConf)
    pretrain: PretrainConf = field(default_factory=PretrainConf)


# ---------------------------------------------------------------------------- groups


@dataclass
class DigitsConf:
    _target_: str = MISSING
    test_fraction: float = MISSING
    split_seed: int = MISSING
    flatten: bool = MISSING
    test_batch_size: int = 512


@dataclass
class SmallCNNConf:
    _target_: str = MISSING
    num_classes: int = MISSING
    in_channels: int = MISSING
    width: int = MISSING
    batch_norm: bool = MISSING
    dropout: float = MISSING


@dataclass
class MLPConf:
    _target_: str = MISSING
    in_features: int = MISSING
    num_classes: int = MISSING
    hidden: list[int] = MISSING
    batch_norm: bool = MISSING
    dropout: float = MISSING


@dataclass
class CIFARConf:
    """data=cifar10|cifar100 (unlearn/data/cifar.py)."""

    _target_: str = MISSING
    dataset: str = MISSING
    data_dir: str = MISSING
    npz: Optional[str] = MISSING  # noqa: UP045
    download: bool = MISSING
    mean: list[float] = MISSING
    std: list[float] = MISSING
    train_subset: Optional[int] = MISSING  # noqa: UP045
    test_subset: Optional[int] = MISSING  # noqa: UP045
    subset_seed: int = MISSING
    test_batch_size: int = MISSING


@dataclass
class FrozenEncoderConf:
    pretrained: Optional[str] = MISSING  # noqa: UP045
    config: Any = MISSING  # a dict of DistilBertConfig fields, or null
    seed: int = MISSING


@dataclass
class IMDBConf:
    """data=imdb (unlearn/data/imdb.py)."""

    _target_: str = MISSING
    jsonl: Optional[str] = MISSING  # noqa: UP045
    hf_name: str = MISSING
    data_dir: str = MISSING
    tokenizer: str = MISSING
    max_length: int = MISSING
    frozen_encoder: Optional[FrozenEncoderConf] = MISSING  # noqa: UP045
    cache_dir: str = MISSING
    train_subset: Optional[int] = MISSING  # noqa: UP045
    test_subset: Optional[int] = MISSING  # noqa: UP045
    subset_seed: int = MISSING
    feature_batch_size: int = MISSING
    test_batch_size: int = MISSING


@dataclass
class ImageNetConf:
    """model=resnet18|vgg19 (unlearn/models/resnet.py, vgg.py)."""

    _target_: str = MISSING
    num_classes: int = MISSING
    in_channels: int = MISSING
    width: int = value(ge=1)  # channels of the first stage; 64 = the paper's models


@dataclass
class DistilBertConf:
    """model=distilbert (unlearn/models/distilbert.py)."""

    _target_: str = MISSING
    num_classes: int = MISSING
    pretrained: Optional[str] = MISSING  # noqa: UP045
    config: Any = MISSING  # a dict of DistilBertConfig fields, or null
    attn_implementation: str = MISSING


@dataclass
class FeatureHeadConf:
    """model=distilbert_linear_head (unlearn/models/distilbert.py)."""

    _target_: str = MISSING
    in_features: int = MISSING
    num_classes: int = MISSING
    frozen_encoder: FrozenEncoderConf = field(default_factory=FrozenEncoderConf)


@dataclass
class CELossConf:
    _target_: str = MISSING
    gamma: float = MISSING


@dataclass
class SDLossConf(CELossConf):
    sd_normalization: str = MISSING


@dataclass
class L2LossConf(CELossConf):
    l2_lambda: float = MISSING


@dataclass
class SGDConf:
    _target_: str = MISSING
    _partial_: bool = MISSING
    lr: float = MISSING
    momentum: float = MISSING
    weight_decay: float = MISSING


@dataclass
class TrainerConf:
    _target_: str = MISSING
    accelerator: str = MISSING
    devices: Any = MISSING  # an int, "auto" or a list of device ids
    max_epochs: Optional[int] = MISSING  # noqa: UP045
    deterministic: Any = MISSING  # true | false (| "warn", Lightning's third value)
    precision: Any = MISSING  # "32-true", 32, "bf16-mixed", ...
    enable_checkpointing: bool = MISSING
    enable_progress_bar: bool = MISSING
    enable_model_summary: bool = MISSING
    num_sanity_val_steps: int = MISSING
    limit_val_batches: Any = MISSING  # an int (batches) or a float (share)
    default_root_dir: Optional[str] = MISSING  # noqa: UP045
    benchmark: Optional[bool] = None  # noqa: UP045


@dataclass
class EveryConf:
    """A window callback that runs every k steps (weight_drift, unlearning_error)."""

    _target_: str = MISSING
    every_n_steps: int = MISSING


@dataclass
class HessianSpectrumConf(EveryConf):
    engine: str = MISSING
    definition: str = MISSING
    at: str = MISSING
    max_iter: int = MISSING
    tol: float = MISSING
    warm_start: bool = MISSING
    seed: int = MISSING


@dataclass
class UnlearnerConf:
    """callbacks.unlearner (unlearn/callbacks/unlearner.py)."""

    _target_: str = MISSING
    forget: Any = MISSING  # ${forget}
    method: str = MISSING
    verify_every: int = MISSING
    w_ref: str = MISSING
    partial_batch: str = MISSING


@dataclass
class UnlearnConf:
    """unlearn=single_gradient|amnesiac|none|retrain (unlearn/methods/)."""

    method: str = MISSING
    w_ref: str = MISSING


@dataclass
class ForgetConf:
    """forget=first_batch|none (unlearn/forget.py)."""

    _target_: str = MISSING


@dataclass
class ForgetIndicesConf(ForgetConf):
    indices: list[int] = MISSING


@dataclass
class ForgetRandomConf(ForgetConf):
    k: int = MISSING
    seed: int = MISSING


@dataclass
class ForgetClassConf(ForgetConf):
    label: int = MISSING


@dataclass
class WandbLoggerConf:
    _target_: str = MISSING
    project: str = MISSING
    mode: str = MISSING
    save_dir: str = MISSING
    group: Optional[str] = MISSING  # noqa: UP045
    name: Optional[str] = MISSING  # noqa: UP045
    notes: Optional[str] = MISSING  # noqa: UP045
    tags: list[str] = MISSING
    job_type: str = MISSING


@dataclass
class WandbConf:
    """logger=wandb: the W&B mode beside the logger itself (unlearn/wandb_run.py)."""

    mode: str = MISSING
    wandb: WandbLoggerConf = field(default_factory=WandbLoggerConf)


@dataclass
class CSVLoggerConf:
    _target_: str = MISSING
    save_dir: str = MISSING
    name: str = MISSING
    version: Any = MISSING  # "" (no version folder), an int or a string


# group → option → schema; `register` stores each as schema/<group>/<option>
GROUP_SCHEMAS: dict[str, dict[str, type]] = {
    "data": {"digits": DigitsConf, "cifar": CIFARConf, "imdb": IMDBConf},
    "model": {
        "small_cnn": SmallCNNConf,
        "mlp": MLPConf,
        "image_net": ImageNetConf,
        "distilbert": DistilBertConf,
        "feature_head": FeatureHeadConf,
    },
    "loss": {"ce": CELossConf, "sd": SDLossConf, "l2": L2LossConf},
    "optimizer": {"sgd": SGDConf},
    "trainer": {"lightning": TrainerConf},
    "callbacks": {
        "every": EveryConf,
        "hessian_spectrum": HessianSpectrumConf,
        "unlearner": UnlearnerConf,
    },
    "logger": {"csv": CSVLoggerConf, "wandb": WandbConf},
    "unlearn": {"method": UnlearnConf},
    "forget": {
        "plain": ForgetConf,
        "indices": ForgetIndicesConf,
        "random": ForgetRandomConf,
        "class": ForgetClassConf,
    },
}


def register(store: ConfigStore | None = None) -> None:
    """Put `Config` (as ``schema``) and every group schema into Hydra's ConfigStore."""
    store = store or ConfigStore.instance()
    store.store(name="schema", node=Config)
    for group, options in GROUP_SCHEMAS.items():
        for name, node in options.items():
            store.store(group=f"schema/{group}", name=name, node=node)


# ---------------------------------------------------------------------------- after compose


def extra_keys(cfg: DictConfig, prefix: str = "") -> list[tuple[str, list[str]]]:
    """Keys added with ``+key=value`` to a typed node (Hydra lets them through).

    Returns (full key, the node's allowed keys) for each such key, depth first.
    """
    found: list[tuple[str, list[str]]] = []
    schema = OmegaConf.get_type(cfg)
    allowed = [f.name for f in fields(schema)] if is_dataclass(schema) else None
    for key in cfg:
        full = f"{prefix}{key}"
        if allowed is not None and key not in allowed:
            found.append((full, allowed))
            continue
        node = cfg._get_node(key)
        if isinstance(node, DictConfig) and not node._is_none() and not node._is_missing():
            found.extend(extra_keys(node, f"{full}."))
        elif isinstance(node, ListConfig):
            continue
    return found


def field_type(schema: type, name: str) -> Any:
    """The annotation of field `name` of dataclass `schema` (None if there is none)."""
    import typing

    if not is_dataclass(schema):
        return None
    hints = typing.get_type_hints(schema)
    return hints.get(name)
