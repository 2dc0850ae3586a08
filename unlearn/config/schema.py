"""Structured configs: the type and the key set of every node, checked when Hydra composes.

`conf/config.yaml` starts its defaults list with ``schema`` (the `Config` dataclass), and
each group option names its own schema first, e.g. ``conf/model/small_cnn.yaml``::

    defaults:
      - /schema/model/small_cnn@_here_

so ``lr=abc``, ``model.width=1.5`` or a misspelt key in a YAML file fails at compose
time, before anything runs. Values are not repeated here: every field is MISSING and the
YAML file gives it (one place for each default). Ranges and choices are checked after
composition by `unlearn.config.checks.validate`, which can name what is allowed.

Registered under the group ``schema/<group>``, out of the way of the real options, by
`register()`, which importing `unlearn` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, ClassVar, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from unlearn.config.errors import show
from unlearn.config.fields import (
    MAX_EPOCHS,
    MAX_LR,
    Range,
    Rule,
    flag,
    one_of,
    probability,
    seed_value,
    step_count,
    value,
)

# the choices of a few fields that appear in more than one node
ENGINES = ("power", "lanczos", "pyhessian")
DEFINITIONS = ("spectral_norm", "sqrt_top_eig")
SIGMA_AT = ("current", "initial")
W_REF = ("initial", "first", "final")
PARTIAL_BATCH = ("nominal", "mean")
WANDB_MODES = ("offline", "online", "disabled")
# Lightning's precision values (lightning.fabric.connector._PRECISION_INPUT)
PRECISIONS = (
    "64-true", "32-true", "16-true", "bf16-true", "16-mixed", "bf16-mixed",
    "transformer-engine", "transformer-engine-float16", "64", "32", "16", "bf16", 64, 32, 16,
)  # fmt: skip
SIZE = 10**9  # a ceiling for sizes and counts (a typo beyond it would exhaust memory)
BATCH = 10**7

# ---------------------------------------------------------------------------- top level

# results.json keys a search may optimise (`objective.metric`)
OBJECTIVE_METRICS = (
    "unlearning_error",
    "verification_error",
    "weight_drift",
    "sigma_avg",
    "test_acc",
)


SIGMA_MODES = ("train", "eval")
SIGMA_BATCHES = ("current", "fixed")


@dataclass
class SigmaConf:
    """sigma=default|reference (conf/sigma/): how σ is estimated (callbacks/hessian_spectrum.py)."""

    protocol: str = MISSING
    engine: str = value(choices=ENGINES)
    definition: str = value(choices=DEFINITIONS)
    at: str = value(choices=SIGMA_AT)
    mode: str = value(choices=SIGMA_MODES)
    batch: str = value(choices=SIGMA_BATCHES)
    batch_size: int = value(ge=1, le=SIZE)
    max_iter: int = value(ge=1, le=10**6)
    tol: float = value(gt=0, lt=1)  # relative residual ‖Hq − θq‖/|θ| (pyhessian: its own)
    warm_start: Any = flag()

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            test=lambda n: not (n.get("engine") == "pyhessian" and n.get("at") == "initial"),
            message=lambda n, p: f"{p}at={n.get('at')!r} (with {p}engine='pyhessian')",
            allowed="current with sigma.engine=pyhessian",
        ),
    )


@dataclass
class TwinConf:
    partial_batch: str = value(choices=PARTIAL_BATCH)
    # a second exact twin over another batch order: v_order (unlearn/callbacks/order_twin.py)
    order_noise: bool = MISSING
    order_seed: Optional[int] = seed_value(nullable=True, note="(null: the run seed + 1)")  # noqa: UP045


@dataclass
class SpectrumConf:
    """The Hessian spectrum beyond σ, at σ's events (unlearn/callbacks/hessian_curvature.py)."""

    top_k: int = value(ge=1, le=10**4)  # eigenpairs of largest |λ| (damped_gradient's)
    trace_probes: int = value(ge=0, le=10**6)  # Hutchinson probes (0: no trace)
    density_steps: int = value(ge=0, le=10**4)  # Lanczos steps per SLQ probe (0: no density)
    density_probes: int = value(ge=1, le=10**6)


