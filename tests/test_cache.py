"""The pretrain checkpoint cache: miss, hit, prefix reuse bit for bit, corrupt entries rebuilt."""

from __future__ import annotations

import itertools
import multiprocessing as mp
from pathlib import Path

import pytest
import torch
from conftest import compose_config
from filelock import Timeout

from unlearn.config.checks import ConfigError
from unlearn.experiment.cache import PretrainCache
from unlearn.experiment.run import run
from unlearn.runtime.store import locked, read_entry, trajectory_material, write_entry

# BatchNorm buffers and dropout masks are part of M_N too: use a model with both.
BASE = [
    "t=4",
    "t_epochs=null",
    "track_every=4",
    "verify_every=2",
    "logger=none",
    "checkpoint_every=null",
    "model.batch_norm=true",
    "model.dropout=0.3",
    "gamma=1.0",
    "sigma.max_iter=3",
]
METRICS = ("weight_drift", "sigma_avg", "unlearning_error", "verification_error", "test_acc")
_dirs = itertools.count()


def _run(tmp_path: Path, cache: str, *overrides: str) -> dict:
    """One run in a fresh output folder, with the cache in tmp_path/cache."""
    out = tmp_path / f"run{next(_dirs)}"
    cfg = compose_config([*BASE, f"paths.cache_dir={tmp_path / cache}", *overrides], out)
    return run(cfg)


def _entry(tmp_path: Path, cache: str, res: dict, step: int) -> dict:
    key = res["pretrain_cache_key"]
    path = tmp_path / cache / "pretrain" / key / f"step_{step:09d}.pt"
    entry = read_entry(path, f"{key}:{step}")
    assert entry is not None, path
    return entry


def _same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_miss_then_hit_gives_the_same_run(tmp_path):
    first = _run(tmp_path, "c", "N=20", "N_epochs=null")
    again = _run(tmp_path, "c", "N=20", "N_epochs=null")
    assert (first["pretrain_cache"], again["pretrain_cache"]) == ("miss", "hit")
    assert first["pretrain_cache_key"] == again["pretrain_cache_key"]
    assert all(first[k] == again[k] for k in METRICS)
    assert first["curves"] == again["curves"]


def test_prefix_reuse_is_bit_identical_to_pretraining_from_scratch(tmp_path):
    # momentum: the optimiser's state must come back from the cache too
    opt = "optimizer.momentum=0.9"
    scratch = _run(tmp_path, "scratch", "N=30", "N_epochs=null", opt)
    short = _run(tmp_path, "prefix", "N=12", "N_epochs=null", opt)
    resumed = _run(tmp_path, "prefix", "N=30", "N_epochs=null", opt)
    assert (scratch["pretrain_cache"], short["pretrain_cache"]) == ("miss", "miss")
    assert resumed["pretrain_cache"] == "prefix:12"
    a, b = _entry(tmp_path, "scratch", scratch, 30), _entry(tmp_path, "prefix", resumed, 30)
    assert _same_state(a["net"], b["net"])  # weights and BatchNorm buffers, bit for bit
    assert _same_state(a["optimizer"]["state"][0], b["optimizer"]["state"][0])
    assert all(scratch[k] == resumed[k] for k in METRICS)


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop-sidecar", "foreign-key"])
def test_a_defective_entry_reads_as_missing_and_is_removed(tmp_path, damage):
    path = tmp_path / "step_000000007.pt"
    write_entry(path, {"w": torch.arange(1000.0)}, "k:7")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    elif damage == "drop-sidecar":
        path.with_suffix(".json").unlink()
    assert read_entry(path, "other:7" if damage == "foreign-key" else "k:7") is None
    assert not path.exists() and not path.with_suffix(".json").exists()


def test_a_truncated_checkpoint_is_rebuilt_by_the_next_run(tmp_path):
    first = _run(tmp_path, "c", "N=20", "N_epochs=null")
    good = _entry(tmp_path, "c", first, 20)["net"]
    path = tmp_path / "c" / "pretrain" / first["pretrain_cache_key"] / "step_000000020.pt"
    path.write_bytes(path.read_bytes()[:1000])
    rebuilt = _run(tmp_path, "c", "N=20", "N_epochs=null")
    assert rebuilt["pretrain_cache"] == "miss"
    assert _same_state(_entry(tmp_path, "c", rebuilt, 20)["net"], good)
    assert all(first[k] == rebuilt[k] for k in METRICS)


