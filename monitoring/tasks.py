"""Celery tasks: thin wrappers that claim a JobRun row and call a service."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from monitoring import integrity, services
from monitoring.models import JobRun
from monitoring.rollups import jobs as rollup_jobs

# kind -> function(job, progress) returning a JSON-ready result
JOBS: dict[str, Callable[..., Any]] = {
    "artifact_integrity_scan": lambda job, progress: integrity.scan_stored_files(progress=progress),
    rollup_jobs.KIND: rollup_jobs.run,
}


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
    worker = f"{socket.gethostname()}:{self.request.id}"
    if not services.job_claim(job_id=job_id, worker=worker):
        return
    job = JobRun.objects.get(pk=job_id)
    try:
        result = JOBS[job.kind](job, lambda f: services.job_progress(job=job, fraction=f))
    except Exception as exc:
        will_retry = job.attempts < settings.STEWARD_JOB_MAX_ATTEMPTS
        services.job_fail(job=job, error=exc, will_retry=will_retry)
        if will_retry:
            raise self.retry(exc=exc, countdown=min(2**job.attempts, 300)) from exc
        return
    services.job_succeed(job=job, result=result)


@shared_task(acks_late=True)
def start_job(kind: str, params: dict[str, Any] | None = None) -> int:
    """Entry point for beat: record a run and dispatch it."""
    return services.job_create(kind=kind, params=params).pk


@shared_task(acks_late=True)
def schedule_deployment_monitoring() -> list[int]:
    """Entry point for beat: one "deployment_monitoring" run per active deployment."""
    return rollup_jobs.monitoring_schedule()
