"""Shared fixtures: compose the real config and shrink it (CPU, few steps, no logger)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")

FAST = [
    "N=20",
    "N_epochs=null",
    "t=12",
    "t_epochs=null",
    "track_every=4",
    "verify_every=3",
    "logger=none",
]


def compose_config(overrides: list[str], output_dir: Path) -> DictConfig:
    """The composed config with `overrides`, writing into `output_dir`."""
    with initialize_config_dir(version_base="1.3", config_dir=CONF_DIR):
        cfg = compose(config_name="config", overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(output_dir)
    return cfg


@pytest.fixture
def make_cfg(tmp_path: Path) -> Callable[..., DictConfig]:
    """make_cfg(*overrides) → a small, fast config writing under tmp_path."""

    def _make(*overrides: str, fast: bool = True) -> DictConfig:
        return compose_config([*(FAST if fast else []), *overrides], tmp_path)

    return _make
