"""A window's drift: merge its hourly summaries per feature, compare with the reference."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

from django.db import transaction

from monitoring import engines
from monitoring.engines.summaries import Summary
from monitoring.models import DriftResult, HourlySummary
from monitoring.rollups.profiles import profile_summaries, reference_profile_get_or_build
from registry.models import Deployment


def window_summaries(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, profile_digest: str
) -> dict[str, Summary]:
    """{feature: merged summary} of the hours in [start, end) built on the given profile."""
    parts: dict[str, list[Summary]] = defaultdict(list)
    rows = HourlySummary.objects.filter(
        deployment=deployment, hour__gte=start, hour__lt=end, profile_digest=profile_digest
    ).values_list("feature", "summary")
    for feature, data in rows.iterator():
        parts[feature].append(engines.summary_from_dict(data))
    return {feature: engines.merge_all(summaries) for feature, summaries in parts.items()}


def _row_values(result: engines.DriftResult) -> dict[str, Any]:
    finite = math.isfinite(result.statistic)
    parameters = result.to_dict()["parameters"]
    if not finite:
        parameters["statistic"] = str(result.statistic)
    return {
        "method": result.method,
        "statistic": result.statistic if finite else None,
        "p_value": result.p_value,
        "threshold": result.threshold,
        "drifted": result.drifted,
        "parameters": parameters,
        "engine_version": result.engine_version,
        "reference_digest": result.reference_digest or "",
        "current_digest": result.current_digest or "",
    }


def feature_drift(
    reference: Summary, current: Summary, feature_type: str, feature: str
) -> engines.DriftResult | None:
    """The engines' verdict, or None when a side holds no values (nothing to compare)."""
    if reference.count == 0 or current.count == 0:
        return None
    return engines.column_drift(reference, current, feature_type, column=feature)


@transaction.atomic
def drift_compute(
    deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> list[DriftResult]:
    """Store one DriftResult per feature for the window [start, end) from its hourly summaries
    (built beforehand), replacing any earlier result for the same window. Features without
    values in the window or in the reference get no row."""
    profile = reference_profile_get_or_build(deployment.version)
    references = profile_summaries(profile)
    currents = window_summaries(deployment, start, end, profile.digest)
    stored = []
    for feature, current in sorted(currents.items()):
        reference = references.get(feature)
        if reference is None:
            continue
        verdict = feature_drift(reference, current, profile.feature_types[feature], feature)
        if verdict is None:
            continue
        row, _ = DriftResult.objects.update_or_create(
            deployment=deployment,
            window_start=start,
            window_end=end,
            feature=feature,
            defaults=_row_values(verdict),
        )
        stored.append(row)
    return stored
