"""A sweep that stops for the environment: when its first jobs all fail with the same
environment problem (missing data, no GPU, no network) it stops with that one line."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

from hydra_plugins.unlearn_sweeper import union_sweeper
from unlearn.config.errors import EnvironmentProblem
from unlearn.experiment.job import JobContext, is_environment, run_job

MISSING = "EnvironmentProblem: data.npz='/nowhere.npz': no such file; allowed ..."


def _job(tmp_path: Path, num: int, results: dict) -> JobReturn:
    out = tmp_path / str(num)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results))
    ret = JobReturn()
    ret.hydra_cfg = OmegaConf.create({"hydra": {"runtime": {"output_dir": str(out)}}})
    ret.status, ret.return_value = JobStatus.COMPLETED, None
    return ret


def _env(reason: str = MISSING) -> dict:
    return {"status": "failed", "reason": reason, "environment": True}


class FakeLauncher:
    """Launches nothing: each job 'fails' as `outcome(num)` says, in its results.json."""

    def __init__(self, tmp_path: Path, outcome) -> None:
        self.tmp_path, self.outcome, self.launched = tmp_path, outcome, []

    def launch(self, batch, initial_job_idx):
        nums = range(initial_job_idx, initial_job_idx + len(batch))
        self.launched += list(nums)
        return [_job(self.tmp_path, n, self.outcome(n)) for n in nums]


def _sweeper(tmp_path: Path, outcome) -> tuple[object, FakeLauncher]:
    # Hydra's plugin scan (run by other tests) re-executes its BasicSweeper's module: reload
    # ours, so that it subclasses the BasicSweeper Hydra now has (as a real run does)
    module = importlib.reload(union_sweeper)
    sweeper = module.UnionSweeper(params={"gamma": "0,1,2,3,4,5"})
    sweeper.config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "sweep")}}})
    loader = SimpleNamespace(load_sweep_config=lambda master_config, sweep_overrides: None)
    sweeper.hydra_context = SimpleNamespace(config_loader=loader)
    sweeper.launcher = FakeLauncher(tmp_path, outcome)
    return sweeper, sweeper.launcher


def test_first_jobs_failing_alike_for_the_environment_stop_the_sweep(tmp_path, capsys):
    sweeper, launcher = _sweeper(tmp_path, lambda n: _env())
    with pytest.raises(SystemExit) as stop:
        sweeper.sweep([])
    assert stop.value.code == 2 and launcher.launched == [0, 1]  # jobs 2-5 never ran
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "first 2 jobs failed alike" in lines[0] and MISSING in lines[0]


@pytest.mark.parametrize(
    "outcome",
    [
        lambda n: _env(f"{MISSING} {n}"),  # different reasons
        lambda n: _env() if n == 0 else {"status": "ok"},  # only one failed
        lambda n: {"status": "failed", "reason": "ValueError: x", "environment": False},
    ],
    ids=["different-reasons", "one-of-two", "not-the-environment"],
)
def test_other_failures_let_the_sweep_run_every_job(tmp_path, outcome):
    sweeper, launcher = _sweeper(tmp_path, outcome)
    sweeper.sweep([])
    assert launcher.launched == [0, 1, 2, 3, 4, 5]


def test_a_job_marks_the_failures_that_are_the_machines(make_cfg, tmp_path):
    ctx = JobContext(multirun=True, sweep_dir=str(tmp_path), job_num=0)

    def no_data(_cfg):
        raise EnvironmentProblem("data.npz='/nowhere.npz': no such file")

    def bug(_cfg):
        raise ValueError("a bug")

    assert run_job(make_cfg(), ctx, run_fn=no_data)["environment"] is True
    assert run_job(make_cfg(), ctx, run_fn=bug)["environment"] is False
    assert is_environment(RuntimeError("No CUDA GPUs are available"))
    assert is_environment(ConnectionError("hub unreachable"))
    assert union_sweeper.environment_failure([]) is None


def test_the_in_process_launcher_gets_each_validated_config_without_composing_again():
    calls = []

    class Loader:
        def load_sweep_config(self, master_config, sweep_overrides):
            calls.append(tuple(sweep_overrides))
            return {"job": tuple(sweep_overrides)}

    loader = Loader()
    module = importlib.reload(union_sweeper)
    store = module.compose_once(loader)
    validated = loader.load_sweep_config(None, ["gamma=1"])  # the sweeper's validation
    launched = loader.load_sweep_config(None, ["gamma=1"])  # the launcher's
    assert validated is launched and calls == [("gamma=1",)] and not store
    loader.load_sweep_config(None, ["gamma=1"])  # a third call composes again
    assert calls == [("gamma=1",), ("gamma=1",)]
