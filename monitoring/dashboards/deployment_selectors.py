"""Reads behind the deployment dashboards (service health, performance, drift, training vs
production data). Every function reads rollups only (never prediction events), in a fixed
number of queries whatever the number of features, days or other deployments; the deployment
itself comes from `deployment_get`, which restricts to what the user may view (404 otherwise).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from monitoring import engines
from monitoring.dashboards import deployment_shaping as shaping
from monitoring.engines import health
from monitoring.engines.status import Level
from monitoring.models import (
    AlertRule,
    AlertSource,
    AlertState,
    DailyEstimate,
    DailyPerformance,
    DeploymentActivity,
    DeploymentStatus,
    DriftKind,
    DriftResult,
    HourlyHealth,
    HourlySummary,
    MonitoringSettings,
    ReferenceProfile,
)
from monitoring.performance.selectors import headline_metric, thresholds_effective
from monitoring.rollups.profiles import PREDICTION_FEATURE
from monitoring.rollups.selectors import drift_latest, reference_describe
from registry.actors import Viewer
from registry.choices import Action, Task
from registry.models import Dataset, Deployment

DAY = dt.timedelta(days=1)
# How far back, from the newest drift window, older per-feature results are still shown.
DRIFT_LOOKBACK = dt.timedelta(days=7)
CLASSIFICATION_METRICS = (
    ("accuracy", "Accuracy"),
    ("roc_auc", "AUC"),
    ("gini_norm", "Gini norm"),
    ("log_loss", "LogLoss"),
    ("ks", "Kolmogorov-Smirnov"),
    ("precision", "Precision"),
    ("recall", "Recall"),
    ("f1", "F1"),
)
MULTICLASS_METRICS = (
    ("accuracy", "Accuracy"),
    ("macro_f1", "Macro F1"),
    ("roc_auc", "AUC (macro one-vs-rest)"),
)
REGRESSION_METRICS = (("mae", "MAE"), ("rmse", "RMSE"), ("r2", "R²"), ("mape", "MAPE"))
LEVEL_LABELS = {
    "good": "Good",
    "at_risk": "At risk",
    "failing": "Failing",
    "unknown": "Unknown",
}
AXIS_LABELS = {
    "accuracy": "Accuracy",
    "drift": "Drift",
    "service_health": "Service health",
    "data_quality": "Data quality",
}


def deployment_get(*, user: Viewer, pk: int) -> Deployment:
    """The deployment with its version, model and deployer if `user` may view it, else 404."""
    return get_object_or_404(
        Deployment.objects.restrict(user, Action.VIEW).select_related(
            "version__model", "deployed_by"
        ),
        pk=pk,
    )


def deployment_options(*, user: Viewer) -> list[tuple[int, str]]:
    """(pk, label) of every deployment the user may view, for the deployment selector."""
    rows = (
        Deployment.objects.restrict(user, Action.VIEW)
        .order_by("version__model__name", "-deployed_at", "-id")
        .values_list("pk", "version__model__name", "version__number", "environment", "status")
    )
    return [
        (pk, f"{name} v{number} · {env} · #{pk}" + ("" if status == "active" else f" ({status})"))
        for pk, name, number, env, status in rows
    ]


def status_levels(*, deployment: Deployment) -> list[dict[str, Any]]:
    """The status axes with level, label and reason ("unknown" before the first run)."""
    row = DeploymentStatus.objects.filter(deployment=deployment).first()
    out = []
    for axis in DeploymentStatus.AXES:
        level = getattr(row, f"{axis}_level") if row else str(Level.UNKNOWN)
        reason = getattr(row, f"{axis}_reason") if row else "status not computed yet"
        out.append(
            {
                "axis": axis,
                "name": AXIS_LABELS[axis],
                "level": level,
                "label": LEVEL_LABELS.get(level, level),
                "reason": reason,
                "computed_at": row.computed_at if row else None,
            }
        )
    return out


def activity_get(*, deployment: Deployment) -> DeploymentActivity | None:
    return DeploymentActivity.objects.filter(deployment=deployment).first()


def day_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first 00:00 UTC, the day after last 00:00 UTC)."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
    return start, dt.datetime.combine(last, dt.time.min, tzinfo=dt.UTC) + DAY


# --- service health ---------------------------------------------------------------------------


def health_range(*, deployment: Deployment, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Service health over the UTC days [first, last] from the hourly rows (one query):
    `totals` over the whole range and `days`, one entry per day."""
    start, end = day_bounds(first, last)
    rows = list(
        HourlyHealth.objects.filter(deployment=deployment, hour__gte=start, hour__lt=end)
        .order_by("hour")
        .values(*health.HOURLY_FIELDS)
    )
    return {
        "totals": shaping.health_totals(rows, (end - start).total_seconds()),
        "days": shaping.health_days(rows, first, last),
        "hours": len(rows),
    }


