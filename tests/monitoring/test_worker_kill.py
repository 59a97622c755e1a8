"""A worker killed mid-job (SIGKILL, no chance to clean up) on Redis: the job still completes,
exactly once, on another worker.

The message was delivered with acks_late, so it stays unacknowledged in Redis; once the
visibility timeout passes, the second worker puts it back on the queue and takes it. The run's
lease (its heartbeat is older than STEWARD_JOB_LEASE_S) lets that delivery claim it again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest
from django.conf import settings

from governance.models import AuditEvent
from monitoring import drill
from monitoring.choices import JobState
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from tests.conftest import need_service
from tests.monitoring.conftest import start_worker, stop_worker, worker_env

LEASE_S = 5
# Longer than the lease: by the time Redis hands the message out again, the dead worker's
# lease has run out (a delivery that comes earlier waits for it: monitoring.jobs.tasks).
VISIBILITY_TIMEOUT_S = 8


@pytest.fixture
def redis_broker() -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker (CELERY_BROKER_URL=redis://…)")
    need_service("Redis", "127.0.0.1", 6379)


def until(what: str, condition: Callable[[], bool], timeout: float, logs: list) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}:\n{p.read_text()[-3000:]}" for p in logs)
            raise AssertionError(f"{what}: not within {timeout:.0f}s\n{tails}")
        time.sleep(0.1)


def test_a_job_whose_worker_is_killed_completes_exactly_once_on_another(
    redis_broker, transactional_db, tmp_path
):
    env = worker_env(
        tmp_path,
        STEWARD_JOB_LEASE_S=str(LEASE_S),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT_S),
        CELERY_RESTORE_INTERVAL_S="1",
    )
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = start_worker(env, logs[0])
    second = None
    try:
        job = JobRun.objects.create(kind=drill.KIND, params={"steps": 20, "step_s": 0.25})
        run_job.delay(job.pk)

        def started() -> bool:
            job.refresh_from_db()
            return job.state == JobState.RUNNING and 0 < job.progress < 1

        until("the first worker starts the drill", started, 30, logs)
        first_claim = job.worker
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        job.refresh_from_db()
        assert job.state == JobState.RUNNING and job.progress < 1, "killed after it finished"

        second = start_worker(env, logs[1])

        def finished() -> bool:
            job.refresh_from_db()
            return job.state in (JobState.SUCCEEDED, JobState.FAILED)

        until("the second worker finishes the drill", finished, 45, logs)
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)

    assert job.state == JobState.SUCCEEDED, job.error
    assert job.attempts == 2
    assert job.worker != first_claim
    assert job.result == {"steps": 20, "attempt": 2}
    completions = AuditEvent.objects.filter(action=drill.COMPLETED, target_id=str(job.pk))
    assert [e.after["attempt"] for e in completions] == [2]
    assert completions.get().after["worker"] == job.worker