@dataclass
class PrivacyConf:
    """How `prs=true` scores membership risk (unlearn/privacy/)."""

    bins: int = value(ge=1, le=10**4)
    log_bins: Any = flag()
    shadow_epochs: Optional[float] = value(gt=0, le=MAX_EPOCHS, nullable=True)  # noqa: UP045
    cache: Any = flag()


@dataclass
class MetricsConf:
    """The field's metrics of M'' and the twin M' (unlearn/metrics/)."""

    retain_sample: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    test_sample: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    mia_feature: str = value(choices=("entropy", "loss"))


@dataclass
class PretrainConf:
    """The pretrain checkpoint cache (unlearn/experiment/cache.py, pretrain.py)."""

    cache: Any = flag()
    save_every_epochs: Optional[float] = value(gt=0, le=MAX_EPOCHS, nullable=True)  # noqa: UP045
    save_at_epochs: list[float] = value(ge=0, le=MAX_EPOCHS)
    # a resumable entry after every this many minutes of pretraining (null: only the above)
    save_every_minutes: Optional[float] = value(5.0, gt=0, le=10**6, nullable=True)  # noqa: UP045


@dataclass
class ProgressConf:
    """What a person watching a run sees (unlearn/callbacks/progress.py)."""

    bar: Any = value(choices=("auto", True, False))  # auto: a bar when stderr is a terminal
    log_every_s: Optional[float] = value(gt=0, nullable=True, note="(null: no lines)")  # noqa: UP045


@dataclass
class CurvesConf:
    """Training curves in every logger (unlearn/callbacks/training_curve.py)."""

    every: Optional[int] = step_count(nullable=True, note="(null: no curves)")  # noqa: UP045
    test_every: Optional[int] = step_count(nullable=True)  # noqa: UP045


@dataclass
class ObjectiveConf:
    """What `python -m unlearn` returns to a searching sweeper (unlearn/experiment/objective.py)."""

    metric: Optional[str] = value(  # noqa: UP045
        choices=OBJECTIVE_METRICS, nullable=True, note="(null: return nothing)"
    )
    max_acc_drop: Optional[float] = value(ge=0, nullable=True)  # noqa: UP045


@dataclass
class DebugConf:
    """debug=fast: any preset for a few steps on a tiny subset (unlearn/config/debug.py)."""

    steps: int = step_count(ge=2)
    batch_size: int = value(ge=1, le=BATCH)
    train_subset: int = value(ge=1, le=SIZE)
    test_subset: int = value(ge=1, le=SIZE)
    sigma_max_iter: int = value(ge=1, le=10**6)


@dataclass
class PathsConf:
    root_dir: str = value(nonempty=True)
    output_dir: str = value(nonempty=True)
    cache_dir: str = value(nonempty=True)


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
    seed: int = seed_value()
    lr: float = value(gt=0, le=MAX_LR, note="(float32's largest: a larger step overflows)")
    batch_size: int = value(ge=1, le=BATCH)
    pretrain_batch_size: int = value(ge=1, le=BATCH)
    gamma: float = value(ge=0)
    N: Optional[int] = step_count(ge=0, nullable=True)  # noqa: UP045 (OmegaConf reads typing.Optional only)
    N_epochs: Optional[float] = value(ge=0, le=MAX_EPOCHS, nullable=True)  # noqa: UP045
    t: Optional[int] = step_count(ge=2, nullable=True, note="(e(t) has a factor t - 1)")  # noqa: UP045
    t_epochs: Optional[float] = value(ge=0, le=MAX_EPOCHS, nullable=True)  # noqa: UP045
    track_every: int = step_count()
    verify_every: int = step_count()
    checkpoint_every: Optional[int] = step_count(  # noqa: UP045
        nullable=True, note="(null: no window checkpoints)"
    )
    deterministic: Any = flag()
    window_optimizer: str = value(choices=("continue", "fresh"))
    sigma: SigmaConf = field(default_factory=SigmaConf)
    twin: TwinConf = field(default_factory=TwinConf)
    prs: Any = flag()
    privacy: PrivacyConf = field(default_factory=PrivacyConf)
    metrics: MetricsConf = field(default_factory=MetricsConf)
    pretrain: PretrainConf = field(default_factory=PretrainConf)
    spectrum: SpectrumConf = field(default_factory=SpectrumConf)
    progress: ProgressConf = field(default_factory=ProgressConf)
    curves: CurvesConf = field(default_factory=CurvesConf)
    objective: ObjectiveConf = field(default_factory=ObjectiveConf)
    debug: Optional[DebugConf] = None  # noqa: UP045

    RULES: ClassVar[tuple[Rule, ...]] = (
        one_of("N", "N_epochs", "steps or epochs"),
        one_of("t", "t_epochs", "steps or epochs"),
        # One η: results.json, the summary, the cache key and e(t) read `lr`; an optimizer
        # that trained at another η would be filed under the wrong one.
        Rule(
            test=lambda n: OmegaConf.select(n, "optimizer.lr") in (None, n.get("lr")),
            message=lambda n, p: (
                f"{p}optimizer.lr={show(OmegaConf.select(n, 'optimizer.lr'))} "
                f"(with {p}lr={show(n.get('lr'))})"
            ),
            allowed="optimizer.lr equal to lr (set lr: the η every record and e(t) use)",
        ),
    )


