"""Shared fixtures: compose the real config and shrink it (CPU, few steps, no logger)."""

from __future__ import annotations

import os
import tempfile

# One intra-op thread, here and in every subprocess a test starts: the tests' models are
# tiny, and on a loaded 2-core machine OpenMP's spinning threads made a run 20x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The pretrain/shadow cache of test runs goes to a throw-away folder, not the repo's .cache.
os.environ.setdefault("UNLEARN_CACHE", tempfile.mkdtemp(prefix="unlearn-test-cache-"))

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import DictConfig, open_dict  # noqa: E402

import unlearn  # noqa: F401, E402  (registers the structured configs `schema/...` with Hydra)

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

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
    """make_cfg(*overrides) → a small, fast config writing under tmp_path.

    Each call gets its own output folder, since a finished run's results.json is never
    overwritten: the first writes into tmp_path itself, the n-th into tmp_path/run<n>.
    """
    calls = [0]

    def _make(*overrides: str, fast: bool = True) -> DictConfig:
        calls[0] += 1
        out = tmp_path if calls[0] == 1 else tmp_path / f"run{calls[0]}"
        return compose_config([*(FAST if fast else []), *overrides], out)

    return _make
