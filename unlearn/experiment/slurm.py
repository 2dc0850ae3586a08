"""What the SLURM cluster says: the launcher's preflight and the queue's view of a job.

The preflight (`cluster_problems`) runs before Hydra writes anything, so that a launcher
default the cluster cannot meet (a GPU on a CPU-only partition, more memory than any node
has), a wrong partition or a stopped controller is one line each, not sbatch's traceback
after the sweep folder and submitit's pickles were written. Everything is asked of the
commands a user has (`scontrol`, `sinfo`, `sacct`, `squeue`); no library speaks SLURM's
protocol without its C headers, and these commands are what submitit itself calls.

`queue_states` is how the launcher learns that a job ended without a result: from
``squeue``, which needs no accounting (without slurmdbd ``sacct`` fails, and submitit
would wait forever for a job that died without its result pickle).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# squeue states after which a job never runs again (a requeued job is PENDING again)
ENDED = {
    "BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
    "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT", "REVOKED", "SPECIAL_EXIT",
}  # fmt: skip


def _run(*cmd: str, timeout: float = 30) -> tuple[int, str]:
    """(exit status, stdout + stderr) of a SLURM command; 127 when it is not installed."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        return 127, f"{cmd[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{cmd[0]}: no answer in {timeout:.0f} s"
    return done.returncode, (done.stdout + done.stderr).strip()


def _first_line(text: str) -> str:
    """A command's answer in one line (scontrol ping adds a banner of asterisks)."""
    lines = [line.strip() for line in text.splitlines() if line.strip("* \t")]
    return lines[0] if lines else "no output"


@dataclass(frozen=True)
class Node:
    name: str
    cpus: int
    mem_mb: int
    gpus: int


def _gpus(gres: str) -> int:
    """GPUs in a node's Gres ("gpu:a100:4(S:0-1),gpu:v100:2" → 6; "(null)" → 0)."""
    total = 0
    for item in gres.split(","):
        parts = re.sub(r"\(.*?\)", "", item).split(":")
        if parts[0] == "gpu":
            total += int(parts[-1]) if parts[-1].isdigit() else 1
    return total


def partitions() -> tuple[list[str], str | None]:
    """(every partition, the default one) from ``sinfo``."""
    _, out = _run("sinfo", "-h", "-o", "%P")
    names = [p.strip() for p in out.splitlines() if p.strip()]
    default = next((p.rstrip("*") for p in names if p.endswith("*")), None)
    return sorted({p.rstrip("*") for p in names}), default


def nodes(partition: str) -> list[Node]:
    """The nodes of `partition`: CPUs, memory (MB) and GPUs, from ``sinfo -N``."""
    _, out = _run("sinfo", "-h", "-N", "-p", partition, "-o", "%N|%c|%m|%G")
    found = []
    for line in out.splitlines():
        fields = line.strip().split("|")
        if len(fields) == 4 and fields[1].isdigit():
            mem = int(re.sub(r"\D.*", "", fields[2]) or 0)
            found.append(Node(fields[0], int(fields[1]), mem, _gpus(fields[3])))
    return found


def _count(value: Any) -> int:
    return int(value) if value not in (None, "") else 0


def cluster_problems(launcher: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of submitting with `launcher` (hydra.launcher's settings).

    Each problem is one line naming the key, its value and what is allowed here."""
    rc, out = _run("scontrol", "ping")
    if rc != 0 or " is UP" not in out:
        return [
            f"hydra/launcher=slurm: the SLURM controller does not answer (`scontrol ping`: "
            f"{_first_line(out)}); allowed once it runs, or hydra/launcher=local here"
        ], []
    problems: list[str] = []
    names, default = partitions()
    partition = launcher.get("partition") or default
    if partition is None:
        problems.append(
            f"hydra.launcher.partition=null: the cluster has no default partition; "
            f"allowed {', '.join(names)}"
        )
    elif partition not in names:
        problems.append(
            f"hydra.launcher.partition={partition}: no such partition; allowed {', '.join(names)}"
        )
    if problems:
        return problems, []
    problems += _fit(launcher, partition, nodes(partition))
    warnings = []
    rc, out = _run("sacct", "-n", "-X", "-S", "now", "-o", "JobID")
    if rc != 0:
        warnings.append(
            f"hydra/launcher=slurm: no job accounting (`sacct`: {_first_line(out)}): a job's "
            "state is read from squeue only while the controller keeps it (MinJobAge), and "
            "sacct cannot show a finished job's state, time or memory"
        )
    return problems, warnings


def _fit(launcher: Mapping[str, Any], partition: str, found: list[Node]) -> list[str]:
    """One line per request that no node of `partition` can meet."""
    tasks = max(1, _count(launcher.get("tasks_per_node")))
    wants = {
        "gpus_per_node": (_count(launcher.get("gpus_per_node")), lambda n: n.gpus, "GPUs"),
        "cpus_per_task": (
            _count(launcher.get("cpus_per_task")) * tasks, lambda n: n.cpus, "CPUs",
        ),
        "mem_gb": (_count(launcher.get("mem_gb")) * 1024, lambda n: n.mem_mb, "MB of memory"),
    }  # fmt: skip
    problems = []
    for key, (want, has, unit) in wants.items():
        most = max((has(n) for n in found), default=0)
        if want <= most:
            continue
        value = launcher.get(key)
        if key == "gpus_per_node" and most == 0:
            allowed = "0 or null (CPU jobs; the paper's GPU presets need a GPU partition)"
        elif key == "mem_gb":
            allowed = f"at most {most // 1024}"
        elif key == "cpus_per_task":
            per_task = f" with tasks_per_node={tasks}" if tasks > 1 else ""
            allowed = f"at most {most // tasks}{per_task}"
        else:
            allowed = f"at most {most}"
        problems.append(
            f"hydra.launcher.{key}={value}: no node of partition {partition} has "
            f"{want} {unit} (the largest has {most}); allowed {allowed}"
        )
    return problems


def queue_states(job_ids: Iterable[str]) -> dict[str, str] | None:
    """{job id: state} of the jobs squeue still knows ("123_4": "RUNNING"); a job it no
    longer lists has ended. None when squeue did not answer (ask again later)."""
    ids = sorted({str(j).split("_")[0] for j in job_ids})
    if not ids:
        return {}
    rc, out = _run("squeue", "-h", "-r", "-t", "all", "-j", ",".join(ids), "-o", "%i|%T")
    if rc != 0:
        if "Invalid job id" in out:  # every one of them gone from the controller
            return {}
        return None
    states = {}
    for line in out.splitlines():
        job, _, state = line.strip().partition("|")
        if job:
            states[job] = state.strip()
    return states
