"""The periodic entry points `CELERY_BEAT_SCHEDULE` names (portal/settings.py)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from monitoring.alerts import delivery
from monitoring.jobs import queue
from monitoring.rollups import jobs as rollup_jobs


@shared_task(acks_late=True)
def start_job(kind: str, params: dict[str, Any] | None = None) -> int:
    """Record a run of `kind` and dispatch it."""
    return queue.job_create(kind=kind, params=params).pk


@shared_task(acks_late=True)
def redispatch_queued_jobs() -> int:
    """Send again the runs left queued while the broker was away."""
    return queue.jobs_redispatch()


@shared_task(acks_late=True)
def schedule_deployment_monitoring() -> list[int]:
    """One "deployment_monitoring" run per active deployment."""
    return rollup_jobs.monitoring_schedule()


@shared_task(acks_late=True)
def retry_alert_deliveries() -> int:
    """Send again the failed alert webhooks that are due."""
    return delivery.deliveries_retry_due()
