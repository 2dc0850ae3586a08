"""`from unlearn import compose, run` does the command line's job, and `import unlearn`
stays light (docs/python-api.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import unlearn
from unlearn.config.errors import ConfigError
from unlearn.experiment.preflight import compose_run

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python-api.md"
HEAVY = ("torch", "lightning", "torchvision", "transformers", "wandb")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    env.pop("UNLEARN_CACHE", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_import_unlearn_loads_no_heavy_library(tmp_path):
    probe = _python(
        "import sys, unlearn\nfrom unlearn import compose, run, summary\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))",
        tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"


def test_the_documented_example_runs_and_writes_results(tmp_path):
    (block,) = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(block.strip().splitlines()) <= 10
    done = _python(block, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "outputs" / "notebook" / "results.json").read_text())
    assert results["status"] == "ok" and results["N"] == 4 and results["t"] == 4  # debug=fast
    assert "v / v_none" in done.stdout and "σ_avg" in done.stdout
    last = done.stdout.strip().splitlines()[-1].split()
    assert last == ["ok", repr(results["unlearning_error"]), repr(results["v_ratio"])]


def test_compose_is_the_command_lines_config(tmp_path):
    overrides = ["t=9", "logger=none", "debug=fast"]
    cfg = unlearn.compose(*overrides, output_dir=tmp_path)
    cli = compose_run(overrides)
    assert cfg.paths.output_dir == str(tmp_path)
    cli.paths.output_dir = str(tmp_path)
    assert cfg == cli and cfg.t == 9  # a key the command line gives wins over debug=fast


def test_a_bad_override_is_the_commands_one_line_error():
    with pytest.raises(ConfigError, match=r"^gamma=-1: allowed a finite number >= 0$"):
        unlearn.compose("gamma=-1")


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        unlearn.nope  # noqa: B018
