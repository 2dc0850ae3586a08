"""Unlearning methods, one per file, behind one small interface (`base.UnlearningMethod`).

`unlearn.method=` picks one by name; `build` makes it and `check_method` rejects an
unknown name before training. The methods that start from the final model
(`base.PostHocMethod`: fine_tune, random_label, gradient_ascent, neggrad_plus, scrub,
l1_sparse, salun) take their budget and hyperparameters from the ``unlearn`` config node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig
from torch import Tensor

from unlearn.config.checks import ConfigError
from unlearn.methods.amnesiac import Amnesiac
from unlearn.methods.base import Cost, PostHocMethod, UnlearningMethod
from unlearn.methods.damped_gradient import DampedGradient
from unlearn.methods.fine_tune import FineTune
from unlearn.methods.gradient_ascent import GradientAscent
from unlearn.methods.influence import Influence
from unlearn.methods.l1_sparse import L1Sparse
from unlearn.methods.neggrad_plus import NegGradPlus
from unlearn.methods.none import NoUnlearning
from unlearn.methods.random_label import RandomLabel
from unlearn.methods.retrain import Retrain
from unlearn.methods.rewind import Rewind
from unlearn.methods.salun import SalUn
from unlearn.methods.scrub import Scrub
from unlearn.methods.single_gradient import SingleGradient
from unlearn.methods.ssd import SSD
from unlearn.methods.unrolled import Unrolled

METHODS: dict[str, type[UnlearningMethod]] = {
    cls.name: cls
    for cls in (
        SingleGradient,
        Amnesiac,
        NoUnlearning,
        Retrain,
        Unrolled,
        Influence,
        DampedGradient,
        Rewind,
    )
}
# the constructor arguments a method takes from the `unlearn` config node
OPTIONS: dict[str, tuple[str, ...]] = {
    "influence": ("damping", "iterations", "retain_batches", "tol"),
    "damped_gradient": ("top_k",),
    "rewind": ("k", "rewind_every"),
}
METHODS |= {
    cls.name: cls
    for cls in (FineTune, RandomLabel, GradientAscent, NegGradPlus, Scrub, L1Sparse, SalUn, SSD)
}


def build(
    method: str, w_ref: str = "initial", options: Mapping[str, Any] | None = None
) -> UnlearningMethod:
    """The method called `method`; `w_ref` matters to single_gradient only, `options` (the
    ``unlearn`` config node) to the post-hoc methods and to the methods in `OPTIONS`."""
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")
    cls = METHODS[method]
    if issubclass(cls, PostHocMethod):
        return cls.from_options(options or {})
    if method == "single_gradient":
        return SingleGradient(w_ref)  # type: ignore[arg-type]
    given = options or {}
    kwargs = {k: given[k] for k in OPTIONS.get(method, ()) if k in given}
    return cls(**kwargs)


def check_method(cfg: DictConfig) -> None:
    """Raise a one-line `ConfigError` for an unknown `unlearn.method`, or a top-k that the
    spectrum callback cannot give (damped_gradient reads its eigenvectors)."""
    method = cfg.get("unlearn", {}).get("method", "single_gradient")
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")
    opt = cfg.get("optimizer") or {}
    plain = not opt.get("momentum", 0.0) and not opt.get("weight_decay", 0.0)
    if method in ("unrolled", "damped_gradient") and not plain:
        raise ConfigError(
            f"unlearn.method={method}: allowed with plain SGD only "
            "(optimizer.momentum=0, optimizer.weight_decay=0)"
        )
    spectrum = cfg.get("spectrum") or {}
    top_k = int(spectrum.get("top_k", 1))
    if top_k > 1 and cfg.get("sigma", {}).get("engine", "lanczos") != "lanczos":
        raise ConfigError(f"spectrum.top_k={top_k}: allowed 1 unless sigma.engine=lanczos")
    if method == "damped_gradient" and int(cfg.unlearn.get("top_k", 1)) > top_k:
        raise ConfigError(f"unlearn.top_k={cfg.unlearn.top_k}: allowed <= spectrum.top_k={top_k}")


def check_retain(cfg: DictConfig, forget: Tensor, num_train: int) -> None:
    """Raise a one-line `ConfigError` when the method needs R = D \\ F and F is all of D."""
    cls = METHODS.get(cfg.get("unlearn", {}).get("method", "single_gradient"))
    if cls is not None and cls.needs_retain and forget.unique().numel() >= num_train:
        raise ConfigError(
            f"unlearn.method={cls.name}: allowed only with a non-empty retain set, but the "
            f"forget set holds all {num_train} training samples "
            "(unlearn=gradient_ascent needs no R)"
        )


__all__ = [
    "METHODS",
    "Amnesiac",
    "Cost",
    "DampedGradient",
    "Influence",
    "FineTune",
    "GradientAscent",
    "L1Sparse",
    "NegGradPlus",
    "NoUnlearning",
    "PostHocMethod",
    "RandomLabel",
    "Retrain",
    "Rewind",
    "SSD",
    "SalUn",
    "Scrub",
    "SingleGradient",
    "Unrolled",
    "UnlearningMethod",
    "build",
    "check_method",
    "check_retain",
]
