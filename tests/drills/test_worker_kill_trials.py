"""Failure drill: a worker SIGKILLed mid-job, twenty times over (Redis broker).

Built on the single trial in tests/monitoring/test_worker_kill.py and its helpers. Two
workers are kept running. Each trial sends a short drill, finds the worker that claimed it
(the claim names the process), kills that worker's whole process group once the drill is
under way, and starts its replacement at once. A surviving worker puts the unacknowledged
message back after the visibility timeout and, the dead worker's lease having run out,
completes the run, while the replacement boots: a trial costs one worker start, and the
start is hidden behind the wait.

Every trial must end succeeded, on attempt 2, on another worker, with exactly one
completion entry in the audit log. The filesystem broker deletes a message as it hands it
out, so a killed worker's message is gone and there is nothing to redeliver: skipped there.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from governance.models import AuditEvent
from monitoring import drill
from monitoring.choices import JobState
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from tests.monitoring.conftest import start_worker, stop_worker, worker_env
from tests.monitoring.test_worker_kill import (
    LEASE_S,
    redis_broker,  # noqa: F401 (a fixture)
    until,
)

TRIALS = 20
# Longer than the lease, as in the single trial; 1 s more is enough for a drill this short.
VISIBILITY_TIMEOUT_S = LEASE_S + 1
DRILL = {"steps": 8, "step_s": 0.1}


class Workers:
    """Two live workers, and a fresh one for each that is killed."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.logs: list[Path] = []
        self.alive: dict[int, subprocess.Popen] = {}
        for _ in range(2):
            self.start()

    def start(self) -> None:
        log = self.folder / f"worker-{len(self.logs)}.log"
        self.logs.append(log)
        proc = start_worker(self.env, log)
        self.alive[proc.pid] = proc

    def kill_holder(self, claim: str) -> None:
        """SIGKILL the worker whose pool process made `claim` ("node:pid:task")."""
        group = os.getpgid(int(claim.split(":")[1]))
        os.killpg(group, signal.SIGKILL)
        self.alive.pop(group).wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.alive.values():
            stop_worker(proc)


def state_is(job: JobRun, *states: str, under_way: bool = False):
    def check() -> bool:
        job.refresh_from_db()
        return job.state in states and (not under_way or 0 < job.progress < 1)

    return check


def one_trial(workers: Workers) -> tuple[JobRun, str]:
    """Kill the worker running a drill, start its replacement; wait for the drill's end."""
    job = JobRun.objects.create(kind=drill.KIND, params=DRILL)
    run_job.delay(job.pk)
    until(f"run {job.pk} starts", state_is(job, JobState.RUNNING, under_way=True), 60, workers.logs)
    killed_claim = job.worker
    workers.kill_holder(killed_claim)
    job.refresh_from_db()
    assert job.state == JobState.RUNNING and job.progress < 1, "killed after it finished"
    workers.start()
    finished = state_is(job, JobState.SUCCEEDED, JobState.FAILED)
    until(f"run {job.pk} finishes after the kill", finished, 45, workers.logs)
    return job, killed_claim


def test_twenty_killed_workers_each_leave_their_job_completed_exactly_once(
    redis_broker,  # noqa: F811
    transactional_db,
    tmp_path,
):
    env = worker_env(
        tmp_path,
        STEWARD_JOB_LEASE_S=str(LEASE_S),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S),
        CELERY_RESTORE_INTERVAL_S="1",
        # A worker killed while it held the restore lock would stall every restore until
        # the lock expires (300 s by default).
        CELERY_UNACKED_MUTEX_EXPIRE_S="3",
    )
    workers = Workers(env, tmp_path)
    try:
        trials = [one_trial(workers) for _ in range(TRIALS)]
    finally:
        workers.stop_all()

    assert len(workers.logs) == 2 + TRIALS  # one restart per trial
    for job, killed_claim in trials:
        assert job.state == JobState.SUCCEEDED, job.error
        assert job.attempts == 2 and job.worker != killed_claim
        events = AuditEvent.objects.filter(action=drill.COMPLETED, target_id=str(job.pk))
        assert [e.after["attempt"] for e in events] == [2], f"run {job.pk}"
