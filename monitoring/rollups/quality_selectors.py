"""Reads of the hourly data-quality rows: a window's figures per feature are the sums of its
hours' counts (engines/quality_counts.py), for the API, the dashboard tab, the status axis and
alert rules alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from monitoring.engines.quality_counts import (
    FIGURES,
    QualityCounts,
    merge_all_counts,
    worst_shares,
)
from monitoring.models import HourlyQuality
from monitoring.rollups.hourly import HOUR, floor_hour
from registry.models import Deployment

DEFAULT_HOURS = 168


def default_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The last seven days up to the end of the current hour."""
    end = floor_hour(now or timezone.now()) + HOUR
    return end - DEFAULT_HOURS * HOUR, end


def quality_rows(
    *, deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> list[HourlyQuality]:
    """The stored hours in [start, end), oldest first (one query)."""
    return list(
        HourlyQuality.objects.filter(deployment=deployment, hour__gte=start, hour__lt=end).order_by(
            "hour"
        )
    )


def hour_counts(row: HourlyQuality) -> dict[str, QualityCounts]:
    """{feature: counts} of one stored hour."""
    return {name: QualityCounts.from_dict(data) for name, data in row.features.items()}


def merge_hours(hours: Iterable[dict[str, QualityCounts]]) -> dict[str, QualityCounts]:
    """Pure: {feature: the window's counts}, the sums of the hours' counts."""
    parts: dict[str, list[QualityCounts]] = {}
    for counts in hours:
        for name, part in counts.items():
            parts.setdefault(name, []).append(part)
    merged = {name: merge_all_counts(counts) for name, counts in parts.items()}
    return {name: counts for name, counts in merged.items() if counts is not None}


def merged_counts(rows: list[HourlyQuality]) -> dict[str, QualityCounts]:
    """{feature: the window's counts}: the sums of the hours' counts."""
    return merge_hours(hour_counts(row) for row in rows)


def _ordered(deployment: Deployment, names: list[str]) -> list[str]:
    """The input schema's order, then any feature the schema no longer lists."""
    declared = [str(spec["name"]) for spec in deployment.version.input_schema]
    return [n for n in declared if n in names] + sorted(set(names) - set(declared))


def quality_window(
    *,
    deployment: Deployment,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> dict[str, Any]:
    """Per feature, the window's counts and shares; per hour, each feature's counts. A window
    without stored hours has no features (the "no traffic yet" state)."""
    default_start, default_end = default_window()
    start, end = start or default_start, end or default_end
    rows = quality_rows(deployment=deployment, start=start, end=end)
    merged = merged_counts(rows)
    names = _ordered(deployment, list(merged))
    return {
        "deployment": deployment.pk,
        "start": start,
        "end": end,
        "hours": len(rows),
        "events": sum(row.count for row in rows),
        "features": [{"feature": name} | merged[name].figures() for name in names],
        "hourly": [
            {
                "hour": row.hour,
                "events": row.count,
                "features": {
                    name: {
                        key: value
                        for key, value in data.items()
                        if key not in ("type", "unseen_examples")
                    }
                    for name, data in row.features.items()
                },
            }
            for row in rows
        ],
    }


def quality_worst(
    *, deployment: Deployment, since: dt.datetime, feature: str | None = None
) -> dict[str, tuple[str, float]]:
    """Per share (missing, type errors, out of range, unseen), the worst feature's since
    `since` (or the one `feature`'s); {} without stored hours."""
    rows = HourlyQuality.objects.filter(deployment=deployment, hour__gte=since)
    return worst_in(list(rows), feature=feature)


def worst_in(
    rows: list[HourlyQuality], *, feature: str | None = None
) -> dict[str, tuple[str, float]]:
    """Pure: per share, the worst feature's over `rows` (or the one `feature`'s)."""
    return worst_of(merged_counts(rows), feature=feature)


def worst_of(
    merged: dict[str, QualityCounts], *, feature: str | None = None
) -> dict[str, tuple[str, float]]:
    """Pure: per share, the worst feature's of a window's merged counts (or `feature`'s)."""
    if feature is not None:
        merged = {name: counts for name, counts in merged.items() if name == feature}
    return worst_shares(merged)


def quality_figure_names() -> tuple[str, ...]:
    return FIGURES
