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

from unlearn.config import ConfigError
from unlearn.methods.amnesiac import Amnesiac
from unlearn.methods.base import Cost, PostHocMethod, UnlearningMethod
from unlearn.methods.fine_tune import FineTune
from unlearn.methods.gradient_ascent import GradientAscent
from unlearn.methods.l1_sparse import L1Sparse
from unlearn.methods.neggrad_plus import NegGradPlus
from unlearn.methods.none import NoUnlearning
from unlearn.methods.random_label import RandomLabel
from unlearn.methods.retrain import Retrain
from unlearn.methods.salun import SalUn
from unlearn.methods.scrub import Scrub
from unlearn.methods.single_gradient import SingleGradient

METHODS: dict[str, type[UnlearningMethod]] = {
    cls.name: cls for cls in (SingleGradient, Amnesiac, NoUnlearning, Retrain)
}
METHODS |= {
    cls.name: cls
    for cls in (FineTune, RandomLabel, GradientAscent, NegGradPlus, Scrub, L1Sparse, SalUn)
}


def build(
    method: str, w_ref: str = "initial", options: Mapping[str, Any] | None = None
) -> UnlearningMethod:
    """The method called `method`; `w_ref` matters to single_gradient only, `options` (the
    ``unlearn`` config node) to the post-hoc methods."""
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")
    cls = METHODS[method]
    if issubclass(cls, PostHocMethod):
        return cls.from_options(options or {})
    return SingleGradient(w_ref) if method == "single_gradient" else cls()  # type: ignore[arg-type]


def check_method(cfg: DictConfig) -> None:
    """Raise a one-line `ConfigError` for an unknown `unlearn.method`."""
    method = cfg.get("unlearn", {}).get("method", "single_gradient")
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")


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
    "FineTune",
    "GradientAscent",
    "L1Sparse",
    "NegGradPlus",
    "NoUnlearning",
    "PostHocMethod",
    "RandomLabel",
    "Retrain",
    "SalUn",
    "Scrub",
    "SingleGradient",
    "UnlearningMethod",
    "build",
    "check_method",
    "check_retain",
]
