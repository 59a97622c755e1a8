"""Record a job run and send it to the workers; send again the runs a lost broker left queued."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from monitoring.choices import JobState
from monitoring.jobs import kinds
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun

logger = logging.getLogger(__name__)
REDISPATCH_BATCH = 500


def job_create(*, kind: str, params: dict[str, Any] | None = None, actor: Any = None) -> JobRun:
    """Record a queued run and send it to the workers once the transaction commits. When the
    broker is down the run stays recorded as queued and `jobs_redispatch` sends it later."""
    job = JobRun.objects.create(
        kind=kind,
        params=params or {},
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: job_dispatch(job_id=job.pk, kind=kind))
    return job


def job_dispatch(*, job_id: int, kind: str) -> bool:
    """Send the run's message to its kind's queue; False (logged, not raised) when the broker
    cannot be reached. The row is already committed, so the caller's request must not fail
    for it."""
    try:
        run_job.apply_async((job_id,), queue=kinds.queue_for(kind))
    except (BrokerError, ConnectionError) as exc:  # refused, reset, timed out
        logger.warning("job run %s left queued: the broker is unreachable (%s)", job_id, exc)
        return False
    return True


def jobs_redispatch(*, older_than_s: float | None = None) -> int:
    """Send again the runs still queued after `older_than_s` (STEWARD_JOB_REDISPATCH_S): their
    first message was lost with the broker or never sent. A second message for a run that
    was only waiting in a long queue is harmless: the claim lets one delivery run it.
    Returns how many were sent."""
    age = settings.STEWARD_JOB_REDISPATCH_S if older_than_s is None else older_than_s
    cutoff = timezone.now() - dt.timedelta(seconds=age)
    stale = JobRun.objects.filter(state=JobState.QUEUED, created_at__lte=cutoff).order_by("pk")
    runs = list(stale.values_list("pk", "kind")[:REDISPATCH_BATCH])
    return sum(job_dispatch(job_id=pk, kind=kind) for pk, kind in runs)
