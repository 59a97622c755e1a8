"""Reads of the rollups for the API: drift per window, service health by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from monitoring.engines import health
from monitoring.models import DriftResult, HourlyHealth, ReferenceProfile
from monitoring.rollups.profiles import CHOSEN, ReferenceMissing, reference_origin
from registry.actors import Viewer
from registry.models import Deployment, ModelVersion


def deployment_visible(*, user: Viewer, pk: int) -> QuerySet[Deployment]:
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


def version_visible(*, user: Viewer, pk: int) -> QuerySet[ModelVersion]:
    """The version `pk` if `user` may view it (an empty queryset otherwise)."""
    return ModelVersion.objects.restrict(user, "view").filter(pk=pk)


def reference_describe(*, version: ModelVersion) -> dict[str, Any]:
    """What the version's drift is compared with: the dataset, where it comes from (chosen,
    trained on, linked reference), the stored profile's digest; or why there is none."""
    profile = ReferenceProfile.objects.filter(version=version).only("digest", "dataset_id").first()
    try:
        dataset, origin = reference_origin(version)
    except ReferenceMissing as exc:
        return {
            "version": version.pk,
            "dataset": None,
            "origin": "",
            "chosen": False,
            "profile_digest": "",
            "missing": str(exc),
        }
    current = profile is not None and profile.dataset_id == dataset.pk
    return {
        "version": version.pk,
        "dataset": {
            "id": dataset.pk,
            "name": str(dataset),
            "kind": dataset.kind,
            "rows": dataset.row_count,
            "sha256": dataset.sha256,
        },
        "origin": origin,
        "chosen": origin == CHOSEN,
        # Empty until the profile is (re)built on this dataset by the next monitoring run.
        "profile_digest": profile.digest if profile is not None and current else "",
        "missing": "",
    }
