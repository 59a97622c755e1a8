"""The "deployment_monitoring" job: bring a window's hourly rows up to date, then its drift,
daily performance against ground truth and the deployment's status."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitoring.alerts import services as alerting
from monitoring.choices import JobState
from monitoring.jobs.queue import job_create
from monitoring.models import DriftResult, JobRun
from monitoring.performance import services as performance
from monitoring.performance.estimation import EstimationUnavailable, estimates_compute
from monitoring.rollups import staleness
from monitoring.rollups.drift import drift_compute
from monitoring.rollups.hourly import HOUR, floor_hour, hours_build, hours_to_build
from monitoring.rollups.profiles import ReferenceMissing, reference_profile_get_or_build
from monitoring.rollups.quality import data_quality_compute, quality_hours_update
from registry.choices import DeploymentStatus
from registry.models import Deployment

KIND = "deployment_monitoring"


def monitoring_window(
    hours: int, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """The last `hours` complete UTC hours: the current hour is still filling up."""
    end = floor_hour(now or timezone.now())
    return end - hours * HOUR, end


def deployment_monitor(
    *,
    deployment: Deployment,
    start: dt.datetime,
    end: dt.datetime,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Rebuild the stale hours (anywhere in time) and the window's missing or outdated ones,
    recompute the drift windows and days they belong to, then status and alerts. Each step
    adds its keys to the result. Safe to repeat."""
    result: dict[str, Any] = {"deployment": deployment.pk}
    try:
        profile = reference_profile_get_or_build(deployment.version)
    except ReferenceMissing as exc:
        # Performance, data quality and status need no reference data: keep them current
        # regardless. The stale marks stay until hours can be summarised on a reference.
        days = window_days(start, end) | days_of(staleness.stale_marks(deployment_id=deployment.pk))
        return (
            result
            | {"skipped": str(exc)}
            | _data_quality(deployment, start, end, [])
            | _performance(deployment, days)
        )
    report = progress or (lambda fraction: None)
    # Rebuilding hours is most of a long run: its share of the progress is 0 to 0.6, reported
    # per week of hours read (without a callback, the hours are read in one stream).
    scaled = None if progress is None else (lambda fraction: progress(0.6 * fraction))
    hours = _rollups(deployment, start, end, profile.digest, scaled)
    report(0.6)
    result |= {"window": [start.isoformat(), end.isoformat()], "hours_built": len(hours)}
    result |= _drift(deployment, start, end, hours)
    report(0.7)
    result |= _data_quality(deployment, start, end, hours)
    report(0.8)
    result |= _performance(deployment, window_days(start, end) | days_of(hours))
    report(1.0)
    return result


@transaction.atomic
def _rollups(
    deployment: Deployment,
    start: dt.datetime,
    end: dt.datetime,
    profile_digest: str,
    progress: Callable[[float], None] | None = None,
) -> list[dt.datetime]:
    """Claim the stale marks and rebuild their hours plus the window's hours that are missing
    or built on another profile, in one transaction: a failure leaves the marks in place."""
    marks = staleness.marks_claim(deployment_id=deployment.pk)
    hours = sorted(set(marks) | set(hours_to_build(deployment, start, end, profile_digest)))
    hours_build(deployment, hours, progress=progress)
    return hours


def _drift(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, hours: list[dt.datetime]
) -> dict[str, Any]:
    """The current window's drift, and again that of every stored window holding a rebuilt
    hour (its rows now summarise events it did not have before)."""
    results = drift_compute(deployment, start, end)
    for window_start, window_end in stored_windows(deployment, hours):
        if (window_start, window_end) != (start, end):
            drift_compute(deployment, window_start, window_end)
    return {
        "features": len(results),
        "drifted": [row.feature for row in results if row.drifted],
    }


def stored_windows(
    deployment: Deployment, hours: list[dt.datetime]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The windows of stored drift results that contain at least one of the hours."""
    if not hours:
        return []
    windows = (
        DriftResult.objects.filter(
            deployment=deployment, window_start__lte=hours[-1], window_end__gt=hours[0]
        )
        .order_by("window_start", "window_end")
        .values_list("window_start", "window_end")
        .distinct()
    )
    return [
        (ws, we)
        for ws, we in windows
        if (i := bisect.bisect_left(hours, ws)) < len(hours) and hours[i] < we
    ]


def window_days(start: dt.datetime, end: dt.datetime) -> set[dt.date]:
    """The UTC days touching [start, end)."""
    first = start.astimezone(dt.UTC).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(dt.UTC).date()
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


def days_of(hours: Iterable[dt.datetime]) -> set[dt.date]:
    return {hour.astimezone(dt.UTC).date() for hour in hours}


def _data_quality(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, hours: list[dt.datetime]
) -> dict[str, Any]:
    """The window's hourly data quality, and that of rebuilt hours outside it (a back-fill)."""
    figures = data_quality_compute(deployment=deployment, start=start, end=end)
    outside = [hour for hour in hours if not start <= hour < end]
    if outside:
        quality_hours_update(deployment=deployment, start=outside[0], end=outside[-1] + HOUR)
    return figures


def _performance(deployment: Deployment, days: set[dt.date]) -> dict[str, Any]:
    """Daily performance of the given days and their estimates (CBPE / DLE, which need no
    labels), then the status from them, drift and health, then the alert rules."""
    rows = performance.performance_days_list_compute(deployment=deployment, days=sorted(days))
    try:
        estimated: Any = len(estimates_compute(deployment=deployment, days=sorted(days)))
    except EstimationUnavailable as exc:
        estimated = f"not estimated: {exc}"
    verdicts = performance.deployment_status_compute(deployment=deployment)
    return {
        "performance_days": len(rows),
        "estimated_days": estimated,
        "status": {axis: getattr(verdicts, f"{axis}_level") for axis in verdicts.AXES},
        "alerts": alerting.alerts_evaluate(deployment=deployment),
    }


def run(job: JobRun, progress: Callable[[float], None]) -> dict[str, Any]:
    """JOBS entry: params {"deployment_id": int, "window_hours": int (default from settings)}."""
    deployment = Deployment.objects.select_related("version").get(pk=job.params["deployment_id"])
    hours = int(job.params.get("window_hours") or settings.STEWARD_MONITORING_WINDOW_HOURS)
    start, end = monitoring_window(hours)
    return deployment_monitor(deployment=deployment, start=start, end=end, progress=progress)


def monitoring_schedule() -> list[int]:
    """Queue one run per active deployment, except where one is already queued or running
    (a slow run is not stacked behind by the next hour's). Returns the new JobRun ids."""
    busy = set(
        JobRun.objects.filter(
            kind=KIND, state__in=[JobState.QUEUED, JobState.RUNNING, JobState.RETRYING]
        ).values_list("params__deployment_id", flat=True)
    )
    active = Deployment.objects.filter(status=DeploymentStatus.ACTIVE).values_list("pk", flat=True)
    return [
        job_create(kind=KIND, params={"deployment_id": pk}).pk for pk in active if pk not in busy
    ]
