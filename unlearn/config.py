"""Checks on the composed config, run before any data is touched or any step is taken.

Every failure is a `ConfigError` whose message is one line naming the key, the value
and what is allowed; `python -m unlearn` prints it and exits with status 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from unlearn.errors import ConfigError, show
from unlearn.fields import check_tree
from unlearn.schema import extra_keys

__all__ = ["ConfigError", "show", "validate"]


def _require(ok: bool, key: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={show(value)}: allowed {allowed}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _choice(cfg: DictConfig, key: str, allowed: Iterable[str]) -> None:
    node: object = cfg
    for part in key.split("."):
        node = node.get(part) if isinstance(node, DictConfig) else None
    allowed = tuple(allowed)
    _require(node in allowed, key, node, "one of " + ", ".join(allowed))


def check_steps(cfg: DictConfig) -> None:
    """N/N_epochs and t/t_epochs: exactly one of each pair."""
    for steps_key, epochs_key, low in (("N", "N_epochs", 0), ("t", "t_epochs", 2)):
        steps, epochs = cfg.get(steps_key), cfg.get(epochs_key)
        if steps is not None and epochs is not None:
            raise ConfigError(
                f"{steps_key}={show(steps)} and {epochs_key}={show(epochs)} are both set: "
                f"allowed one of them (steps or epochs)"
            )
        if steps is None and epochs is None:
            raise ConfigError(f"{steps_key} and {epochs_key} are both null: allowed one of them")
        if steps is not None:
            _require(_is_int(steps) and steps >= low, steps_key, steps, f"an integer >= {low}")
        else:
            _require(_is_number(epochs) and epochs >= 0, epochs_key, epochs, "a number >= 0")


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
        check_tree(cfg)  # the ranges declared beside each field (unlearn/fields.py)
        _check_values(cfg)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None) or "config"
        reason = " ".join(str(err).split("\n")[0].split())
        raise ConfigError(f"{key}: {reason}; allowed a value that resolves") from err


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """' (did you mean X?)' for the allowed name closest to the last part of `key`, or ''."""
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], list(allowed), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_values(cfg: DictConfig) -> None:
    _require(_is_int(cfg.seed) and cfg.seed >= 0, "seed", cfg.seed, "an integer >= 0")
    _require(_is_number(cfg.lr) and cfg.lr > 0, "lr", cfg.lr, "a number > 0")
    _require(_is_number(cfg.gamma) and cfg.gamma >= 0, "gamma", cfg.gamma, "a number >= 0")
    for key in ("batch_size", "pretrain_batch_size"):
        _require(_is_int(cfg[key]) and cfg[key] >= 1, key, cfg[key], "an integer >= 1")
    for key in ("track_every", "verify_every"):
        _require(_is_int(cfg[key]) and cfg[key] >= 1, key, cfg[key], "an integer >= 1")
    every = cfg.get("checkpoint_every")
    _require(
        every is None or (_is_int(every) and every >= 1),
        "checkpoint_every",
        every,
        "an integer >= 1, or null (no window checkpoints)",
    )
    det = cfg.get("deterministic", True)
    _require(isinstance(det, bool), "deterministic", det, "true or false")
    check_steps(cfg)
    if "l2_lambda" in cfg.loss:
        lam = cfg.loss.l2_lambda
        _require(_is_number(lam) and lam >= 0, "loss.l2_lambda", lam, "a number >= 0")
    if "sd_normalization" in cfg.loss:
        _choice(cfg, "loss.sd_normalization", ("reference", "paper"))
    _choice(cfg, "sigma.engine", ("power", "lanczos", "pyhessian"))
    _choice(cfg, "sigma.definition", ("spectral_norm", "sqrt_top_eig"))
    _choice(cfg, "sigma.at", ("current", "initial"))
    _require(
        not (cfg.sigma.engine == "pyhessian" and cfg.sigma.at == "initial"),
        "sigma.at",
        cfg.sigma.at,
        "current with sigma.engine=pyhessian",
    )
    _require(
        _is_int(cfg.sigma.max_iter) and cfg.sigma.max_iter >= 1,
        "sigma.max_iter",
        cfg.sigma.max_iter,
        "an integer >= 1",
    )
    _require(_is_number(cfg.sigma.tol) and cfg.sigma.tol > 0, "sigma.tol", cfg.sigma.tol, "> 0")
    _choice(cfg, "unlearn.w_ref", ("initial", "final"))
    _choice(cfg, "twin.partial_batch", ("nominal", "mean"))


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


def check_window(t: int) -> None:
    """The window needs two steps at least: e(t) has a factor (t − 1)."""
    _require(t >= 2, "t", t, "an integer >= 2 (t_epochs resolved to fewer than 2 steps)")


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
