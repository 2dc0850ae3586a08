"""Every config node has a schema: each option of each group composes into a typed node, so a
new YAML file without its ``/schema/...`` line (or a key its schema lacks) fails here."""

from __future__ import annotations

from dataclasses import is_dataclass
from pathlib import Path

import pytest
from conftest import compose_config
from omegaconf import DictConfig, OmegaConf

from unlearn.config.schema import Config, extra_keys

CONF = Path(__file__).resolve().parents[1] / "conf"
GROUPS = ["data", "model", "loss", "optimizer", "trainer", "unlearn", "forget", "paths", "logger"]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]


def _typed(node: DictConfig) -> bool:
    return is_dataclass(OmegaConf.get_type(node))


@pytest.mark.parametrize("group, option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_group_option_composes_into_a_typed_node(tmp_path, group, option):
    cfg = compose_config([f"{group}={option}"], tmp_path)
    assert OmegaConf.get_type(cfg) is Config
    node = cfg[group]
    if group == "logger":  # a mapping of loggers (csv) or the logger group's own node (wandb)
        assert not node or _typed(node) or all(_typed(v) for v in node.values())
    else:
        assert _typed(node), f"conf/{group}/{option}.yaml names no /schema/{group}/..."
    assert extra_keys(cfg) == []


def test_every_window_callback_is_typed(tmp_path):
    cfg = compose_config([], tmp_path)
    assert cfg.callbacks and all(_typed(cb) for cb in cfg.callbacks.values())
