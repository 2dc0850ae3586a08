"""A sweep through `hydra/launcher=slurm`: one job array submitted at once (no probe wave),
each job's results.json equal, field by field, to the same sweep run locally."""

from __future__ import annotations

from cluster import SLURM, TINY, finish, results, unlearn
from test_resume import metrics


def test_a_sweep_is_one_array_submitted_at_once_and_equals_a_local_run(tmp_path, job_name):
    grid = ["-m", "lr=0.01,0.02,0.05", *TINY]  # 3 jobs: more than the sweeper's probe_jobs=2
    here = unlearn(*grid, f"hydra.sweep.dir={tmp_path / 'local'}")  # meanwhile, locally
    there = unlearn(*grid, *SLURM, f"hydra.launcher.name={job_name}",
                    f"hydra.sweep.dir={tmp_path / 'slurm'}")  # fmt: skip
    code, err = finish(there)
    assert code == 0, err[-3000:]
    assert "3 jobs submitted at once: SLURM array" in err
    # one sbatch for the three jobs (a probe wave would have made two)
    assert len(list((tmp_path / "slurm" / ".submitit").glob("*/*_submission.sh"))) == 1
    code, err = finish(here)
    assert code == 0, err[-3000:]
    for num in range(3):
        remote = results(tmp_path / "slurm" / str(num))
        local = results(tmp_path / "local" / str(num))
        assert remote["status"] == local["status"] == "ok"
        assert metrics(remote) == metrics(local)
