"""Reads of model quality: daily performance, the status row, settings and the portfolio."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count
from django.utils import timezone

from monitoring.engines.status import Level, Thresholds
from monitoring.models import DailyPerformance, DeploymentStatus
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


def windowed_metric(deployment: Deployment, name: str, days: int) -> float | None:
    """The mean of a daily metric over the deployment's last `days` days with ground truth,
    weighted by each day's labelled predictions; None when no such day has the metric."""
    rows = (
        DailyPerformance.objects.filter(deployment=deployment, labelled__gt=0)
        .order_by("-day")
        .values_list("labelled", "metrics")[: max(days, 1)]
    )
    pairs = [(n, m.get(name)) for n, m in rows if m.get(name) is not None]
    weight = sum(n for n, _ in pairs)
    return sum(n * float(v) for n, v in pairs) / weight if weight else None
