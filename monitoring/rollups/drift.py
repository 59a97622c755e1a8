"""A window's drift: merge its hourly summaries per feature, compare with the reference.

Three kinds of rows are stored per window. Feature rows compare each declared feature; the
prediction row compares the predictions with the reference's target (prediction drift);
multivariate rows run the maximum mean discrepancy and the domain classifier on bounded row
samples (the profile's reference sample and the window's latest events).

Windows of at most `STEWARD_DRIFT_EXACT_MAX_ROWS` events take the exact path: the tests run on
the raw values of both sides (the reference dataset is read again), so small windows get
exact p-values rather than binned ones. Larger windows merge the hourly summaries: their cost
does not grow with the traffic (windows holding summaries posted instead of events, which
have no raw values, take this path too; multivariate rows need raw rows). Each row's
parameters say which made it ("source": "raw" or "summary").
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from steward_client.summaries import Summary

from monitoring import engines
from monitoring.engines.drift import feature_kind
from monitoring.models import DriftKind, DriftResult, HourlySummary, MonitoringSettings
from monitoring.models import ReferenceProfile as Profile
from monitoring.performance.drift_methods import KIND_KEYS
from monitoring.rollups.hourly import events_frame, feature_frame
from monitoring.rollups.posted import posted_counts
from monitoring.rollups.profiles import (
    PREDICTION_FEATURE,
    profile_summaries,
    read_reference_frame,
    reference_profile_get_or_build,
)
from registry.models import Deployment

# Predictions are judged by a distance (PSI, drift from 0.1) unless overridden: p-value tests
# flag every tiny change in the mix of labels at production volumes.
PREDICTION_METHOD = "psi"
MULTIVARIATE_SAMPLE_ROWS = 1_000
MULTIVARIATE_MIN_ROWS = 50
MULTIVARIATE_FEATURES = {"mmd": "__mmd__", "domain_classifier": "__domain_classifier__"}
DEFAULT_EXACT_MAX_ROWS = 20_000


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


def _row_values(result: engines.DriftResult, kind: str) -> dict[str, Any]:
    finite = math.isfinite(result.statistic)
    parameters = result.to_dict()["parameters"]
    if not finite:
        parameters["statistic"] = str(result.statistic)
    return {
        "kind": kind,
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


def method_override(
    overrides: Mapping[str, Any], feature: str, feature_type: str
) -> str | dict[str, Any] | None:
    """The deployment's method for a column: its own entry, else (predictions) PSI, else its
    kind's ("numerical" or "categorical"), else None (the engines choose)."""
    if feature in overrides:
        return overrides[feature]
    if feature == PREDICTION_FEATURE:
        return PREDICTION_METHOD
    kind = feature_kind(feature_type)
    return next((value for key, value in overrides.items() if KIND_KEYS.get(key) == kind), None)


def feature_drift(
    reference: Any,
    current: Any,
    feature_type: str,
    feature: str,
    override: str | dict[str, Any] | None = None,
) -> engines.DriftResult | None:
    """The engines' verdict, or None when a side holds no values (nothing to compare)."""
    if _count(reference) == 0 or _count(current) == 0:
        return None
    return engines.column_drift(
        reference, current, feature_type, override=override, fingerprint=True, column=feature
    )


def _count(values: Any) -> int:
    """Values present: a summary's count, or the non-missing raw values."""
    if isinstance(values, pd.Series):
        return int(values.notna().sum())
    return int(values.count)


def exact_max_rows() -> int:
    return int(getattr(settings, "STEWARD_DRIFT_EXACT_MAX_ROWS", DEFAULT_EXACT_MAX_ROWS))


def _window_rows(currents: dict[str, Summary]) -> int:
    return max((summary.n_rows for summary in currents.values()), default=0)