# --- performance ------------------------------------------------------------------------------


def metric_choices(task: str) -> tuple[tuple[str, str], ...]:
    if task == Task.REGRESSION:
        return REGRESSION_METRICS
    if task == Task.MULTICLASS:
        return MULTICLASS_METRICS
    return CLASSIFICATION_METRICS


def performance_range(
    *, deployment: Deployment, first: dt.date, last: dt.date
) -> list[DailyPerformance]:
    """The deployment's daily performance rows for the days [first, last], oldest first."""
    return list(
        DailyPerformance.objects.filter(
            deployment=deployment, day__gte=first, day__lte=last
        ).order_by("day")
    )


def metric_threshold(*, deployment: Deployment, metric: str) -> dict[str, Any] | None:
    """The line to draw for `metric`: the newest active metric alert rule on the deployment or
    its model; else, for the headline metric, the status threshold at which accuracy turns
    "at risk" (the deployment's override, else the default). None when neither applies."""
    rule = (
        AlertRule.objects.filter(source=AlertSource.METRIC, name=metric, active=True)
        .filter(Q(deployment=deployment) | Q(model_id=deployment.version.model_id))
        .order_by("-created_at", "-id")
        .first()
    )
    if rule is not None:
        return {
            "value": rule.threshold,
            "label": "Alert threshold",
            "source": f"alert rule: alert when {metric} {rule.get_comparator_display()} "
            f"{rule.threshold:g}",
        }
    if metric != headline_metric(deployment.version.model.task):
        return None
    stored = (
        MonitoringSettings.objects.filter(deployment=deployment)
        .values_list("thresholds", flat=True)
        .first()
    )
    value = thresholds_effective(stored or {})["accuracy_at_risk"]
    return {
        "value": value,
        "label": "At-risk threshold",
        "source": "status threshold: below it, accuracy is at risk",
    }


def performance_view(
    *, deployment: Deployment, metric: str, first: dt.date, last: dt.date
) -> dict[str, Any]:
    """The daily figures of `metric` over [first, last] (None on days without a figure), the
    training-time value and the threshold line."""
    rows = performance_range(deployment=deployment, first=first, last=last)
    by_day = {row.day: row for row in rows}
    days = shaping.day_list(first, last)
    training = deployment.version.training_metrics.get(metric)
    return {
        "rows": rows,
        "days": days,
        "values": [by_day[d].metrics.get(metric) if d in by_day else None for d in days],
        "labelled": sum(row.labelled for row in rows),
        "training": float(training) if isinstance(training, int | float) else None,
        "threshold": metric_threshold(deployment=deployment, metric=metric),
    }


# Estimated metric names where the realised one differs (multiclass macro F1 is CBPE's "f1").
ESTIMATE_NAME = {"macro_f1": "f1"}


