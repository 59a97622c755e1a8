"""A job run's state changes: claim (compare-and-set with a lease), progress, finish. Each step is
one row update.

A task message may be delivered more than once (acks_late, a worker killed mid-job). The
claim makes that harmless: only one delivery moves a run from queued to running, and a
running claim whose lease expired (its worker died) may be taken over.
"""

from __future__ import annotations

import datetime as dt
import traceback
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from monitoring.choices import JobState
from monitoring.models import JobRun


def job_claim(*, job_id: int, worker: str) -> bool:
    """Take the run for this worker; False if another delivery holds it or it is finished."""
    now = timezone.now()
    lease = dt.timedelta(seconds=settings.STEWARD_JOB_LEASE_S)
    claimable = Q(state__in=[JobState.QUEUED, JobState.RETRYING]) | Q(
        state=JobState.RUNNING, heartbeat_at__lt=now - lease
    )
    changed = JobRun.objects.filter(claimable, pk=job_id).update(
        state=JobState.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker=worker,
        attempts=F("attempts") + 1,
    )
    return changed == 1


def job_lease_remaining(*, job_id: int) -> float | None:
    """Seconds until a running run's lease expires, or None when it is not running."""
    heartbeat = (
        JobRun.objects.filter(pk=job_id, state=JobState.RUNNING)
        .values_list("heartbeat_at", flat=True)
        .first()
    )
    if heartbeat is None:
        return None
    expires = heartbeat + dt.timedelta(seconds=settings.STEWARD_JOB_LEASE_S)
    return max(0.0, (expires - timezone.now()).total_seconds())


# The writes below match the claiming worker too: a worker that lost its lease (it stalled
# past it and another took the run over) can no longer report, finish or fail the run.


def job_progress(*, job: JobRun, fraction: float) -> None:
    """Report progress and renew the lease."""
    JobRun.objects.filter(pk=job.pk, state=JobState.RUNNING, worker=job.worker).update(
        progress=max(0.0, min(1.0, fraction)), heartbeat_at=timezone.now()
    )


def job_succeed(*, job: JobRun, result: Any) -> bool:
    """Mark the run succeeded; False when this worker no longer holds it."""
    changed = JobRun.objects.filter(pk=job.pk, state=JobState.RUNNING, worker=job.worker).update(
        state=JobState.SUCCEEDED,
        progress=1.0,
        result=result,
        error="",
        finished_at=timezone.now(),
    )
    return changed == 1


def job_fail(*, job: JobRun, error: BaseException, will_retry: bool) -> None:
    """Record the failure; a run that will be retried goes back to the claimable state."""
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    JobRun.objects.filter(pk=job.pk, state=JobState.RUNNING, worker=job.worker).update(
        state=JobState.RETRYING if will_retry else JobState.FAILED,
        error=text[:4000],
        finished_at=None if will_retry else timezone.now(),
    )