# ---------------------------------------------------------------------------- groups


@dataclass
class DigitsConf:
    _target_: str = MISSING
    test_fraction: float = value(gt=0, lt=1)
    split_seed: int = seed_value()
    flatten: Any = flag()
    reshuffle: Any = flag()
    test_batch_size: int = value(512, ge=1, le=BATCH)


@dataclass
class SmallCNNConf:
    _target_: str = MISSING
    num_classes: int = value(ge=2, le=10**6)
    in_channels: int = value(ge=1, le=10**4)
    width: int = value(ge=1, le=4096)  # channels of the first conv
    batch_norm: Any = flag()
    dropout: float = probability()


@dataclass
class MLPConf:
    _target_: str = MISSING
    in_features: int = value(ge=1, le=10**8)
    num_classes: int = value(ge=2, le=10**6)
    hidden: list[int] = value(ge=1, le=10**5)
    batch_norm: Any = flag()
    dropout: float = probability()


@dataclass
class CIFARConf:
    """data=cifar10|cifar100 (unlearn/data/cifar.py)."""

    _target_: str = MISSING
    dataset: str = value(choices=("cifar10", "cifar100"))
    data_dir: str = value(nonempty=True)
    npz: Optional[str] = value(nonempty=True, nullable=True)  # noqa: UP045
    download: Any = flag()
    mean: list[float] = value()
    std: list[float] = value(gt=0)
    train_subset: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    test_subset: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    subset_seed: int = seed_value()
    test_batch_size: int = value(ge=1, le=BATCH)
    reshuffle: Any = flag()


@dataclass
class FrozenEncoderConf:
    pretrained: Optional[str] = MISSING  # noqa: UP045
    config: Any = MISSING  # a dict of config fields (model_type: the family), or null
    seed: int = seed_value()
    pooling: str = value("cls", choices=("cls", "mean"))  # [CLS] state, or mean over tokens


@dataclass
class IMDBConf:
    """data=imdb (unlearn/data/imdb.py)."""

    _target_: str = MISSING
    jsonl: Optional[str] = value(nonempty=True, nullable=True)  # noqa: UP045
    hf_name: str = value(nonempty=True)
    data_dir: str = value(nonempty=True)
    tokenizer: str = value(nonempty=True)
    max_length: int = value(ge=2, le=512)  # [CLS] + [SEP] at least; DistilBERT's 512 at most
    frozen_encoder: Optional[FrozenEncoderConf] = MISSING  # noqa: UP045
    cache_dir: str = value(nonempty=True)
    train_subset: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    test_subset: Optional[int] = value(ge=1, le=SIZE, nullable=True)  # noqa: UP045
    subset_seed: int = seed_value()
    feature_batch_size: int = value(ge=1, le=BATCH)
    test_batch_size: int = value(ge=1, le=BATCH)
    reshuffle: Any = flag()


@dataclass
class ImageNetConf:
    """model=resnet18|vgg19 (unlearn/models/resnet.py, vgg.py)."""

    _target_: str = MISSING
    num_classes: int = value(ge=2, le=10**6)
    in_channels: int = value(ge=1, le=10**4)
    width: int = value(ge=1, le=4096)  # channels of the first stage; 64 = the paper's models