def estimate_view(
    *, deployment: Deployment, metric: str, first: dt.date, last: dt.date
) -> dict[str, Any]:
    """The label-free estimates of `metric` over [first, last] for the chart and the table:
    per day the estimate, its band and (once labels arrived) how far off it was; empty lists
    of None where a day has no estimate of the metric."""
    name = ESTIMATE_NAME.get(metric, metric)
    rows = list(
        DailyEstimate.objects.filter(deployment=deployment, day__gte=first, day__lte=last).order_by(
            "day"
        )
    )
    by_day = {row.day: row.estimated.get(name) or {} for row in rows}
    days = shaping.day_list(first, last)

    def column(key: str) -> list[float | None]:
        return [by_day.get(d, {}).get(key) for d in days]

    errors = {row.day: row.error.get(name) for row in rows}
    reference = rows[-1].reference if rows else {}
    return {
        "rows": rows,
        "name": name,
        "values": column("value"),
        "lower": column("lower"),
        "upper": column("upper"),
        "errors": errors,
        "has_values": any(by_day.get(d, {}).get("value") is not None for d in days),
        "method": rows[-1].get_method_display() if rows else "",
        "calibration": reference.get("calibration"),
        "mean_abs_error": _mean_abs([e for e in errors.values() if e is not None]),
    }


def _mean_abs(values: list[float]) -> float | None:
    return sum(abs(v) for v in values) / len(values) if values else None


# --- drift ------------------------------------------------------------------------------------


def drift_results(*, deployment: Deployment) -> list[DriftResult]:
    """Per feature, the latest result within DRIFT_LOOKBACK of the newest window (two
    queries: the newest window end, then `drift_latest` from there)."""
    newest = DriftResult.objects.filter(deployment=deployment).aggregate(end=Max("window_end"))
    if newest["end"] is None:
        return []
    return drift_latest(deployment=deployment, start=newest["end"] - DRIFT_LOOKBACK)


def reference_profile(deployment: Deployment) -> ReferenceProfile | None:
    """The version's profile without its reference sample (only multivariate tests use it)."""
    return (
        ReferenceProfile.objects.filter(version_id=deployment.version_id)
        .select_related("dataset")
        .defer("sample")
        .first()
    )


def reference_panel(*, deployment: Deployment, user: Viewer) -> dict[str, Any]:
    """What the deployment's version is compared with (dataset, sha256, where it comes from,
    or why there is none) and, for a user who may change the model, the model's datasets to
    choose from instead. At most six queries."""
    panel = reference_describe(version=deployment.version)
    may_change = Deployment.objects.restrict(user, Action.CHANGE).filter(pk=deployment.pk).exists()
    choices = (
        list(
            Dataset.objects.filter(model_id=deployment.version.model_id, external=False)
            .order_by("name", "-number")
            .only("pk", "name", "number", "kind", "row_count")
        )
        if may_change
        else []
    )
    return panel | {"may_change": may_change, "choices": choices}


def window_summary_dicts(
    deployment: Deployment,
    windows: dict[str, tuple[dt.datetime, dt.datetime]],
    profile_digest: str,
) -> dict[str, dict[str, Any]]:
    """{feature: merged summary dict} of each feature's hours inside its own window, in one
    query over the span of all windows."""
    if not windows:
        return {}
    start = min(w[0] for w in windows.values())
    end = max(w[1] for w in windows.values())
    parts: dict[str, list[Any]] = defaultdict(list)
    rows = HourlySummary.objects.filter(
        deployment=deployment,
        feature__in=list(windows),
        hour__gte=start,
        hour__lt=end,
        profile_digest=profile_digest,
    ).values_list("feature", "hour", "summary")
    for feature, hour, data in rows.iterator():
        low, high = windows[feature]
        if low <= hour < high:
            parts[feature].append(engines.summary_from_dict(data))
    return {f: engines.merge_all(s).to_dict() for f, s in parts.items()}


def _drift_row(
    result: DriftResult,
    types: dict[str, str],
    importance: dict[str, Any],
    reference: dict[str, Any],
    current: dict[str, Any],
) -> dict[str, Any]:
    value = importance.get(result.feature)
    return {
        "feature": result.feature,
        "kind": result.kind,
        "type": types.get(result.feature, ""),
        "method": result.method,
        "statistic": result.statistic,
        "p_value": result.p_value,
        "threshold": result.threshold,
        "drifted": result.drifted,
        "score": shaping.drift_score(result.statistic, result.p_value, result.threshold),
        "importance": float(value) if isinstance(value, int | float) else None,
        "reference": shaping.summary_brief(reference.get(result.feature)),
        "current": shaping.summary_brief(current.get(result.feature)),
        "window_start": result.window_start,
        "window_end": result.window_end,
    }


