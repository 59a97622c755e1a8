"""Reads of model quality: daily performance, the status row, settings and the portfolio."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from monitoring.engines.status import Level, Thresholds
from monitoring.models import DailyEstimate, DailyPerformance, DeploymentStatus
from registry.actors import Viewer
from registry.choices import DeploymentStatus as Lifecycle
from registry.choices import Task
from registry.models import Deployment

_HEADLINE: dict[str, str] = {
    Task.BINARY: "accuracy",
    Task.MULTICLASS: "accuracy",
    Task.REGRESSION: "r2",
}


def headline_metric(task: str) -> str:
    """The metric a model is judged by: accuracy for classifiers, R² for regressors."""
    return _HEADLINE.get(task, "accuracy")


def performance_list(*, deployment: Deployment, days: int = 30) -> list[DailyPerformance]:
    """The deployment's daily rows over the last `days` UTC days, oldest first."""
    since = timezone.now().astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)
    return list(
        DailyPerformance.objects.filter(deployment=deployment, day__gte=since).order_by("day")
    )


def status_get(*, deployment: Deployment) -> DeploymentStatus | None:
    return DeploymentStatus.objects.filter(deployment=deployment).first()


def status_not_computed(*, deployment: Deployment) -> dict[str, Any]:
    """The status answer before the first computation: unknown on every axis."""
    unknown = {"level": str(Level.UNKNOWN), "reason": "status not computed yet"}
    return {"deployment": deployment.pk, "computed_at": None} | {
        axis: dict(unknown) for axis in DeploymentStatus.AXES
    }


def thresholds_effective(stored: dict[str, Any], *, task: str | None = None) -> dict[str, float]:
    """The stored overrides on top of the engines' defaults for the model's task."""
    return Thresholds.from_dict(stored, task=task).to_dict()


def portfolio_counts(*, user: Viewer) -> dict[str, dict[str, int]]:
    """Per axis, how many active deployments the user may view are at each level (what the
    portfolio page counts); one without a status row counts as unknown on every axis."""
    visible = Deployment.objects.restrict(user, "view").filter(status=Lifecycle.ACTIVE)
    total = visible.count()
    rows = DeploymentStatus.objects.filter(deployment__in=visible.values("pk"))
    counts: dict[str, dict[str, int]] = {}
    for axis in DeploymentStatus.AXES:
        levels = {str(level): 0 for level in Level}
        for entry in rows.values(f"{axis}_level").annotate(n=Count("pk")):
            levels[entry[f"{axis}_level"]] = entry["n"]
        levels[str(Level.UNKNOWN)] += total - sum(levels.values())
        counts[axis] = levels
    return counts


def window_mean(rows: Sequence[tuple[int, dict[str, Any]]], name: str, days: int) -> float | None:
    """Pure: the mean of metric `name` over the first `days` of `rows` ((labelled, metrics)
    of days with ground truth, newest first), weighted by labelled predictions; None when
    none of them has the metric. What an alert rule compares, now or in a preview."""
    pairs: list[tuple[int, float]] = [
        (n, float(m[name])) for n, m in rows[: max(days, 1)] if m.get(name) is not None
    ]
    weight = sum(n for n, _ in pairs)
    return sum(n * v for n, v in pairs) / weight if weight else None


def windowed_metric(deployment: Deployment, name: str, days: int) -> float | None:
    """The mean of a daily metric over the deployment's last `days` days with ground truth,
    weighted by each day's labelled predictions; None when no such day has the metric."""
    rows = (
        DailyPerformance.objects.filter(deployment=deployment, labelled__gt=0)
        .order_by("-day")
        .values_list("labelled", "metrics")[: max(days, 1)]
    )
    return window_mean(list(rows), name, days)


# --- estimated performance (CBPE / DLE) -------------------------------------------------------


def estimated_metric_latest(deployment: Deployment, metric: str) -> float | None:
    """The estimated value of `metric` (e.g. "accuracy", "f1", "roc_auc", "mae") on the
    deployment's latest day with an estimate; None when there is none. What retraining
    triggers read: the estimate exists before the labels do."""
    row = (
        DailyEstimate.objects.filter(deployment=deployment, predictions__gt=0)
        .order_by("-day")
        .values_list("estimated", flat=True)
        .first()
    )
    value = (row or {}).get(metric, {}).get("value")
    return None if value is None else float(value)


def estimated_window(deployment: Deployment, metric: str, days: int) -> float | None:
    """The estimated `metric` over the last `days` days with estimates, each day weighted
    by its predictions (what an "estimated" alert rule compares); None when none has it."""
    rows = (
        DailyEstimate.objects.filter(deployment=deployment, predictions__gt=0)
        .order_by("-day")
        .values_list("predictions", "estimated")[: max(days, 1)]
    )
    flat = [(n, {name: band.get("value") for name, band in est.items()}) for n, est in rows]
    return window_mean(flat, metric, days)


def estimate_list(
    *,
    deployment: Deployment,
    metric: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[DailyEstimate]:
    """The deployment's daily estimates, newest first; with `metric`, only days that
    estimate it; `since` / `until` bound the day (inclusive)."""
    rows = DailyEstimate.objects.filter(deployment=deployment).order_by("-day")
    if metric:
        rows = rows.filter(estimated__has_key=metric)
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    return rows
