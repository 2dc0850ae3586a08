"""Bad input stops before training: one line naming the key, the value and what is allowed,
exit status 2, and nothing in an existing output folder changes.

The command line is checked by `unlearn.experiment.preflight.preflight`, exactly what
`python -m unlearn` runs before Hydra writes anything; a few cases also go through the
real command to see the exit status, the single line and the untouched folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from unlearn.config.checks import ConfigError
from unlearn.experiment.checkpointing import checkpoint_path
from unlearn.experiment.preflight import compose_run, preflight
from unlearn.experiment.run import run

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["N=4", "t=4", "logger=none", "pretrain.cache=false"]  # given steps replace epochs

# --- values `run(cfg)` itself rejects (composed in-process) --------------------------------

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
    (["sigma.engine=lanczos2"], "sigma.engine='lanczos2'"),
    (["sigma.definition=trace"], "sigma.definition='trace'"),
    (["unlearn.w_ref=middle"], "unlearn.w_ref='middle'"),
    (["twin.partial_batch=max"], "twin.partial_batch='max'"),
    (["loss.sd_normalization=l1"], "loss.sd_normalization='l1'"),
    (["seed=-1"], "seed=-1"),
    (["checkpoint_every=0"], "checkpoint_every=0"),
    (["+model.depth=3"], "model.depth: unknown key"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[" ".join(o) for o, _ in BAD])
def test_bad_values_raise_one_line_before_training(make_cfg, tmp_path, overrides, message):
    with pytest.raises(ConfigError) as err:
        run(make_cfg(*overrides))
    text = str(err.value)
    assert message in text and "allowed" in text and "\n" not in text
    assert not (tmp_path / "results.json").exists()


# --- the command line, against an existing output folder ----------------------------------


@pytest.fixture(scope="module")
def finished_dir(tmp_path_factory) -> Path:
    """An output folder holding a finished run of `SMALL` (its results.json)."""
    out = tmp_path_factory.mktemp("finished")
    run(compose_run([*SMALL, f"hydra.run.dir={out}"]))
    return out


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder`: its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00not a checkpoint" * 8)


class _Code:
    """A pickled object that would run code when unpickled without weights_only."""

    def __reduce__(self):
        return (print, ("unpickled: code ran",))


def _pickled_code(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"global_step": 3, "callbacks": {"WindowCheckpoint": _Code()}}, path)


def _foreign_checkpoint(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"identity": "0" * 64, "rng": {}, "extra": {}}
    torch.save({"global_step": 3, "callbacks": {"WindowCheckpoint": state}}, path)


def _raw_pickle(path: Path) -> None:
    """A plain pickle (protocol 4, not torch.save's zip) that would run code if unpickled."""
    import pickle

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"global_step": 3, "x": _Code()}, protocol=4))


def _bad_results(path: Path) -> None:
    path.write_text('{"status": "ok", "trunc')


