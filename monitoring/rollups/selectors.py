"""Reads of the rollups for the API: drift per window, service health by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from django.db.models import QuerySet
from django.utils import timezone

from monitoring.models import DriftResult, HourlyHealth, ReferenceProfile
from monitoring.rollups.profiles import CHOSEN, ReferenceMissing, reference_origin
from registry.models import Deployment, ModelVersion

DAY_SECONDS = 86_400.0


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


def _weighted(frame: pd.DataFrame, value: str, weight: str) -> pd.Series:
    """Per day, the mean of `value` weighted by `weight`, ignoring hours without a value."""
    known = frame[value].notna()
    numerator = (frame[value].fillna(0.0) * frame[weight] * known).groupby(frame["day"]).sum()
    denominator = (frame[weight] * known).groupby(frame["day"]).sum()
    return (numerator / denominator.where(denominator > 0)).astype(float)


def health_daily(*, deployment: Deployment, days: int = 7) -> list[dict[str, Any]]:
    """Daily service health over the last `days` UTC days, rolled up from the hourly rows.
    Counts, rates and means are exact; a day's latency quantiles are the means of its hours'
    quantiles weighted by their request counts (an estimate: quantiles do not add up)."""
    today = timezone.now().astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - dt.timedelta(days=days - 1)
    fields = [f.name for f in HourlyHealth._meta.concrete_fields if f.name not in ("id",)]
    rows = HourlyHealth.objects.filter(deployment=deployment, hour__gte=since).values(*fields)
    frame = pd.DataFrame.from_records(list(rows), columns=fields)
    if frame.empty:
        return []
    frame["day"] = pd.to_datetime(frame["hour"], utc=True).dt.floor("D")
    sums = frame.groupby("day")[["count", "errors", "cache_hits", "cache_reported"]].sum()
    out = pd.DataFrame(
        {
            "count": sums["count"],
            "requests_per_second": sums["count"] / DAY_SECONDS,
            "error_rate": sums["errors"] / sums["count"].where(sums["count"] > 0),
            "cache_hit_rate": sums["cache_hits"]
            / sums["cache_reported"].where(sums["cache_reported"] > 0),
            "cpu_mean": _weighted(frame, "cpu_mean", "count"),
            "memory_mean": _weighted(frame, "memory_mean", "count"),
            **{
                name: _weighted(frame, name, "latency_count")
                for name in (
                    "latency_mean_ms",
                    "latency_p50_ms",
                    "latency_p95_ms",
                    "latency_p99_ms",
                )
            },
        }
    )
    return [
        {"day": day.date(), **{k: (None if pd.isna(v) else v) for k, v in values.items()}}
        for day, values in out.sort_index().to_dict("index").items()
    ]


def version_visible(*, user: Any, pk: int) -> QuerySet[ModelVersion]:
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
        "profile_digest": profile.digest if current else "",
        "missing": "",
    }
