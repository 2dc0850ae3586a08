"""Nothing finished is lost, interrupts tell the truth, folders and caches are safe (in-process).

A real SIGTERM is sent to this very process from inside a training step (the handlers of
`unlearn.runtime.interrupt` installed for the test); the exit statuses of `python -m unlearn`
are checked with real signals to a subprocess in tests/test_signals.py.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
from pathlib import Path

import pytest
import torch
from test_resume import metrics

from hydra_plugins.unlearn_sweeper.union_sweeper import write_jobs
from unlearn.analyze.collect import collect
from unlearn.analyze.status import render
from unlearn.config.checks import ConfigError
from unlearn.data.imdb import read_jsonl
from unlearn.experiment.cache import PretrainCache
from unlearn.experiment.checkpointing import checkpoint_path, safe_load
from unlearn.experiment.job import JobContext, run_job
from unlearn.experiment.preflight import preflight, sweep_jobs
from unlearn.experiment.results import read_results, summary_table, write_results
from unlearn.module import UnlearnModule
from unlearn.runtime import interrupt
from unlearn.runtime.interrupt import Interrupted
from unlearn.runtime.rng import PRETRAIN_STREAM, WINDOW_STREAM
from unlearn.runtime.store import digest, trajectory_material, write_entry

SMALL = ["N=4", "t=4", "logger=none", "pretrain.cache=false"]


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


# ---------------------------------------------------------------------------- a full disk


def test_a_full_disk_keeps_the_finished_numbers_and_a_rerun_only_writes_them(make_cfg, monkeypatch):
    cfg = make_cfg("pretrain.cache=false")  # checkpoint_every=500 > t: only the final one
    out = Path(cfg.paths.output_dir)
    monkeypatch.setattr("unlearn.experiment.results.write_text_atomic", _enospc)
    results = run_job(cfg, JobContext())  # no exception, chained or not
    assert results["status"] == "ok" and "No space left" in results["write_error"]
    assert "σ_avg" in summary_table(results)  # what `python -m unlearn` prints
    assert not (out / "results.json").exists()
    assert safe_load(checkpoint_path(out))["global_step"] == results["t"]  # the window is safe
    monkeypatch.undo()

    again = run_job(cfg, JobContext())
    assert again["resumed_at_step"] == results["t"]  # nothing retrained: test pass and write
    results.pop("write_error"), results.pop("write_reason")
    assert results.pop("kept").startswith("checkpoints/last.ckpt of the finished window")
    assert metrics(again) == metrics(results)
    assert read_results(out / "results.json")["status"] == "ok"
    assert not checkpoint_path(out).exists()


def test_a_failure_on_a_full_disk_is_one_record_attempt_and_no_second_exception(
    make_cfg, monkeypatch
):
    def boom(cfg):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("unlearn.experiment.results.write_text_atomic", _enospc)
    results = run_job(make_cfg(), JobContext(), run_fn=boom)
    assert results["status"] == "failed" and "disk on fire" in results["reason"]
    assert "No space left" in results["write_error"]


# ---------------------------------------------------------------------------- signals


@pytest.fixture
def handlers():
    """`unlearn.runtime.interrupt`'s handlers for the test, the previous ones restored after."""
    before = {s: signal.getsignal(s) for s in interrupt.SIGNALS}
    interrupt.clear()
    interrupt.install()
    yield
    interrupt.clear()
    for s, h in before.items():
        signal.signal(s, h)


def _signal_at(monkeypatch, stream: int, step: int, signum=signal.SIGTERM) -> None:
    """Send `signum` to this process during step `step` (1-based) of phase `stream`."""
    original = UnlearnModule.training_step

    def training_step(self, batch, batch_idx):
        if self.stream_id == stream and self.trainer.global_step + 1 == step:
            os.kill(os.getpid(), signum)
        return original(self, batch, batch_idx)

    monkeypatch.setattr(UnlearnModule, "training_step", training_step)


def test_sigterm_in_the_window_saves_that_step_and_resumes_identically(
    make_cfg, monkeypatch, handlers
):
    args = ("t=16", "checkpoint_every=5", "pretrain.cache=false")
    reference = run_job(make_cfg(*args), JobContext())
    cfg = make_cfg(*args)
    out = Path(cfg.paths.output_dir)
    _signal_at(monkeypatch, WINDOW_STREAM, 7)
    with pytest.raises(Interrupted) as err:
        run_job(cfg, JobContext(argv=("t=16", f"hydra.run.dir={out}")))
    assert err.value.exit_code == 143 and err.value.step == 7
    stored = read_results(out / "results.json")
    assert stored["status"] == "interrupted" and stored["signal"] == "SIGTERM"
    assert stored["phase"] == "the window" and stored["step"] == 7
    assert stored["saved"] == "window checkpoint at step 7"
    assert stored["resume"] == f"python -m unlearn t=16 hydra.run.dir={out}"
    assert safe_load(checkpoint_path(out))["global_step"] == 7  # not the step-5 checkpoint
    monkeypatch.undo()
    interrupt.clear()

    resumed = run_job(cfg, JobContext())
    assert resumed["resumed_at_step"] == 7
    assert metrics(resumed) == metrics(reference)
    assert resumed["wall_time_s"] > resumed["wall_time_this_attempt_s"]  # earlier attempt counted