# (arguments, what the line must contain, how to spoil a copy of the finished folder first)
CLI_BAD = [
    # types, caught when Hydra composes (structured configs)
    (["lr=abc"], "lr='abc': allowed a number", None),
    (["seed=1.5"], "seed='1.5': allowed an integer", None),
    (["N=ten"], "N='ten': allowed an integer or null", None),
    (["model.width=wide"], "model.width='wide': allowed an integer", None),
    (["deterministic=maybe"], "deterministic='maybe': allowed true or false", None),
    (["sigma.warm_start=sometimes"], "sigma.warm_start='sometimes': allowed true or false", None),
    # misspelt keys
    (["lrr=0.1"], "lrr='0.1': unknown key (did you mean lr?); allowed keys:", None),
    (["model.widht=32"], "model.widht='32': unknown key (did you mean width?)", None),
    (["sigma.engin=power"], "sigma.engin='power': unknown key (did you mean engine?)", None),
    (["+model.depth=3"], "model.depth: unknown key; allowed keys: _target_", None),
    # unknown options
    (["model=resnet1000"], "model='resnet1000': allowed ", None),
    (["unlearn.method=forgetful"], "unlearn.method='forgetful': allowed ", None),
    (["lr=[0.1"], "lr=[0.1: not an override", None),
    # ranges
    (["gamma=-2"], "gamma=-2: allowed a finite number >= 0", None),
    (["batch_size=5000"], "batch_size=5000: allowed <= 1437 (the training set size)", None),
    (["-m", "lr=0.1,-1"], "lr=-1: allowed a finite number > 0", None),
    # contradictory pairs
    (
        ["sigma.engine=pyhessian", "sigma.at=initial"],
        "sigma.at='initial' (with sigma.engine='pyhessian'): allowed current",
        None,
    ),
    (["data.flatten=true"], "does not accept this data's inputs of shape (64,)", None),
    (["model.num_classes=5"], "model.num_classes=5: the model gives outputs of shape (5,)", None),
    # a forget set outside the data
    (["forget=indices", "forget.indices=[5000]"], "forget.indices=[5000]: allowed", None),
    (["forget=random", "forget.k=0"], "forget.k=0: allowed an integer >= 1", None),
    # data files that do not exist or hold the wrong shapes, dtypes or labels
    (
        ["data=cifar10", "data.npz=/no/such/cifar.npz"],
        "data.npz='/no/such/cifar.npz': no such",
        None,
    ),
    (["data=cifar10", "data.npz=@shape"], "x_train is uint8 (12, 28, 28)", None),
    (["data=cifar10", "data.npz=@dtype"], "x_train is float64 (12, 32, 32, 3)", None),
    (["data=cifar10", "data.npz=@labels"], "y_train spans 0..11, not 0..9", None),
    # files: a finished run of another config, unreadable results and checkpoints
    (["gamma=0.5"], "holds a finished run of another config", None),
    ([], "its results.json is unreadable", "results"),
    ([], "last.ckpt='", "garbage"),
    ([], "unreadable, it holds Python objects (GLOBAL print)", "code"),
    ([], "belongs to another config", "foreign"),
    # issue 26: booleans are true or false, nothing else (OmegaConf made 2 true)
    (["sigma.warm_start=2"], "sigma.warm_start=2: allowed true or false", None),
    (["privacy.cache=2"], "privacy.cache=2: allowed true or false", None),
    (["model.batch_norm=2"], "model.batch_norm=2: allowed true or false", None),
    (["data.flatten=2"], "data.flatten=2: allowed true or false", None),
    (["deterministic=yes"], "deterministic='yes': allowed true or false", None),
    # issue 26: a job is one device (several would start DDP, whose ranks race)
    (["trainer.devices=[0,0]"], "trainer.devices=[0, 0]: allowed 1, or a list of one", None),
    (["trainer.devices=2"], "for several GPUs run one job per GPU (-m ... hydra/launcher=", None),
    (["trainer.devices=auto"], "trainer.devices='auto': allowed 1", None),
    (["trainer.devices=[0]"], "trainer.devices=[0] (with trainer.accelerator=cpu)", None),
    # issue 26: one η (results.json files the run under lr)
    (["optimizer.lr=0.5"], "optimizer.lr=0.5 (with lr=0.01): allowed optimizer.lr equal", None),
    # issue 26: messages name the key the user typed
    (["model=mlp", "model.in_features=10"], "model.in_features=10: does not accept", None),
    (["model.in_channels=3"], "model.in_channels=3: does not accept this data's inputs", None),
    (["debug=fast", "debug.steps=1"], "debug.steps=1: allowed an integer >= 2", None),
    (["debug=fast", "debug.sigma_max_iter=-1"], "debug.sigma_max_iter=-1: allowed", None),
    (["debug=fast", "debug.batch_size=0"], "debug.batch_size=0: allowed an integer >= 1", None),
    (["data.test_fraction=0.9999"], "data.test_fraction=0.9999: leaves 0 training", None),
    # issue 26: a step that overflows, and work that cannot hold
    (["lr=1e308"], "lr=1e+308: allowed a finite number > 0 and <= 3.40", None),
    (["unlearn=fine_tune", "unlearn.lr=1e300"], "unlearn.lr=1e+300: allowed a finite", None),
    (["spectrum.top_k=200", "model.width=1"], "spectrum.top_k=200: allowed < 120", None),
    (["unlearn=scrub", "unlearn.max_steps=500"], "unlearn.max_steps=500 (with unlearn.steps", None),
    (
        ["unlearn=fine_tune", "unlearn.batch_size=5000"],
        "unlearn.batch_size=5000: allowed <= 1437",
        None,
    ),
    (
        [
            "data=cifar10",
            "data.npz=@ok",
            "model=resnet18",
            "model.width=2",
            "batch_size=4",
            "pretrain_batch_size=4",
            "data.train_subset=100000",
        ],
        "data.train_subset=100000: allowed <= 12 (the train examples there are)",
        None,
    ),  # fmt: skip
]