@dataclass
class DistilBertConf:
    """model=distilbert (unlearn/models/distilbert.py)."""

    _target_: str = MISSING
    num_classes: int = value(ge=2, le=10**6)
    pretrained: Optional[str] = MISSING  # noqa: UP045
    config: Any = MISSING  # a dict of config fields (model_type: the family), or null
    attn_implementation: str = value(choices=("eager", "sdpa"))  # σ needs eager's double backward
    # train only the top k transformer blocks (and the head); null: every weight (the paper)
    finetune_layers: Optional[int] = value(None, ge=0, le=1000, nullable=True)  # noqa: UP045


@dataclass
class FeatureHeadConf:
    """model=distilbert_linear_head (unlearn/models/distilbert.py)."""

    _target_: str = MISSING
    in_features: int = value(ge=1, le=10**8)
    num_classes: int = value(ge=2, le=10**6)
    pretrained: Optional[str] = MISSING  # noqa: UP045  (passed on to frozen_encoder, tokenizer)
    frozen_encoder: FrozenEncoderConf = field(default_factory=FrozenEncoderConf)


@dataclass
class CELossConf:
    _target_: str = MISSING
    gamma: float = value(ge=0)


@dataclass
class SDLossConf(CELossConf):
    sd_normalization: str = value(choices=("reference", "paper"))


@dataclass
class L2LossConf(CELossConf):
    l2_lambda: float = value(ge=0)


@dataclass
class SGDConf:
    _target_: str = MISSING
    _partial_: bool = MISSING
    lr: float = value(gt=0, le=MAX_LR, note="(float32's largest: a larger step overflows)")
    momentum: float = probability()
    weight_decay: float = value(ge=0)


@dataclass
class TrainerConf:
    _target_: str = MISSING
    accelerator: str = value(choices=("cpu", "gpu", "cuda", "mps", "auto"))
    # One device per job: the twin and the methods assume it, and sweeps spread their jobs
    # over the GPUs instead (several devices would start DDP, whose ranks race on one folder).
    devices: Any = value(
        choices=(1,),
        items=Range(ge=0, lt=1024, integer=True),
        list_length=1,
        note="(a GPU id, with trainer.accelerator=gpu); a job is one device: for several "
        "GPUs run one job per GPU (-m ... hydra/launcher=local_gpus, or hydra/launcher=slurm)",
    )
    max_epochs: Optional[int] = value(ge=1, le=MAX_EPOCHS, nullable=True)  # noqa: UP045
    deterministic: Any = value(choices=(True, False, "warn"))  # Lightning's third value: warn
    precision: Any = value(choices=PRECISIONS)
    enable_checkpointing: Any = flag()
    enable_progress_bar: Any = flag()
    enable_model_summary: Any = flag()
    num_sanity_val_steps: int = value(ge=0, le=10**6)
    limit_val_batches: Any = value(ge=0, le=SIZE)  # an int (batches) or a float (share)
    default_root_dir: Optional[str] = MISSING  # noqa: UP045
    benchmark: Any = flag(None, nullable=True)

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(  # Lightning's CPU accelerator counts processes; a list names GPUs
            test=lambda n: (
                not (isinstance(n.get("devices"), ListConfig) and n.get("accelerator") == "cpu")
            ),
            message=lambda n, p: f"{p}devices={list(n.get('devices'))} (with {p}accelerator=cpu)",
            allowed="1 with the CPU (a list names GPUs: trainer=gpu)",
        ),
    )


@dataclass
class EveryConf:
    """A window callback that runs every k steps (weight_drift, unlearning_error)."""

    _target_: str = MISSING
    every_n_steps: int = step_count()


@dataclass
class HessianSpectrumConf(EveryConf):
    engine: str = value(choices=ENGINES)
    definition: str = value(choices=DEFINITIONS)
    at: str = value(choices=SIGMA_AT)
    mode: str = MISSING  # ${sigma.mode}: its range is checked there, under the user's key
    batch: str = MISSING
    batch_size: int = value(ge=1, le=SIZE)
    max_iter: int = value(ge=1, le=10**6)
    tol: float = value(gt=0, lt=1)
    warm_start: Any = flag()
    seed: int = seed_value()


