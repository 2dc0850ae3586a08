"""Exact resume: a run killed in its window and started again with the same command and
output folder continues from its last checkpoint, and its results.json metrics equal an
uninterrupted run's, bit for bit on CPU.

One test kills a real `python -m unlearn` with SIGKILL; the others crash an in-process
run at a chosen step (any exception, as a kill would) for each kind of state a
checkpoint must carry: the unlearning method's store, BatchNorm and dropout, σ at w_0,
a forget set scattered over the window.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from unlearn.experiment.checkpointing import checkpoint_dir, checkpoint_path, safe_load
from unlearn.experiment.preflight import compose_run
from unlearn.experiment.run import run
from unlearn.module import UnlearnModule
from unlearn.runtime.rng import WINDOW_STREAM

ROOT = Path(__file__).resolve().parents[1]
QUICK = [
    "N=20",
    "t=16",
    "track_every=4",
    "verify_every=3",
    "checkpoint_every=5",
    "sigma.max_iter=10",
]
QUIET = ["logger=none", "pretrain.cache=false"]
NOT_METRICS = {"wall_time_s", "resumed_at_step", "config", "traceback"}


def metrics(results: dict[str, Any]) -> Any:
    """What a run measured: everything but timings, the config and where it resumed."""

    def keep(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {
                k: keep(v)
                for k, v in obj.items()
                if k not in NOT_METRICS and "seconds" not in k and not k.endswith("_s")
            }
        if isinstance(obj, list):
            return [keep(v) for v in obj]
        if isinstance(obj, float) and math.isnan(obj):
            return "nan"
        return obj

    return keep(results)


def _compose(args: list[str], out: Path):
    return compose_run([*args, *QUIET, f"hydra.run.dir={out}"])


class Crash(RuntimeError):
    """Stands for the kill."""


def _crash_at(monkeypatch: pytest.MonkeyPatch, window_step: int) -> None:
    """Make the window raise when it is about to take step `window_step` (1-based)."""
    original = UnlearnModule.training_step

    def training_step(self, batch, batch_idx):
        if self.stream_id == WINDOW_STREAM and self.trainer.global_step + 1 == window_step:
            raise Crash(f"killed before window step {window_step}")
        return original(self, batch, batch_idx)

    monkeypatch.setattr(UnlearnModule, "training_step", training_step)


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["unlearn=amnesiac"],
        ["unlearn.w_ref=final", "model.batch_norm=true", "model.dropout=0.3", "gamma=1"],
        ["sigma.at=initial", "sigma.engine=power", "forget=random", "forget.k=60"],
        ["optimizer.momentum=0.9", "optimizer.weight_decay=0.01", "forget=random", "forget.k=60"],
        [  # several methods on one window (rewind keeps step 8), the order twin beside
            "unlearn.compare=[single_gradient,amnesiac,unrolled,rewind@k:8@rewind_every:4,ssd]",
            "twin.order_noise=true",
            "forget=random",
            "forget.k=60",
        ],
    ],
    ids=[
        "single-gradient",
        "amnesiac",
        "final-bn-dropout",
        "sigma-at-w0-random-forget",
        "momentum-decay",
        "compare-order-twin",
    ],
)
def test_a_crashed_window_resumes_to_identical_results(tmp_path, monkeypatch, extra):
    args = [*QUICK, *extra]
    reference = run(_compose(args, tmp_path / "reference"))

    out = tmp_path / "crashed"
    _crash_at(monkeypatch, 13)  # checkpoints after steps 5 and 10; steps 11, 12 are lost
    with pytest.raises(Crash):
        run(_compose(args, out))
    assert not (out / "results.json").exists()
    assert safe_load(checkpoint_path(out))["global_step"] == 10
    monkeypatch.undo()

    resumed = run(_compose(args, out))
    assert resumed["resumed_at_step"] == 10
    assert metrics(resumed) == metrics(reference)
    assert json.loads((out / "results.json").read_text())["status"] == "ok"
    assert not checkpoint_dir(out).exists()  # a finished run keeps no checkpoints


def test_a_checkpoint_of_another_config_is_never_resumed(tmp_path, monkeypatch):
    from unlearn.config.checks import ConfigError

    out = tmp_path / "run"
    _crash_at(monkeypatch, 8)
    with pytest.raises(Crash):
        run(_compose(QUICK, out))
    monkeypatch.undo()
    with pytest.raises(ConfigError, match="belongs to another config"):
        run(_compose([*QUICK, "lr=0.02"], out))
    assert checkpoint_path(out).exists()


SLOW_WINDOW = ["N=30", "t=60", "track_every=2", "verify_every=5", "checkpoint_every=15"]


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "unlearn", *SLOW_WINDOW, *QUIET, f"hydra.run.dir={out}"]


def _env() -> dict[str, str]:
    """The test process's thread count (conftest), so that the reference's floats match."""
    return {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}


@pytest.mark.slow  # ~30 s; the in-process crash-and-resume tests cover the mechanism
def test_sigkill_mid_window_then_the_same_command_gives_identical_results(tmp_path):
    start = time.perf_counter()
    reference = run(_compose(SLOW_WINDOW, tmp_path / "reference"))
    t_reference = time.perf_counter() - start

    out = tmp_path / "killed"
    start = time.perf_counter()
    proc = subprocess.Popen(
        _command(out), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        while not checkpoint_path(out).exists():
            assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
            assert time.perf_counter() - start < 300, "no checkpoint within 300 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    t_killed = time.perf_counter() - start
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "results.json").exists()
    killed_at = int(safe_load(checkpoint_path(out))["global_step"])
    assert 0 < killed_at < reference["t"]

    start = time.perf_counter()
    again = subprocess.run(
        _command(out), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600
    )
    t_resumed = time.perf_counter() - start
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = json.loads((out / "results.json").read_text())
    assert resumed["resumed_at_step"] == killed_at
    assert metrics(resumed) == metrics(reference)
    assert not checkpoint_dir(out).exists()
    print(
        f"\nresume timings (s): uninterrupted run {t_reference:.1f} (in-process), "
        f"killed after {t_killed:.1f} (checkpoint at window step {killed_at} of "
        f"{reference['t']}), resumed run {t_resumed:.1f} (process start included)"
    )
