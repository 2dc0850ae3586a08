"""A launcher whose program is missing, or a SLURM cluster that cannot run the launcher's
settings, is one line per problem before Hydra starts (unlearn/experiment/launchers.py,
unlearn/experiment/slurm.py). The cluster's commands are faked here with the answers a
real SLURM 22.05 gives; tests/slurm/ asks a real one (`make test-slurm`)."""

from __future__ import annotations

import shutil

import pytest

from unlearn.config.errors import ConfigError
from unlearn.experiment import slurm
from unlearn.experiment.launchers import check_launcher

UP = {
    "scontrol": (0, "Slurmctld(primary) at vm is UP"),
    "sinfo -h -o %P": (0, "debug*\ngpu"),
    "sinfo -h -N -p debug": (0, "vm|2|21694|(null)"),
    "sinfo -h -N -p gpu": (0, "g1|64|515000|gpu:a100:4(S:0-1)\ng2|32|256000|gpu:2"),
    "sacct": (0, ""),
}


def fake_cluster(monkeypatch, answers: dict[str, tuple[int, str]]) -> None:
    """SLURM commands answer from `answers` (keyed by the longest matching prefix)."""

    def run(*cmd: str, timeout: float = 30) -> tuple[int, str]:
        line = " ".join(cmd)
        key = max((k for k in answers if line.startswith(k)), key=len)
        return answers[key]

    monkeypatch.setattr(slurm, "_run", run)


def test_slurm_without_srun_is_one_line(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(
        ConfigError, match=r"^hydra/launcher=slurm: no `srun` here .*submitit_local"
    ):
        check_launcher(["-m", "hydra/launcher=slurm", "lr=0.1"])


def test_slurm_with_srun_and_other_launchers_pass(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    fake_cluster(monkeypatch, UP)
    check_launcher(["hydra/launcher=slurm", "hydra.launcher.partition=gpu"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    check_launcher(["hydra/launcher=local", "hydra/launcher=submitit_local", "slurm=1"])


def _problems(monkeypatch, answers, *args: str) -> list[str]:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    fake_cluster(monkeypatch, answers)
    with pytest.raises(ConfigError) as err:
        check_launcher(["-m", "hydra/launcher=slurm", "lr=0.1,0.2", *args])
    return f"error: {err.value}".splitlines()


def test_the_defaults_on_a_cpu_node_are_one_line_per_request(monkeypatch):
    assert _problems(monkeypatch, UP, "hydra.launcher.mem_gb=64") == [
        "error: hydra.launcher.gpus_per_node=1: no node of partition debug has 1 GPUs (the "
        "largest has 0); allowed 0 or null (CPU jobs; the paper's GPU presets need a GPU "
        "partition)",
        "error: hydra.launcher.cpus_per_task=4: no node of partition debug has 4 CPUs (the "
        "largest has 2); allowed at most 2",
        "error: hydra.launcher.mem_gb=64: no node of partition debug has 65536 MB of memory "
        "(the largest has 21694); allowed at most 21",
    ]


def test_gpus_are_counted_from_gres_and_tasks_multiply_cpus(monkeypatch):
    args = ["hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=5"]
    args += ["hydra.launcher.tasks_per_node=2", "hydra.launcher.cpus_per_task=40"]
    assert _problems(monkeypatch, UP, *args) == [
        "error: hydra.launcher.gpus_per_node=5: no node of partition gpu has 5 GPUs (the "
        "largest has 4); allowed at most 4",
        "error: hydra.launcher.cpus_per_task=40: no node of partition gpu has 80 CPUs (the "
        "largest has 64); allowed at most 32 with tasks_per_node=2",
    ]


def test_a_down_controller_or_an_unknown_partition_is_one_line(monkeypatch):
    down = {**UP, "scontrol": (1, "Slurmctld(primary) at vm is DOWN\n*****\n** RESTORE **")}
    assert _problems(monkeypatch, down) == [
        "error: hydra/launcher=slurm: the SLURM controller does not answer (`scontrol ping`: "
        "Slurmctld(primary) at vm is DOWN); allowed once it runs, or hydra/launcher=local here"
    ]
    assert _problems(monkeypatch, UP, "hydra.launcher.partition=a100") == [
        "error: hydra.launcher.partition=a100: no such partition; allowed debug, gpu"
    ]


def test_no_accounting_is_a_warning(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    fake_cluster(monkeypatch, {**UP, "sacct": (1, "Slurm accounting storage is disabled")})
    check_launcher(["hydra/launcher=slurm", "hydra.launcher.partition=gpu"])
    assert capsys.readouterr().err.startswith(
        "warning: hydra/launcher=slurm: no job accounting (`sacct`: Slurm accounting storage "
        "is disabled): "
    )


def test_queue_states_expand_arrays_and_forget_unknown_ids(monkeypatch):
    fake_cluster(monkeypatch, {"squeue": (0, "7_0|RUNNING\n7_1|PENDING\n8|FAILED")})
    assert slurm.queue_states(["7_0", "7_1", "8"]) == {
        "7_0": "RUNNING", "7_1": "PENDING", "8": "FAILED",
    }  # fmt: skip
    fake_cluster(monkeypatch, {"squeue": (1, "slurm_load_jobs error: Invalid job id specified")})
    assert slurm.queue_states(["9"]) == {}  # gone from the controller: ended
    fake_cluster(monkeypatch, {"squeue": (1, "slurm_load_jobs error: Socket timed out")})
    assert slurm.queue_states(["9"]) is None  # no answer: ask again