def test_sigint_in_pretraining_leaves_a_cache_entry_at_that_step(
    make_cfg, monkeypatch, handlers, tmp_path
):
    cache = tmp_path / "cache"
    args = (f"paths.cache_dir={cache}", "pretrain.save_every_minutes=null")
    reference = run_job(make_cfg(*args, f"paths.cache_dir={tmp_path / 'other'}"), JobContext())
    cfg = make_cfg(*args)
    _signal_at(monkeypatch, PRETRAIN_STREAM, 9, signal.SIGINT)
    with pytest.raises(Interrupted) as err:
        run_job(cfg, JobContext())
    assert err.value.exit_code == 130
    stored = read_results(Path(cfg.paths.output_dir) / "results.json")
    assert (stored["phase"], stored["step"]) == ("pretraining", 9)
    assert stored["saved"] == "pretrain cache entry at step 9"
    monkeypatch.undo()
    interrupt.clear()

    resumed = run_job(cfg, JobContext())
    assert resumed["pretrain_cache"] == "prefix:9"
    assert metrics(resumed) == metrics(reference) | {"pretrain_cache": "prefix:9"}


def test_a_kill_in_pretraining_costs_only_the_steps_since_the_periodic_entry(
    make_cfg, monkeypatch, tmp_path
):
    class Kill(RuntimeError):
        pass

    original = UnlearnModule.training_step

    def training_step(self, batch, batch_idx):
        if self.stream_id == PRETRAIN_STREAM and self.trainer.global_step + 1 == 14:
            raise Kill
        return original(self, batch, batch_idx)

    args = (f"paths.cache_dir={tmp_path / 'cache'}", "pretrain.save_every_minutes=1e-9")
    cfg = make_cfg(*args)
    monkeypatch.setattr(UnlearnModule, "training_step", training_step)
    run_job(cfg, JobContext())  # recorded as failed
    monkeypatch.undo()
    entries = sorted((tmp_path / "cache" / "pretrain").glob("*/step_*.pt"))
    assert [p.name for p in entries] == ["step_000000013.pt"]  # one periodic entry, the latest
    resumed = run_job(make_cfg(*args), JobContext())
    assert resumed["pretrain_cache"] == "prefix:13"


# ---------------------------------------------------------------------------- the cache


def test_the_cache_key_holds_the_thread_count_and_results_record_it(make_cfg):
    cfg = make_cfg()
    x, y = torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = trajectory_material(cfg, x, y)
        torch.set_num_threads(2)
        two = trajectory_material(cfg, x, y)
    finally:
        torch.set_num_threads(threads)
    assert (one["intra_op_threads"], two["intra_op_threads"]) == (1, 2)
    assert digest(one) != digest(two)
    assert "cpu_capability" in one
    results = run_job(make_cfg(*SMALL[:3]), JobContext())
    assert results["compute"]["intra_op_threads"] == threads


def test_a_forged_entry_of_another_architecture_is_rebuilt(make_cfg, tmp_path):
    cache_dir = tmp_path / "cache"
    small = make_cfg(f"paths.cache_dir={cache_dir}", "model.width=4")
    run_job(small, JobContext())
    entry = next((cache_dir / "pretrain").glob("*/step_*.pt"))
    payload = torch.load(entry, weights_only=True)

    cfg = make_cfg(f"paths.cache_dir={cache_dir}", "model.width=8")
    from unlearn.data.digits import DigitsDataModule

    data = DigitsDataModule(test_fraction=0.2, split_seed=0, flatten=False)
    data.setup("fit")
    cache = PretrainCache(cache_dir, trajectory_material(cfg, data.train_set.x, data.train_set.y))
    step = int(payload["step"])
    write_entry(cache.path(step), payload, f"{cache.key}:{step}")  # a valid sidecar, wrong shapes
    results = run_job(cfg, JobContext())
    assert results["status"] == "ok" and results["pretrain_cache"] == "miss"
    rebuilt = torch.load(cache.path(step), weights_only=True)
    assert rebuilt["net"]["features.0.weight"].shape[0] == 8


