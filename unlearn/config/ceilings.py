"""Ceilings that need the model or the data: refuse what cannot hold, warn once (one line)
where a value is legal but far outside any sensible run.

The schema's ranges (unlearn/config/schema.py) bound every field on its own; these checks need
the number of parameters or training samples. A value that cannot hold (k eigenpairs of
a Hessian with fewer than k dimensions) is a `ConfigError`; a value that merely costs
hours (a million Hutchinson probes) runs as asked after one ``warning:`` line on stderr,
printed once per process and key, so a multirun's checks do not repeat it.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig, OmegaConf

from unlearn.config.errors import ConfigError, show

# key → (the largest sensible value, what one unit costs): beyond it, one warning line
SENSIBLE: dict[str, tuple[int, str]] = {
    "spectrum.trace_probes": (1000, "Hessian-vector products per σ event"),
    "spectrum.density_probes": (1000, "Lanczos runs per σ event"),
    "spectrum.top_k": (100, "eigenpairs per σ event (Lanczos steps grow with it)"),
    "unlearn.steps": (10**5, "optimiser steps of the unlearning method"),
    "unlearn.iterations": (10**4, "Hessian-vector products of conjugate gradients"),
    "sigma.max_iter": (10**4, "Hessian-vector products per σ estimate"),
}
_warned: set[str] = set()


def _get(cfg: DictConfig, key: str) -> object:
    try:
        return OmegaConf.select(cfg, key, default=None)
    except Exception:  # noqa: BLE001 (a value that does not resolve is the walk's to report)
        return None


def check_ceilings(cfg: DictConfig, num_train: int, n_params: int) -> None:
    """Refuse top-k ≥ parameters and a method batch above the training set; warn where a
    legal value is far outside a sensible run."""
    for key in ("spectrum.top_k", "unlearn.top_k"):
        k = _get(cfg, key)
        if isinstance(k, int) and k >= n_params:
            raise ConfigError(
                f"{key}={k}: allowed < {n_params} (the model's parameters: the Hessian has "
                "no more eigenpairs)"
            )
    size = _get(cfg, "unlearn.batch_size")  # the same rule as the top-level batch_size
    if isinstance(size, int) and size > num_train:
        raise ConfigError(
            f"unlearn.batch_size={size}: allowed <= {num_train} (the training set size)"
        )
    for key, (limit, unit) in SENSIBLE.items():
        v = _get(cfg, key)
        if isinstance(v, int) and v > limit and key not in _warned:
            _warned.add(key)
            print(
                f"warning: {key}={show(v)}: {show(v)} {unit}, far above a sensible run "
                f"(<= {limit}); it runs as asked",
                file=sys.stderr,
            )


def check_subsets(cfg: DictConfig, full_sizes: dict[str, int]) -> None:
    """A subset larger than the data cannot be drawn (it used to keep all the data without
    a word). debug=fast's subset is a ceiling, not a demand: it passes."""
    for split, n in full_sizes.items():
        key = f"data.{split}_subset"
        size = _get(cfg, key)
        if not isinstance(size, int) or size <= n:
            continue
        if _get(cfg, "debug") is not None and size == _get(cfg, f"debug.{split}_subset"):
            continue
        raise ConfigError(f"{key}={size}: allowed <= {n} (the {split} examples there are), or null")