def drift_view(*, deployment: Deployment) -> dict[str, Any]:
    """The latest drift per feature beside its importance and declared type, with a
    reference-vs-current brief from the profile and the window's hourly summaries: `features`
    (feature rows, by importance then score), `others` (prediction and multivariate rows),
    `window` (the newest window shown). Four queries, whatever the number of features."""
    results = drift_results(deployment=deployment)
    version = deployment.version
    types = {str(f.get("name")): str(f.get("type", "")) for f in version.input_schema}
    profile = reference_profile(deployment) if results else None
    reference = profile.summaries if profile else {}
    windows = {
        r.feature: (r.window_start, r.window_end) for r in results if r.kind != "multivariate"
    }
    current = window_summary_dicts(deployment, windows, profile.digest) if profile else {}
    rows = [_drift_row(r, types, version.feature_importance, reference, current) for r in results]
    features = [r for r in rows if r["kind"] == DriftKind.FEATURE]
    features.sort(key=lambda r: (-(r["importance"] or 0.0), -r["score"], r["feature"]))
    newest = max(results, key=lambda r: r.window_end) if results else None
    return {
        "features": features,
        "others": [r for r in rows if r["kind"] != DriftKind.FEATURE],
        "window": (newest.window_start, newest.window_end) if newest else None,
        "reference_sha256": newest.reference_sha256 if newest else "",
        "drifted": sum(r["drifted"] for r in features),
    }


# --- training vs production data ----------------------------------------------------------------


def feature_options(profile: ReferenceProfile | None) -> list[str]:
    """The profiled input features (the prediction pseudo-feature left out)."""
    if profile is None:
        return []
    return sorted(name for name in profile.layouts if name != PREDICTION_FEATURE)


def distribution_view(
    *, deployment: Deployment, feature: str | None, first: dt.date, last: dt.date
) -> dict[str, Any]:
    """Reference vs production shares of one feature (and of the predictions, when the
    profile holds the prediction pseudo-feature) over the UTC days [first, last]: two queries."""
    profile = reference_profile(deployment)
    options = feature_options(profile)
    chosen = feature if feature in options else (options[0] if options else None)
    out: dict[str, Any] = {"options": options, "feature": chosen, "profile": profile}
    if profile is None or chosen is None:
        return out | {"distribution": None, "prediction": None}
    start, end = day_bounds(first, last)
    wanted = [chosen] + ([PREDICTION_FEATURE] if PREDICTION_FEATURE in profile.summaries else [])
    current = window_summary_dicts(
        deployment, {name: (start, end) for name in wanted}, profile.digest
    )

    def shares(name: str) -> dict[str, Any] | None:
        if name not in profile.summaries:
            return None
        return shaping.distribution(profile.summaries[name], current.get(name))

    return out | {
        "distribution": shares(chosen),
        "prediction": shares(PREDICTION_FEATURE),
        "feature_type": profile.feature_types.get(chosen, ""),
    }


# --- the detail page ----------------------------------------------------------------------------


def open_alerts(*, deployment: Deployment) -> QuerySet[Any]:
    from monitoring.models import Alert

    return Alert.objects.filter(deployment=deployment).exclude(state=AlertState.RESOLVED)


def detail_monitoring(*, deployment: Deployment) -> dict[str, Any]:
    """What the deployment detail page shows of monitoring: the status axes, the activity
    totals, the reference dataset the profile was built on, the open alerts (four queries)."""
    profile = (
        ReferenceProfile.objects.filter(version_id=deployment.version_id)
        .select_related("dataset")
        .only("dataset__name", "dataset__number", "dataset__kind", "version_id")
        .first()
    )
    return {
        "status_levels": status_levels(deployment=deployment),
        "activity": activity_get(deployment=deployment),
        "reference_dataset": profile.dataset if profile else None,
        "open_alerts": list(open_alerts(deployment=deployment).select_related("rule")[:5]),
    }
