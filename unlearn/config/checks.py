"""Checks on the composed config, run before any data is touched or any step is taken.

The ranges, choices and cross-field rules of every field are declared beside the field in
unlearn/config/schema.py and checked by one walk (`unlearn.config.fields.check_tree`); this module
adds only what needs more than the config: unknown keys, the training set's size, the
resolved step counts. Every failure is a `ConfigError` whose message is one line naming
the key, the value and what is allowed; `python -m unlearn` prints it and exits with status 2.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from unlearn.config.ceilings import check_ceilings, check_subsets
from unlearn.config.errors import ConfigError, clip, show
from unlearn.config.fields import MAX_STEPS, check_tree
from unlearn.config.schema import extra_keys

__all__ = ["ConfigError", "show", "validate"]


def _require(ok: bool, key: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={show(value)}: allowed {allowed}")


def validate(cfg: DictConfig) -> None:
    """All checks that need only the config (data-dependent ones run after data setup).

    Keys added with ``+key=value`` to a typed node and values that do not resolve are
    reported like any other bad value: one line, key and what is allowed.
    """
    for key, allowed in extra_keys(cfg):
        raise ConfigError(
            f"{key}: unknown key{did_you_mean(key, allowed)}; allowed keys: {', '.join(allowed)}"
        )
    try:
        check_tree(
            cfg
        )  # every range and rule declared in unlearn/config/schema.py (unlearn/config/fields.py)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "config"
        reason = " ".join(str(err).split("\n")[0].split())
        raise ConfigError(f"{key}: {reason}; allowed a value that resolves") from err


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """' (did you mean X?)' for the allowed name closest to the last part of `key`, or ''."""
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(allowed), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def resolve_steps(steps: int | None, epochs: float | None, steps_per_epoch: int) -> int:
    """Steps from either a step count or a number of epochs (rounded to the nearest step)."""
    if steps is not None:
        return int(steps)
    assert epochs is not None
    return int(round(float(epochs) * steps_per_epoch))


def check_data(cfg: DictConfig, num_train: int) -> None:
    """Checks that need the training set size."""
    for key in ("batch_size", "pretrain_batch_size"):
        _require(cfg[key] <= num_train, key, cfg[key], f"<= {num_train} (the training set size)")


def check_window(t: int, N: int | None = None) -> None:
    """The window needs two steps at least: e(t) has a factor (t − 1); neither phase may
    exceed the step ceiling once epochs are resolved to steps."""
    _require(t >= 2, "t", t, "an integer >= 2 (t_epochs resolved to fewer than 2 steps)")
    _require(t <= MAX_STEPS, "t", t, f"<= {MAX_STEPS} steps (t_epochs resolved to more)")
    if N is not None:
        _require(N <= MAX_STEPS, "N", N, f"<= {MAX_STEPS} steps (N_epochs resolved to more)")


def prefer_given_unit(cfg: DictConfig, given: Iterable[str]) -> None:
    """Let a step count given on the command line replace a configured epoch count, and back.

    `given` holds the keys the user set explicitly, in command-line order; when both of a
    pair are given, the later one wins, as with any Hydra override, so a sweep's job line
    (``... N_epochs=20 t_epochs=5``) can be shortened by appending ``N=0 t=3``.
    """
    order = {g.lstrip("+~"): i for i, g in enumerate(given)}  # the last position of each key
    for steps_key, epochs_key in (("N", "N_epochs"), ("t", "t_epochs")):
        steps_at, epochs_at = order.get(steps_key, -1), order.get(epochs_key, -1)
        if steps_at > epochs_at:
            cfg[epochs_key] = None
        elif epochs_at > steps_at:
            cfg[steps_key] = None


def check_model_fits(cfg: DictConfig, data: Any, net: Any) -> None:
    """One forward pass on two training samples (eval mode, no grad, on a copy): the model
    must accept the data's inputs and give one logit per class."""
    import torch  # here, not at the top: config checks stay importable without torch

    check_subsets(cfg, getattr(data, "full_sizes", {}))
    x = data.batch(torch.arange(min(2, data.num_train)))[0]
    probe = copy.deepcopy(net).eval()
    try:
        with torch.no_grad():
            out = probe(x)
    except ConfigError:  # the model's own one line (e.g. model.in_features against the data)
        raise
    except Exception as err:  # noqa: BLE001 (any failure here means the pair does not fit)
        key, fits = _input_key(cfg, tuple(x.shape[1:]))
        reason = clip(" ".join(str(err).split()), 120)
        raise ConfigError(
            f"{key}: does not accept this data's inputs of shape "
            f"{tuple(x.shape[1:])} ({type(err).__name__}: {reason}); allowed {fits}"
        ) from err
    check_ceilings(cfg, data.num_train, sum(p.numel() for p in net.parameters()))
    classes = getattr(data, "num_classes", None)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or (classes and out.shape[1] != classes):
        got = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(
            f"model.num_classes={OmegaConf.select(cfg, 'model.num_classes')!r}: the model gives "
            f"outputs of shape {got}; allowed {classes} (the data's number of classes)"
        )


def _input_key(cfg: DictConfig, shape: tuple[int, ...]) -> tuple[str, str]:
    """(the model key a misfit to inputs of `shape` is due to, what it should be): the
    input width or channel count the user can set, else the model itself."""
    import math

    width, channels = cfg.model.get("in_features"), cfg.model.get("in_channels")
    if isinstance(width, int) and width != math.prod(shape):
        return f"model.in_features={width}", f"{math.prod(shape)} (the data's input size)"
    if isinstance(channels, int) and len(shape) == 3 and channels != shape[0]:
        return f"model.in_channels={channels}", f"{shape[0]} (the data's channels)"
    model = OmegaConf.select(cfg, "model._target_", default="?")
    return f"model._target_={model!r}", "a model whose input matches the data"