@dataclass
class HessianCurvatureConf(HessianSpectrumConf):
    top_k: int = value(ge=1, le=10**4)  # ${spectrum.*}: the same ranges as there
    trace_probes: int = value(ge=0, le=10**6)
    density_steps: int = value(ge=0, le=10**4)
    density_probes: int = value(ge=1, le=10**6)


@dataclass
class UnlearnerConf:
    """callbacks.unlearner (unlearn/callbacks/unlearner.py)."""

    _target_: str = MISSING
    forget: Any = MISSING  # ${forget}
    method: str = MISSING  # checked against the registry (unlearn.methods.check_method)
    verify_every: int = step_count()
    w_ref: str = value(choices=W_REF)
    partial_batch: str = value(choices=PARTIAL_BATCH)
    options: Any = None  # ${unlearn}: a method's budget and hyperparameters


# every registered method (unlearn.methods.METHODS; a test keeps the two equal): what
# `unlearn.compare` may name, each optionally with one setting, `rewind@k:5`
METHOD_NAMES = (
    "single_gradient", "amnesiac", "none", "retrain", "unrolled", "influence",
    "damped_gradient", "rewind", "fine_tune", "random_label", "gradient_ascent",
    "neggrad_plus", "scrub", "l1_sparse", "salun", "ssd",
)  # fmt: skip
COMPARE_ALLOWED = (
    "null, all, or a list of distinct methods among " + ", ".join(METHOD_NAMES)
    + " (each with its own settings, as rewind@k:5@rewind_every:1)"
)  # fmt: skip


