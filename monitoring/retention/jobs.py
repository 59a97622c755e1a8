"""The retention job kinds, started daily by beat (CELERY_BEAT_SCHEDULE, portal/settings.py):
"raw_partitions" creates the coming months' partitions, "raw_retention" removes the verified
months older than STEWARD_RAW_RETENTION_DAYS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitoring.models import JobRun
from monitoring.retention import partitions, services

PARTITIONS_KIND = "raw_partitions"
RETENTION_KIND = "raw_retention"


def run_partitions(job: JobRun, progress: Callable[[float], None]) -> dict[str, Any]:
    """JOBS entry: params {"ahead": months (default 2)}."""
    ahead = int(job.params.get("ahead") or partitions.MONTHS_AHEAD)
    created = partitions.partitions_ensure(ahead=ahead, floor=services.horizons())
    return {"created": created}


def run_retention(job: JobRun, progress: Callable[[float], None]) -> dict[str, Any]:
    """JOBS entry: params {"days": retention days (default STEWARD_RAW_RETENTION_DAYS)}."""
    days = job.params.get("days")
    return services.raw_retention_apply(days=int(days) if days else None)
