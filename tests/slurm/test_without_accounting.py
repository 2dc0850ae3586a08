"""Without accounting (no slurmdbd: `sacct` fails) a job that dies without a result file
is noticed from squeue: the submitter says so and exits instead of waiting forever.

The cluster is restarted without accounting for this file, and with it again after."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from cluster import LONG, ROOT, SLURM, finish, queued, results, slurm, unlearn, wait_for


@pytest.fixture(scope="module")
def no_accounting():
    script = str(ROOT / "scripts" / "slurm-local.sh")
    subprocess.run([script, "up"], env={**os.environ, "SLURM_ACCOUNTING": "0"}, check=True)
    yield
    subprocess.run([script, "up"], env={**os.environ, "SLURM_ACCOUNTING": "1"}, check=True)


def test_a_killed_job_without_accounting_ends_the_wait(tmp_path, job_name, no_accounting):
    sweep = tmp_path / "sweep"
    proc = unlearn("-m", *LONG, "lr=0.01", *SLURM, f"hydra.launcher.name={job_name}",
                   f"hydra.sweep.dir={sweep}")  # fmt: skip
    wait_for(lambda: (sweep / "0").is_dir(), "job folder", 300)  # the job runs
    job = wait_for(lambda: queued(job_name), "job in the queue")
    slurm("scancel", "--signal=KILL", job)  # no handler, no results.json, no result pickle
    code, err = finish(proc, 240)
    assert code == 1, err[-3000:]
    assert results(sweep / "0") is None
    assert re.search(
        rf"job 0 \(SLURM {job}\) ended \((FAILED|CANCELLED|no longer in the queue)\) without "
        r"a result; its log: .*\.submitit/.*_log\.err",
        err,
    ), err[-3000:]
    assert err.splitlines()[0].startswith(
        "warning: hydra/launcher=slurm: no job accounting (`sacct`: "
    )  # the preflight's one line of what that costs
