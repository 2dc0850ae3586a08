"""Unlearning methods, one per file, behind one small interface (`base.UnlearningMethod`).

`unlearn.method=` picks one by name; `build` makes it and `check_method` rejects an
unknown name before training.
"""

from __future__ import annotations

from omegaconf import DictConfig

from unlearn.config import ConfigError
from unlearn.methods.amnesiac import Amnesiac
from unlearn.methods.base import Cost, UnlearningMethod
from unlearn.methods.none import NoUnlearning
from unlearn.methods.retrain import Retrain
from unlearn.methods.single_gradient import SingleGradient

METHODS: dict[str, type[UnlearningMethod]] = {
    cls.name: cls for cls in (SingleGradient, Amnesiac, NoUnlearning, Retrain)
}


def build(method: str, w_ref: str = "initial") -> UnlearningMethod:
    """The method called `method`; `w_ref` matters to single_gradient only."""
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")
    return SingleGradient(w_ref) if method == "single_gradient" else METHODS[method]()  # type: ignore[arg-type]


def check_method(cfg: DictConfig) -> None:
    """Raise a one-line `ConfigError` for an unknown `unlearn.method`."""
    method = cfg.get("unlearn", {}).get("method", "single_gradient")
    if method not in METHODS:
        raise ConfigError(f"unlearn.method={method!r}: allowed {', '.join(sorted(METHODS))}")


__all__ = [
    "METHODS",
    "Amnesiac",
    "Cost",
    "NoUnlearning",
    "Retrain",
    "SingleGradient",
    "UnlearningMethod",
    "build",
    "check_method",
]