SPOIL = {
    "results": lambda d: _bad_results(d / "results.json"),
    "garbage": lambda d: ((d / "results.json").unlink(), _garbage(checkpoint_path(d))),
    "code": lambda d: ((d / "results.json").unlink(), _pickled_code(checkpoint_path(d))),
    "foreign": lambda d: ((d / "results.json").unlink(), _foreign_checkpoint(checkpoint_path(d))),
    "raw": lambda d: ((d / "results.json").unlink(), _raw_pickle(checkpoint_path(d))),
}


def _bad_npz(path: Path, kind: str) -> Path:
    """A CIFAR-shaped .npz spoilt one way: image shape, pixel dtype or label range."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    y = np.arange(12) % 10
    if kind == "shape":
        x = x[:, :28, :28, 0]
    elif kind == "dtype":
        x = x.astype(np.float64)
    elif kind == "labels":
        y = np.arange(12)
    np.savez(path, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4] % 10)
    return path


def _with_files(args: list[str], tmp_path: Path) -> list[str]:
    """Replace ``@kind`` in `args` by the path of a spoilt .npz of that kind."""
    return [
        a.replace(f"@{a.split('@')[1]}", str(_bad_npz(tmp_path / "bad.npz", a.split("@")[1])))
        if "=@" in a
        else a
        for a in args
    ]


def _spoiled_copy(finished_dir: Path, tmp_path: Path, spoil: str | None) -> Path:
    import shutil

    folder = tmp_path / "existing"
    shutil.copytree(finished_dir, folder)
    if spoil:
        SPOIL[spoil](folder)
    return folder


@pytest.mark.parametrize(
    "args, message, spoil", CLI_BAD, ids=[" ".join(a) or s for a, _, s in CLI_BAD]
)
def test_command_line_rejects_bad_input_and_leaves_the_folder(
    finished_dir, tmp_path, args, message, spoil
):
    folder = _spoiled_copy(finished_dir, tmp_path, spoil)
    before = snapshot(folder)
    with pytest.raises(ConfigError) as err:
        preflight([*SMALL, *_with_files(args, tmp_path), f"hydra.run.dir={folder}"])
    text = str(err.value)
    assert message in text, text
    assert "\n" not in text and ("allowed" in text)
    assert snapshot(folder) == before


def test_the_same_finished_command_is_not_run_again(finished_dir):
    before = snapshot(finished_dir)
    stored = preflight([*SMALL, f"hydra.run.dir={finished_dir}"])
    assert stored == json.loads((finished_dir / "results.json").read_text())
    assert snapshot(finished_dir) == before


def _cli(*args: str, full_error: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "1" if full_error else "0"}
    return subprocess.run(
        [sys.executable, "-m", "unlearn", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["model=resnet1000"], "model='resnet1000': allowed "),
        (["lr=abc"], "lr='abc': allowed a number"),
        (["batch_size=5000"], "batch_size=5000: allowed <= 1437"),
        (
            ["sigma.engine=pyhessian", "sigma.at=initial"],
            "sigma.at='initial' (with sigma.engine='pyhessian'): allowed current",
        ),
    ],
    ids=["unknown-option", "type", "data-range", "contradiction"],
)
def test_cli_prints_one_line_exits_2_and_writes_nothing(finished_dir, tmp_path, args, message):
    folder = _spoiled_copy(finished_dir, tmp_path, None)
    before = snapshot(folder)
    proc = _cli(*args, "logger=none", f"hydra.run.dir={folder}")
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert snapshot(folder) == before


def test_hydra_full_error_still_shows_the_trace(tmp_path):
    proc = _cli("lr=abc", f"hydra.run.dir={tmp_path / 'run'}", full_error=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    assert "lr='abc': allowed a number" in proc.stderr
    assert not (tmp_path / "run").exists()


def test_a_raw_pickle_checkpoint_is_one_line_without_torch_warnings(
    finished_dir, tmp_path, recwarn
):
    """torch warned in two lines about the pickle protocol before the refusal (issue 26)."""
    folder = _spoiled_copy(finished_dir, tmp_path, "raw")
    with pytest.raises(ConfigError) as err:
        preflight([*SMALL, f"hydra.run.dir={folder}"])
    assert "unreadable, not a torch checkpoint (Unsupported operand" in str(err.value)
    assert not [w for w in recwarn if "pickle protocol" in str(w.message)]


def test_long_reasons_are_cut_at_a_word_never_mid_word():
    from unlearn.config.errors import clip

    assert clip("expected 3 channels, but got 1 channels instead", 44) == (
        "expected 3 channels, but got 1 channels…"
    )
    assert clip("short", 44) == "short"
