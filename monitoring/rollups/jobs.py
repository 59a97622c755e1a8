"""The "deployment_monitoring" job: bring a window's hourly rows up to date, then its drift,
daily performance against ground truth and the deployment's status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone

from monitoring import services
from monitoring.alerts import services as alerting
from monitoring.choices import JobState
from monitoring.models import JobRun
from monitoring.performance import services as performance
from monitoring.rollups.drift import drift_compute
from monitoring.rollups.hourly import (
    HOUR,
    floor_hour,
    hour_runs,
    hours_to_build,
    summaries_build,
)
from monitoring.rollups.profiles import ReferenceMissing, reference_profile_get_or_build
from monitoring.rollups.quality import data_quality_compute
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
    progress: Callable[[float], None] = lambda fraction: None,
) -> dict[str, Any]:
    """Build the window's missing or stale hours, then store its drift. Safe to repeat."""
    try:
        profile = reference_profile_get_or_build(deployment.version)
    except ReferenceMissing as exc:
        # Performance and status need no reference data: keep them current regardless.
        return {"deployment": deployment.pk, "skipped": str(exc)} | _performance(
            deployment, start, end
        )
    hours = hours_to_build(deployment, start, end, profile.digest)
    runs = hour_runs(hours)
    for done, (run_start, run_end) in enumerate(runs, start=1):
        summaries_build(deployment, run_start, run_end)
        progress(0.8 * done / len(runs))
    results = drift_compute(deployment, start, end)
    performance_figures = _performance(deployment, start, end)
    progress(1.0)
    return {
        "deployment": deployment.pk,
        "window": [start.isoformat(), end.isoformat()],
        "hours_built": len(hours),
        "features": len(results),
        "drifted": [row.feature for row in results if row.drifted],
    } | performance_figures


def _performance(deployment: Deployment, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The window's hourly data quality, daily performance of its days, then the status from
    them, drift and health, then the alert rules against all of it."""
    quality = data_quality_compute(deployment=deployment, start=start, end=end)
    days = performance.performance_days_compute(deployment=deployment, start=start, end=end)
    verdicts = performance.deployment_status_compute(deployment=deployment)
    return quality | {
        "performance_days": len(days),
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
        services.job_create(kind=KIND, params={"deployment_id": pk}).pk
        for pk in active
        if pk not in busy
    ]
