"""Reads of the rollups for the API: drift per window, service health by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from monitoring.engines import health
from monitoring.models import DriftResult, HourlyHealth
from registry.models import Deployment


def deployment_visible(*, user: Any, pk: int) -> QuerySet[Deployment]:
    """The deployment `pk` if `user` may view it (an empty queryset otherwise)."""
    return Deployment.objects.restrict(user, "view").filter(pk=pk)


def drift_latest(
    *, deployment: Deployment, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[DriftResult]:
    """Per feature, the result of the latest window inside [start, end] (either bound may be
    left open), newest computation first on ties."""
    rows = DriftResult.objects.filter(deployment=deployment)
    if start is not None:
        rows = rows.filter(window_start__gte=start)
    if end is not None:
        rows = rows.filter(window_end__lte=end)
    latest: dict[str, DriftResult] = {}
    for row in rows.order_by("feature", "-window_end", "-window_start", "-computed_at"):
        latest.setdefault(row.feature, row)
    return list(latest.values())


def health_daily(*, deployment: Deployment, days: int = 7) -> list[dict[str, Any]]:
    """Daily service health over the last `days` UTC days, rolled up from the hourly rows by
    `monitoring.engines.health.daily_health` (days without rows are left out)."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - dt.timedelta(days=days - 1)
    rows = HourlyHealth.objects.filter(deployment=deployment, hour__gte=since).values(
        *health.HOURLY_FIELDS
    )
    return [
        {
            "day": day,
            "count": rollup.requests,
            "requests_per_second": rollup.requests_per_second,
            "error_rate": rollup.error_rate,
            "cache_hit_rate": rollup.cache_hit_rate,
            "cpu_mean": rollup.cpu_mean,
            "memory_mean": rollup.memory_mean,
            "latency_mean_ms": rollup.latency_mean_ms,
            "latency_p50_ms": rollup.latency_p50_ms,
            "latency_p95_ms": rollup.latency_p95_ms,
            "latency_p99_ms": rollup.latency_p99_ms,
        }
        for day, rollup in health.daily_health(rows).items()
    ]
