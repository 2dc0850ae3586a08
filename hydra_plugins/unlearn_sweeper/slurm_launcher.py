"""`hydra/launcher=slurm`: hydra-submitit-launcher's SLURM launcher, watching its jobs itself.

The plugin's launcher submits a sweep as one job array and then waits for each job's
result pickle in turn. On a real queue that has two gaps, which this subclass closes:

- A job that ends without a result pickle (killed, ``scancel``-ed, a node lost, a
  SIGTERM the job saved and stopped at) is noticed from ``squeue``
  (unlearn/experiment/slurm.py), which needs no accounting: submitit asks ``sacct``,
  which fails without slurmdbd, and would then wait forever. Such a job returns its
  results.json's status (``interrupted``, with the command that resumes it) or
  ``failed``.
- The environment-failure early stop: the `union` sweeper used to run its first jobs as a
  probe wave before submitting the rest, which on a queue doubles a sweep's wall time.
  Here every job is submitted at once, and when the first ``probe_jobs`` jobs to finish
  all failed alike for the environment (results.json ``"environment": true``) the rest
  of the array is cancelled and the sweep stops with that one line and exit status 2.

Jobs are still submitted by submitit (``executor.map_array``: one ``sbatch --array``),
and requeued by it (its checkpoint-and-requeue; unlearn/runtime/job_signals.py).
"""

# no `from __future__ import annotations`: Hydra loads plugins outside sys.modules
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence  # noqa: UP035

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
    SlurmLauncher as SubmititSlurmLauncher,
)
from omegaconf import OmegaConf

from hydra_plugins.unlearn_sweeper.union_sweeper import environment_reason

log = logging.getLogger(__name__)


def read_results(folder: Optional[Path]) -> Optional[Dict[str, Any]]:  # noqa: UP006, UP045
    """A job folder's results.json, or None (absent, unreadable)."""
    try:
        return json.loads((folder / "results.json").read_text()) if folder else None
    except (OSError, ValueError):
        return None