# ---------------------------------------------------------------------------- files


def test_results_json_is_strict_json_and_reads_back_its_non_finite_numbers(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, {"status": "diverged", "loss": float("inf"), "curve": [1.0, float("nan")]})

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    raw = json.loads(path.read_text(), parse_constant=refuse)
    assert raw["loss"] is None and raw["non_finite"] == {"loss": "inf", "curve.1": "nan"}
    back = read_results(path)
    assert back["loss"] == float("inf") and back["curve"][0] == 1.0 and back["curve"][1] != 0


def test_files_get_the_umask_mode_and_stale_temporary_files_go(tmp_path):
    path = tmp_path / "results.json"
    stale = tmp_path / ".results.json.abc123.tmp"
    stale.write_bytes(b"")  # what a SIGKILL during a write leaves
    write_results(path, {"status": "ok"})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    assert not stale.exists()


def test_jsonl_lines_that_are_not_reviews_are_one_line(tmp_path):
    good = [
        json.dumps({"split": s, "label": i, "text": "t"}) for s in ("train", "test") for i in (0, 1)
    ]
    cases = {
        "list": ([*good, "[1, 2, 3]"], "is a JSON list, not an object"),
        "number": ([*good, "42"], "is a JSON int, not an object"),
        "true": ([json.dumps({"split": "train", "label": True, "text": "t"}), *good], "True"),
    }
    for name, (lines, message) in cases.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(lines))
        with pytest.raises(ConfigError, match=message):
            read_jsonl(str(path))
    import gzip

    data = gzip.compress(("\n".join(good * 200)).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match="unreadable"):
        read_jsonl(str(tmp_path / "cut.jsonl.gz"))


# ---------------------------------------------------------------------------- folders


@pytest.mark.parametrize(
    "where, message",
    [
        ("@file", "is a file"),
        ("/dev/null", "is a file"),
        ("@file/run", "lies under the file"),
        ("/proc/unlearn-test", "cannot create or write there"),
        ("", "allowed a folder path"),
    ],
)
def test_a_run_folder_that_cannot_be_written_is_refused_before_hydra(tmp_path, where, message):
    (tmp_path / "file").write_text("x")
    where = where.replace("@", f"{tmp_path}/")
    with pytest.raises(ConfigError, match=message) as err:
        preflight([*SMALL, f"hydra.run.dir={where}"])
    assert str(err.value).startswith(f"hydra.run.dir={where!r}")


def test_an_empty_cache_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^paths.cache_dir='': allowed a non-empty string"):
        preflight(["N=4", "t=4", "logger=none", "paths.cache_dir=", f"hydra.run.dir={tmp_path}"])


def test_a_sweep_folder_holding_another_grid_is_refused_and_left_alone(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    _, jobs = sweep_jobs(["lr=0.1,0.2", *SMALL, f"hydra.sweep.dir={sweep}"])
    assert len(jobs) == 2
    write_jobs(sweep, jobs)  # what the sweeper wrote when it ran
    before = (sweep / "jobs.json").read_bytes()
    preflight(["-m", "lr=0.1,0.2", *SMALL, f"hydra.sweep.dir={sweep}"])  # the same grid
    with pytest.raises(ConfigError, match="holds another grid"):
        preflight(["-m", "lr=0.1,0.3", *SMALL, f"hydra.sweep.dir={sweep}"])
    assert (sweep / "jobs.json").read_bytes() == before


def test_the_analysis_lists_refused_and_interrupted_jobs(tmp_path):
    for num, status in enumerate(("refused", "interrupted")):
        job = tmp_path / str(num)
        job.mkdir()
        write_results(job / "results.json", {"status": status, "reason": f"why {num}"})
    rows = collect(tmp_path)
    text = render(rows, tmp_path)
    header = text.splitlines()[2]
    assert "| refused |" in header and "| interrupted |" in header
    assert "why 0" in text and "why 1" in text


def test_a_sweep_with_refused_or_failed_jobs_is_not_a_success():
    from hydra.core.utils import JobReturn, JobStatus

    from hydra_plugins.unlearn_sweeper.union_sweeper import unfinished_jobs

    def job(status: str) -> JobReturn:
        ret = JobReturn()
        ret.status, ret.return_value = JobStatus.COMPLETED, status
        return ret

    batches = [[job("ok"), job("refused")], [job("diverged"), job("failed")]]
    assert [r.return_value for r in unfinished_jobs(batches)] == ["refused", "failed"]
    assert unfinished_jobs([[job("ok"), job("diverged")]]) == []