def test_a_sweep_grid_costs_one_pretraining(tmp_path):
    """save_every_epochs keeps every N on the way; each N of the grid is then a hit."""
    # digits: 1,437 training images, pretraining batch 128 → 12 steps per epoch
    grid = ("pretrain_batch_size=128", "pretrain.save_every_epochs=0.5")
    longest = _run(tmp_path, "c", "N_epochs=2", *grid, "pretrain.save_at_epochs=[0.25]")
    assert longest["N"] == 24 and longest["pretrain_cache"] == "miss"
    cache = tmp_path / "c" / "pretrain" / longest["pretrain_cache_key"]
    assert sorted(int(p.stem[5:]) for p in cache.glob("step_*.pt")) == [3, 6, 12, 18, 24]
    assert _run(tmp_path, "c", "N_epochs=1", *grid)["pretrain_cache"] == "hit"
    assert _run(tmp_path, "c", "N_epochs=1.2", *grid)["pretrain_cache"] == "prefix:12"


def test_off_switch_and_n_zero(tmp_path):
    assert _run(tmp_path, "c", "N=0", "N_epochs=null")["pretrain_cache"] == "off"
    assert (
        _run(tmp_path, "c", "N=5", "N_epochs=null", "pretrain.cache=false")["pretrain_cache"]
        == "off"
    )
    assert not (tmp_path / "c" / "pretrain").exists()


def test_an_unwritable_cache_dir_is_one_config_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"paths.cache_dir='.*file/sub': cannot write there"):
        _run(tmp_path, "file/sub", "N=5", "N_epochs=null")


def test_the_key_covers_what_determines_m_n_and_nothing_else(tmp_path):
    x, y = torch.zeros(4, 1, 8, 8), torch.arange(4)

    def key(*overrides: str, data: tuple = (x, y)) -> str:
        cfg = compose_config(list(overrides), tmp_path / "k")
        return PretrainCache(tmp_path, trajectory_material(cfg, *data)).key

    base = key()
    changed = [
        key("gamma=2"),
        key("lr=0.02"),
        key("seed=1"),
        key("pretrain_batch_size=16"),
        key("loss=l2"),
        key("optimizer.momentum=0.5"),
        key("model.width=8"),
        key("data.split_seed=1"),
        key(data=(x + 1, y)),
    ]
    assert len({base, *changed}) == len(changed) + 1
    # what only the window or the evaluation uses leaves M_N alone
    assert base == key("t=50", "t_epochs=null", "batch_size=16", "pretrain_batch_size=32")
    assert base == key("forget=none", "sigma.max_iter=3", "track_every=2")
    assert base == key("data.test_batch_size=64", "N_epochs=3")


def _concurrent_job(args: tuple) -> str:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    tmp, out = args
    cfg = compose_config([*BASE, "N=40", "N_epochs=null", f"paths.cache_dir={tmp}/c"], Path(out))
    return run(cfg)["pretrain_cache"]


@pytest.mark.slow
def test_concurrent_jobs_share_one_pretraining(tmp_path):
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        outs = [(str(tmp_path), str(tmp_path / f"o{i}")) for i in range(2)]
        statuses = pool.map(_concurrent_job, outs)
    assert sorted(statuses) == ["hit", "miss"]


def test_named_locks_in_one_directory_do_not_wait_for_each_other(tmp_path):
    """Shadow models share shadow/; one lock per entry lets parallel jobs build two at once,
    while a second builder of the same entry still waits."""
    held = locked(tmp_path, "key_a")
    held.acquire()
    try:
        other = locked(tmp_path, "key_b")
        other.acquire(timeout=0)
        other.release()
        with pytest.raises(Timeout):
            locked(tmp_path, "key_a").acquire(timeout=0)
    finally:
        held.release()