class SlurmLauncher(SubmititSlurmLauncher):
    """submitit's SLURM launcher: one array per sweep, watched through squeue."""

    queueing = True  # the union sweeper submits every job at once to such a launcher
    probe_jobs = 2  # the first jobs to finish that decide the environment early stop
    poll_s = 2.0  # seconds between looks at the result files and the queue
    grace_s = 15.0  # after a job left the queue, how long its result pickle may take to appear

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        executor = self._executor()
        params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(overrides)))
            state = Singleton.get_state()
            params.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", state))
        jobs = executor.map_array(self, *zip(*params, strict=True))  # one sbatch --array
        log.info("%d jobs submitted at once: SLURM array %s", len(jobs), _array_id(jobs))
        return self._watch(jobs, [p[0] for p in params], [p[2] for p in params])

    def _executor(self) -> Any:
        """submitit's executor with this launcher's parameters (as the plugin builds it)."""
        import submitit

        assert self.config is not None
        init_keys = {"submitit_folder", "max_num_timeout"}
        executor = submitit.AutoExecutor(
            cluster=self._EXECUTOR,
            folder=self.params["submitit_folder"],
            slurm_max_num_timeout=self.params.get("max_num_timeout", 0),
        )
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(
            **{
                k if k in base else f"{self._EXECUTOR}_{k}": v
                for k, v in self.params.items()
                if k not in init_keys
            }
        )
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        return executor

    def _job_dir(self, num: int) -> Optional[Path]:  # noqa: UP045
        """Job `num`'s output folder (hydra.sweep.subdir of the form ``...${hydra.job.num}...``)."""
        assert self.config is not None
        sweep = OmegaConf.to_container(self.config.hydra.sweep, resolve=False)
        subdir = str(sweep.get("subdir", "${hydra.job.num}")).replace("${hydra.job.num}", str(num))  # type: ignore[union-attr]
        return None if "${" in subdir else Path(str(self.config.hydra.sweep.dir)) / subdir

    def _watch(
        self,
        jobs: Sequence[Any],
        overrides: list[list[str]],
        nums: List[int],  # noqa: UP006
    ) -> List[JobReturn]:  # noqa: UP006
        """Every job's JobReturn, in order, as each ends; the early stop on the way."""
        from unlearn.experiment.slurm import ENDED, queue_states

        returns: List[Optional[JobReturn]] = [None] * len(jobs)  # noqa: UP006, UP045
        left_queue: Dict[int, float] = {}  # noqa: UP006
        order: List[int] = []  # noqa: UP006
        while len(order) < len(jobs):
            states = queue_states(j.job_id for i, j in enumerate(jobs) if returns[i] is None)
            for i, job in enumerate(jobs):
                if returns[i] is not None:
                    continue
                if job.paths.result_pickle.exists():
                    returns[i] = _from_pickle(job, overrides[i])
                    self._say_why(returns[i], job, nums[i])
                elif states is not None and states.get(job.job_id, "GONE") in ENDED | {"GONE"}:
                    since = left_queue.setdefault(i, time.monotonic())
                    if time.monotonic() - since < self.grace_s:  # the pickle may be on its way
                        continue
                    state = states.get(job.job_id, "no longer in the queue")
                    returns[i] = self._without_result(job, overrides[i], nums[i], state)
                else:
                    continue
                order.append(i)
                log.info("job %d (SLURM %s): %s (%d of %d ended)", nums[i], job.job_id,
                         _status(returns[i]), len(order), len(jobs))  # fmt: skip
                if len(order) == self.probe_jobs < len(jobs):
                    self._stop_if_environment([nums[k] for k in order], jobs)
            if len(order) < len(jobs):
                time.sleep(self.poll_s)
        return returns  # type: ignore[return-value]

    def _say_why(self, ret: JobReturn, job: Any, num: int) -> None:
        """A job that returned without finishing: its results.json's reason, in the log."""
        if _status(ret) in ("ok", "diverged", "raised"):
            return
        found = read_results(self._job_dir(num)) or {}
        log.warning("job %d (SLURM %s): %s: %s; resume: %s", num, job.job_id, _status(ret),
                    found.get("reason"), found.get("resume"))  # fmt: skip

    def _without_result(self, job: Any, overrides: List[str], num: int, state: str) -> JobReturn:  # noqa: UP006
        """A job that ended without a result pickle: its results.json's status, else failed."""
        folder = self._job_dir(num)
        results = read_results(folder)
        if results and results.get("status") == "interrupted":
            status = "interrupted"
            log.warning("job %d (SLURM %s, %s): %s; resume: %s", num, job.job_id, state,
                        results.get("reason"), results.get("resume"))  # fmt: skip
        else:
            status = "failed"
            log.error("job %d (SLURM %s) ended (%s) without a result; its log: %s", num,
                      job.job_id, state, job.paths.stderr)  # fmt: skip
        return JobReturn(
            overrides=overrides,
            working_dir=str(folder or ""),
            status=JobStatus.COMPLETED,
            _return_value=status,
        )

    def _stop_if_environment(self, nums: List[int], jobs: Sequence[Any]) -> None:  # noqa: UP006
        """The first jobs to end all failed alike for the environment: cancel the rest, exit 2."""
        reason = environment_reason([read_results(self._job_dir(n)) for n in nums])
        if reason is None:
            return
        subprocess.run(["scancel", _array_id(jobs)], check=False)
        print(
            f"error: sweep stopped: its first {len(nums)} jobs to finish failed alike, for the "
            f"environment: {reason} (the other {len(jobs) - len(nums)} jobs were cancelled)",
            file=sys.stderr,
        )
        sys.exit(2)


def _array_id(jobs: Sequence[Any]) -> str:
    return str(jobs[0].job_id).split("_")[0]


def _from_pickle(job: Any, overrides: List[str]) -> JobReturn:  # noqa: UP006
    try:
        return job.results()[0]
    except Exception as err:  # noqa: BLE001 (the job raised: recorded as Hydra records it)
        return JobReturn(overrides=overrides, status=JobStatus.FAILED, _return_value=err)


def _status(ret: Optional[JobReturn]) -> str:  # noqa: UP045
    if ret is None or ret.status != JobStatus.COMPLETED:
        return "raised"
    return str(ret._return_value)
