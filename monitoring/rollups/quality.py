"""Hourly data quality: each hour's events checked per input-schema feature, stored as counts.

The reference a feature is checked against comes from the version's reference profile (the
finite range of a numeric feature, the complete vocabulary of a categorical one); a version
without reference data falls back on the categories its input schema declares, and its numeric
features get no range check. An hour is rebuilt when its row is missing, counts fewer events
than are stored now (late arrivals) or was checked against another reference: the same test
as the hourly summaries', so repeating the job stores nothing new.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from steward_client.summaries import (
    CategoricalSummary,
    NumericSummary,
    sha256_hex,
    summary_from_dict,
)

from monitoring.engines.drift import feature_kind
from monitoring.engines.quality_counts import FeatureReference, count_quality
from monitoring.models import HourlyQuality, ReferenceProfile
from monitoring.rollups.hourly import (
    event_counts,
    events_frame,
    feature_frame,
    floor_hour,
    hour_runs,
    outdated_hours,
)
from monitoring.rollups.profiles import ReferenceMissing, reference_profile_get_or_build
from registry.models import Deployment, ModelVersion


def _profile(version: ModelVersion) -> ReferenceProfile | None:
    try:
        return reference_profile_get_or_build(version)
    except ReferenceMissing:
        return None


def _reference_of(spec: dict[str, Any], profile: ReferenceProfile | None) -> FeatureReference:
    """One feature's reference: the profile's range or complete vocabulary, else the schema's
    declared categories."""
    name, feature_type = str(spec["name"]), str(spec["type"])
    kind = feature_kind(feature_type)
    stored = (profile.summaries if profile else {}).get(name)
    if stored is not None:
        summary = summary_from_dict(stored)
        if isinstance(summary, NumericSummary) and kind == "numeric":
            return FeatureReference(feature_type, summary.minimum, summary.maximum)
        if isinstance(summary, CategoricalSummary) and kind == "categorical":
            complete = summary.layout.complete
            return FeatureReference(
                feature_type, categories=summary.layout.categories if complete else None
            )
    if kind == "categorical" and "categories" in spec:
        return FeatureReference(feature_type, categories=tuple(map(str, spec["categories"])))
    return FeatureReference(feature_type)


def quality_references(version: ModelVersion) -> tuple[dict[str, FeatureReference], str]:
    """({feature: reference} for every input-schema feature, digest of them all)."""
    profile = _profile(version)
    references = {str(spec["name"]): _reference_of(spec, profile) for spec in version.input_schema}
    digest = sha256_hex({name: ref.to_dict() for name, ref in references.items()})
    return references, digest


def quality_hours_to_build(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, digest: str
) -> list[dt.datetime]:
    """Hours in [start, end) holding events whose quality row is missing, counts fewer events
    than are stored now, or was built against another reference. Two queries."""
    built = dict(
        HourlyQuality.objects.filter(
            deployment=deployment, hour__gte=start, hour__lt=end, reference_digest=digest
        ).values_list("hour", "count")
    )
    return outdated_hours(event_counts(deployment, start, end), built)


@transaction.atomic
def quality_build(
    deployment: Deployment,
    hour_start: dt.datetime,
    hour_end: dt.datetime,
    references: dict[str, FeatureReference],
    digest: str,
) -> int:
    """Check every hour in [hour_start, hour_end) that holds events, replacing those hours'
    rows (one read, one delete, one bulk insert). Returns the number of hours written."""
    frame = events_frame(deployment, floor_hour(hour_start), hour_end)
    if frame.empty:
        return 0
    features = feature_frame(frame, list(references))
    rows = []
    for hour, positions in frame.groupby("hour").indices.items():
        part = features.iloc[positions]
        checked = {
            name: count_quality(part[name].to_numpy(dtype=object), reference).to_dict()
            for name, reference in references.items()
        }
        rows.append(
            HourlyQuality(
                deployment=deployment,
                hour=hour.to_pydatetime(),
                count=len(positions),
                features=checked,
                reference_digest=digest,
            )
        )
    HourlyQuality.objects.filter(deployment=deployment, hour__in=[r.hour for r in rows]).delete()
    HourlyQuality.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def quality_hours_update(*, deployment: Deployment, start: dt.datetime, end: dt.datetime) -> int:
    """Bring the window's hourly quality rows up to date; returns how many hours were built."""
    references, digest = quality_references(deployment.version)
    hours = quality_hours_to_build(deployment, start, end, digest)
    for run_start, run_end in hour_runs(hours):
        quality_build(deployment, run_start, run_end, references, digest)
    return len(hours)


def data_quality_compute(
    *, deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    """The monitoring job's step: update the window's hours, and report how many hours of it
    have figures (the same on a repeat, so a repeated run reports the same result)."""
    quality_hours_update(deployment=deployment, start=start, end=end)
    stored = HourlyQuality.objects.filter(deployment=deployment, hour__gte=start, hour__lt=end)
    return {"quality_hours": stored.count()}
