"""The SLURM launcher's preflight against the real cluster: one line per problem, exit
status 2, and nothing written (no sweep folder, no submitit pickles)."""

from __future__ import annotations

import os
from pathlib import Path

from cluster import TINY, finish, slurm, unlearn


def _node() -> tuple[int, int]:
    """(CPUs, memory in MB) of the cluster's one node."""
    cpus, mem = slurm("sinfo", "-h", "-N", "-o", "%c|%m").splitlines()[0].split("|")
    return int(cpus), int(mem)


def _refused(tmp_path, *args: str, env: dict | None = None) -> list[str]:
    sweep = tmp_path / "sweep"
    proc = unlearn("-m", "lr=0.01,0.02", *TINY, "hydra/launcher=slurm", *args,
                   f"hydra.sweep.dir={sweep}", env=env)  # fmt: skip
    code, err = finish(proc, 180)
    assert code == 2, err[-3000:]
    assert not sweep.exists()  # checked before Hydra or submitit wrote anything
    return err.strip().splitlines()


def test_requests_no_node_can_meet_are_one_line_each(tmp_path):
    cpus, mem = _node()
    lines = _refused(tmp_path, "hydra.launcher.cpus_per_task=64", "hydra.launcher.mem_gb=100000")
    assert lines == [  # gpus_per_node=1 is the launcher's default (the paper's GPU jobs)
        "error: hydra.launcher.gpus_per_node=1: no node of partition debug has 1 GPUs "
        "(the largest has 0); allowed 0 or null (CPU jobs; the paper's GPU presets need "
        "a GPU partition)",
        f"error: hydra.launcher.cpus_per_task=64: no node of partition debug has 64 CPUs "
        f"(the largest has {cpus}); allowed at most {cpus}",
        f"error: hydra.launcher.mem_gb=100000: no node of partition debug has 102400000 MB "
        f"of memory (the largest has {mem}); allowed at most {mem // 1024}",
    ]


def test_an_unknown_partition_names_the_ones_there_are(tmp_path):
    lines = _refused(tmp_path, "hydra.launcher.partition=gpu", "hydra.launcher.gpus_per_node=0")
    assert lines == ["error: hydra.launcher.partition=gpu: no such partition; allowed debug"]


def test_an_unreachable_controller_is_one_line(tmp_path):
    """The cluster's own slurm.conf, but a controller port nothing listens on."""
    conf = tmp_path / "slurm.conf"
    conf.write_text(Path("/etc/slurm/slurm.conf").read_text() + "SlurmctldPort=6999\n")
    lines = _refused(tmp_path, env={**os.environ, "SLURM_CONF": str(conf)})
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "error: hydra/launcher=slurm: the SLURM controller does not answer (`scontrol ping`: "
    )
    assert lines[0].endswith("is DOWN); allowed once it runs, or hydra/launcher=local here")