def _raw_sides(
    deployment: Deployment, profile: Profile, start: dt.datetime, end: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reference columns, window columns) as raw values, for the exact path."""
    names = list(profile.feature_types)
    numeric_prediction = profile.feature_types.get(PREDICTION_FEATURE) == "numeric"
    frame = events_frame(deployment, start, end)
    current = (
        feature_frame(frame, names, numeric_prediction=numeric_prediction)
        if not frame.empty
        else pd.DataFrame(columns=names)
    )
    reference = read_reference_frame(profile)
    return reference.reindex(columns=names), current


def _multivariate(
    deployment: Deployment, profile: Profile, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, engines.DriftResult]]:
    """MMD and the domain classifier on the profile's reference sample against the window's
    latest events (both bounded), over the features both sides hold."""
    from monitoring.engines import multivariate  # scikit-learn: loaded only when needed

    features = [name for name in profile.feature_types if name != PREDICTION_FEATURE]
    reference = pd.DataFrame.from_records(profile.sample or [], columns=features)
    latest = events_frame(deployment, start, end, latest=MULTIVARIATE_SAMPLE_ROWS)
    if len(reference) < MULTIVARIATE_MIN_ROWS or len(latest) < MULTIVARIATE_MIN_ROWS:
        return []
    current = feature_frame(latest, features)
    usable = [name for name in features if reference[name].notna().any()]
    usable = [name for name in usable if current[name].notna().any()]
    if not usable:
        return []
    categorical = [n for n in usable if feature_kind(profile.feature_types[n]) == "categorical"]
    ref_matrix, cur_matrix = multivariate.feature_matrix(reference, current, usable, categorical)
    # The rows record what they compared, as the per-feature rows do with their summaries.
    ref_digest = multivariate.matrix_digest(ref_matrix, usable)
    cur_digest = multivariate.matrix_digest(cur_matrix, usable)
    mmd = multivariate.mmd_test(ref_matrix, cur_matrix, max_samples=500)
    classifier = multivariate.domain_classifier_test(ref_matrix, cur_matrix, model="logistic")
    return [
        ("mmd", replace(mmd, reference_digest=ref_digest, current_digest=cur_digest)),
        (
            "domain_classifier",
            replace(classifier, reference_digest=ref_digest, current_digest=cur_digest),
        ),
    ]


@transaction.atomic
def drift_compute(
    deployment: Deployment,
    start: dt.datetime,
    end: dt.datetime,
    *,
    exact: bool | None = None,
    multivariate: bool = True,
) -> list[DriftResult]:
    """Store the window [start, end)'s drift rows (see the module docstring), replacing any
    earlier result for the same window and feature. `exact` None: the exact path when the
    window holds at most `exact_max_rows()` events and no posted summaries. Features without
    values in the window or in the reference get no row. The hourly summaries must be built
    beforehand."""
    profile = reference_profile_get_or_build(deployment.version)
    references: dict[str, Any] = profile_summaries(profile)
    currents: dict[str, Any] = window_summaries(deployment, start, end, profile.digest)
    if exact is None:
        # Rows posted as summaries have no raw values: such a window takes the summary path.
        exact = 0 < _window_rows(currents) <= exact_max_rows() and not posted_counts(
            deployment, start, end, profile.digest
        )
    if exact:
        raw_reference, raw_current = _raw_sides(deployment, profile, start, end)
        references = {name: raw_reference[name] for name in references}
        currents = {name: raw_current[name] for name in currents if name in raw_current}
    settings_row = MonitoringSettings.objects.filter(deployment=deployment).first()
    overrides = settings_row.drift_methods if settings_row else {}
    # Which reference each row was computed against, kept on the row itself.
    provenance = {
        "profile_digest": profile.digest,
        "reference_dataset_id": profile.dataset_id,
        "reference_sha256": profile.dataset_sha256,
    }
    stored = []
    for feature, current in sorted(currents.items()):
        reference = references.get(feature)
        if reference is None:
            continue
        feature_type = profile.feature_types[feature]
        verdict = feature_drift(
            reference,
            current,
            feature_type,
            feature,
            method_override(overrides, feature, feature_type),
        )
        if verdict is None:
            continue
        kind = DriftKind.PREDICTION if feature == PREDICTION_FEATURE else DriftKind.FEATURE
        values = _row_values(verdict, kind) | provenance
        stored.append(_store(deployment, start, end, feature, values))
    if multivariate:
        for method, verdict in _multivariate(deployment, profile, start, end):
            values = _row_values(verdict, DriftKind.MULTIVARIATE) | provenance
            stored.append(_store(deployment, start, end, MULTIVARIATE_FEATURES[method], values))
    return stored


def _store(
    deployment: Deployment,
    start: dt.datetime,
    end: dt.datetime,
    feature: str,
    values: dict[str, Any],
) -> DriftResult:
    row, _ = DriftResult.objects.update_or_create(
        deployment=deployment,
        window_start=start,
        window_end=end,
        feature=feature,
        defaults=values,
    )
    return row
