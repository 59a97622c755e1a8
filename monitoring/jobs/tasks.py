"""The Celery task that runs a job: claim the run, call its kind's body, record the outcome."""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from monitoring.jobs import runs
from monitoring.jobs.kinds import JOBS
from monitoring.models import JobRun


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=5,
)
def run_job(self: Any, job_id: int) -> None:
    """Run one JobRun exactly once, however often its message is delivered."""
    # One identity per delivery: a redelivered message keeps its task id, so the worker's
    # node name and process tell a second delivery from the first.
    node = self.request.hostname or socket.gethostname()
    worker = f"{node}:{os.getpid()}:{self.request.id}"
    if not runs.job_claim(job_id=job_id, worker=worker):
        _wait_for_lease(self, job_id)
        return
    job = JobRun.objects.get(pk=job_id)
    try:
        result = JOBS[job.kind].body(job, lambda f: runs.job_progress(job=job, fraction=f))
    except Exception as exc:
        will_retry = job.attempts < settings.STEWARD_JOB_MAX_ATTEMPTS
        runs.job_fail(job=job, error=exc, will_retry=will_retry)
        if will_retry:
            raise self.retry(exc=exc, countdown=min(2**job.attempts, 300)) from exc
        return
    runs.job_succeed(job=job, result=result)


def _wait_for_lease(task: Any, job_id: int) -> None:
    """A delivery that found the run held by another worker comes back when that worker's
    lease ends: if the holder died, this delivery takes the run over then; if it is alive and
    still reporting, the next look finds it finished or holding a renewed lease. Without this,
    a message redelivered before the dead worker's lease ran out would be dropped and the run
    left "running" for good."""
    remaining = runs.job_lease_remaining(job_id=job_id)
    if remaining is None or task.request.retries >= task.max_retries:
        return
    raise task.retry(countdown=int(remaining) + 1)