def compare_entries(value: Any) -> list[str]:
    """`unlearn.compare` as a list of entries ([] for null; 'all' stays 'all')."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def split_entry(entry: str) -> tuple[str, list[tuple[str, str]] | None]:
    """'rewind@k:5@rewind_every:1' → ('rewind', [('k', '5'), ('rewind_every', '1')]);
    'salun' → ('salun', []); None for the settings when one is not key:value."""
    name, *parts = entry.split("@")
    settings = [tuple(p.split(":", 1)) for p in parts]
    if any(len(kv) != 2 or not kv[0] or not kv[1] for kv in settings):
        return name, None
    return name, settings  # type: ignore[return-value]


def _compare_ok(node: DictConfig) -> bool:
    entries = compare_entries(OmegaConf.to_container(node, resolve=True).get("compare"))
    if entries == ["all"]:
        return True
    ok = all((parts := split_entry(e))[0] in METHOD_NAMES and parts[1] is not None for e in entries)
    return ok and len(set(entries)) == len(entries)


@dataclass
class UnlearnConf:
    """unlearn=single_gradient|amnesiac|none|retrain (unlearn/methods/)."""

    method: str = MISSING  # checked against the registry (unlearn.methods.check_method)
    w_ref: str = value(choices=W_REF)
    # several methods on one window against one twin (unlearn/experiment/compare.py)
    compare: Any = MISSING

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            test=_compare_ok,
            message=lambda n, p: f"{p}compare={show(n.get('compare'))}",
            allowed=COMPARE_ALLOWED,
        ),
    )


@dataclass
class PostHocConf(UnlearnConf):
    """unlearn=fine_tune and every method that inherits its budget (unlearn/methods/base.py)."""

    steps: int = step_count()
    batch_size: int = value(ge=1, le=BATCH)
    forget_batch_size: int = value(ge=1, le=BATCH)
    lr: float = value(gt=0, le=MAX_LR, note="(float32's largest: a larger step overflows)")
    seed: int = seed_value()


@dataclass
class NegGradPlusConf(PostHocConf):
    alpha: float = value(ge=0, le=1)


@dataclass
class ScrubConf(PostHocConf):
    max_steps: int = step_count(ge=0)
    temperature: float = value(gt=0)
    ce_weight: float = value(ge=0)
    kl_weight: float = value(ge=0)

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(  # max-steps are among the method's `steps`: more cannot be taken
            test=lambda n: not (n.get("max_steps", 0) > n.get("steps", 0)),
            message=lambda n, p: (
                f"{p}max_steps={n.get('max_steps')} (with {p}steps={n.get('steps')})"
            ),
            allowed="max_steps <= steps (the max-steps are taken among the steps)",
        ),
    )


@dataclass
class L1SparseConf(PostHocConf):
    l1: float = value(ge=0)


@dataclass
class SalUnConf(PostHocConf):
    mask_fraction: float = value(gt=0, le=1)


@dataclass
class InfluenceConf(UnlearnConf):
    """unlearn=influence (unlearn/methods/influence.py)."""

    damping: float = value(ge=0)  # λ of (H_R + λI)
    iterations: int = step_count()  # CG iterations at most
    retain_batches: int = step_count()  # the latest kept window batches that estimate H_R
    tol: float = value(gt=0)  # CG stops at ‖r‖ ≤ tol·‖b‖


@dataclass
class DampedGradientConf(UnlearnConf):
    """unlearn=damped_gradient (unlearn/methods/damped_gradient.py)."""

    top_k: int = value(ge=1, le=10**4)  # eigenvectors damped along (spectrum.top_k follows it)


@dataclass
class RewindConf(UnlearnConf):
    """unlearn=rewind (unlearn/methods/rewind.py); k <= t is checked once t is known."""

    k: int = step_count()  # window steps replayed (at least; from the last kept state)
    rewind_every: int = step_count()  # keep the weights every this many window steps


@dataclass
class SSDConf(UnlearnConf):
    """unlearn=ssd (unlearn/methods/ssd.py)."""

    alpha: float = value(gt=0)  # selection: dampen where I_F > alpha * I_D
    lam: float = value(gt=0)  # dampening: multiply by min(lam * I_D / I_F, 1)
    batch_size: int = value(ge=1, le=BATCH)
    samples: Optional[int] = value(ge=1, le=SIZE, nullable=True, note="(null: all of D)")  # noqa: UP045
    seed: int = seed_value()


@dataclass
class ForgetConf:
    """forget=first_batch|none (unlearn/forget.py)."""

    _target_: str = MISSING


@dataclass
class ForgetIndicesConf(ForgetConf):
    indices: list[int] = value(ge=0, le=SIZE)  # the upper bound is the data's (preflight)


@dataclass
class ForgetRandomConf(ForgetConf):
    k: int = value(ge=1, le=SIZE)
    seed: int = seed_value()


@dataclass
class ForgetClassConf(ForgetConf):
    label: int = value(ge=0, le=10**6)


@dataclass
class WandbLoggerConf:
    _target_: str = MISSING
    project: str = value(nonempty=True)
    mode: str = value(choices=WANDB_MODES)
    save_dir: str = value(nonempty=True)
    entity: Optional[str] = value(nonempty=True, nullable=True)  # noqa: UP045 (null: your default)
    group: Optional[str] = MISSING  # noqa: UP045
    name: Optional[str] = MISSING  # noqa: UP045
    notes: Optional[str] = MISSING  # noqa: UP045
    tags: list[str] = MISSING
    job_type: str = MISSING
    id: Optional[str] = None  # noqa: UP045 (null: derived from the job, so a rerun resumes it)
    resume: Optional[str] = value(  # noqa: UP045
        default="allow", choices=("allow", "must", "never", "auto"), nullable=True
    )


@dataclass
class WandbConf:
    """logger=wandb: the W&B mode beside the logger itself (unlearn/loggers/wandb_run.py)."""

    mode: str = value(choices=WANDB_MODES)
    # true: the sweep's analysis saves its W&B workspace and report (unlearn/loggers/dashboard.py)
    dashboard: bool = False
    wandb: WandbLoggerConf = field(default_factory=WandbLoggerConf)


@dataclass
class CSVLoggerConf:
    _target_: str = MISSING
    save_dir: str = value(nonempty=True)
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
        "hessian_curvature": HessianCurvatureConf,
        "unlearner": UnlearnerConf,
    },
    "logger": {"csv": CSVLoggerConf, "wandb": WandbConf},
    "unlearn": {
        "method": UnlearnConf,
        "post_hoc": PostHocConf,
        "neggrad_plus": NegGradPlusConf,
        "scrub": ScrubConf,
        "l1_sparse": L1SparseConf,
        "salun": SalUnConf,
        "influence": InfluenceConf,
        "damped_gradient": DampedGradientConf,
        "rewind": RewindConf,
        "ssd": SSDConf,
    },
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
