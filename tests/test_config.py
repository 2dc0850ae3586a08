"""Bad input stops before training with one line naming the key, the value and what is allowed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from unlearn.config import ConfigError
from unlearn.run import run

ROOT = Path(__file__).resolve().parents[1]

BAD = [
    (["gamma=-1"], "gamma=-1"),
    (["lr=-0.1"], "lr=-0.1"),
    (["lr=0"], "lr=0"),
    (["t=1"], "t=1"),
    (["t=null", "t_epochs=0.01"], "t=0"),
    (["track_every=0"], "track_every=0"),
    (["verify_every=0"], "verify_every=0"),
    (["batch_size=5000"], "batch_size=5000"),
    (["N=10", "N_epochs=2"], "N=10 and N_epochs=2"),
    (["N=-3"], "N=-3"),
    (["sigma.engine=lanczos"], "sigma.engine='lanczos'"),
    (["sigma.definition=trace"], "sigma.definition='trace'"),
    (["unlearn.w_ref=middle"], "unlearn.w_ref='middle'"),
    (["twin.partial_batch=max"], "twin.partial_batch='max'"),
    (["loss.sd_normalization=l1"], "loss.sd_normalization='l1'"),
    (["seed=-1"], "seed=-1"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_values_raise_one_line_before_training(make_cfg, tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*overrides))
    text = str(err.value)
    assert message in text and "allowed" in text and "\n" not in text
    assert not (tmp_path / "results.json").exists()


def _cli(*args, cwd):
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", "unlearn", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["model=resnet1000"], "model='resnet1000': allowed mlp, small_cnn"),
        (["gamma=-2"], "gamma=-2: allowed a number >= 0"),
        (["N=5", "N_epochs=1"], "N=5 and N_epochs=1 are both given"),
    ],
)
def test_cli_prints_one_line_and_exits_2(tmp_path, args, message):
    proc = _cli(*args, f"hydra.run.dir={tmp_path / 'run'}", "logger=none", cwd=ROOT)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"error: {message}"] or (len(lines) == 1 and message in lines[0])
    assert "Traceback" not in proc.stderr
